"""Every background thread of a server process, started and stopped in one place (the thread map is in
ARCHITECTURE.md). At scale the same components run in `yutang worker` processes; an API process started with
`--no-background` starts none of them."""

from dataclasses import dataclass

from sqlalchemy import event

from yutang.groupbuy.tasks import Cutoffs
from yutang.journeys import service as journeys_service
from yutang.journeys.runner import Runner
from yutang.loyalty.awards import Awarder
from yutang.messaging.dispatch import Dispatcher
from yutang.runtime.database import Database
from yutang.runtime.messaging import Broadcaster, open_dispatcher
from yutang.runtime.pipeline import Pipeline


@dataclass
class Workers:
    """The pipeline's workers (relay, loader, auto-tags, subscribers, event earning, journey events, scheduler),
    the sender, the broadcaster, the points awarder, the journey runner and the group-buy cut-offs."""

    pipeline: Pipeline
    dispatcher: Dispatcher
    broadcaster: Broadcaster
    awarder: Awarder
    journeys: Runner
    cutoffs: Cutoffs

    def start(self) -> None:
        """Start every background thread."""
        self.pipeline.start()
        self.awarder.start()
        self.dispatcher.start()
        self.broadcaster.start()
        self.journeys.start()
        self.cutoffs.start()

    def stop(self) -> None:
        """Stop every background thread, gracefully: what was taken is finished, nothing is dropped.

        Producers of work stop first: the broadcaster (queues sends), the sender, then the awarder, which refuses
        new awards and commits every award queued before; the pipeline's threads then stop and the pipeline is
        caught up once more, so nothing acknowledged waits in the journal, the outbox or the auto-tag queue.
        """
        self.cutoffs.stop()
        self.journeys.stop()
        self.broadcaster.stop()
        self.dispatcher.stop()
        self.awarder.stop()
        self.pipeline.pause()
        self.pipeline.catch_up()


def open_workers(database: Database, pipeline: Pipeline) -> Workers:
    """The server's background workers on the database and pipeline (start() them to run)."""
    runner = Runner(database.factory, lambda segment_id, customer_id: pipeline.segments.is_member(
        segment_id=segment_id, customer_id=customer_id))

    def wake_runner(session) -> None:
        if session.info.pop(journeys_service.WAKE_FLAG, False):
            runner.wake()

    event.listen(database.factory, "after_commit", wake_runner)
    return Workers(pipeline=pipeline, dispatcher=open_dispatcher(database),
                   broadcaster=Broadcaster(database, pipeline), awarder=Awarder(database.factory), journeys=runner,
                   cutoffs=Cutoffs(database.factory))
