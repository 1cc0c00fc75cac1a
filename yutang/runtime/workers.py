"""Every background thread of a server process, started and stopped in one place (the thread map is in
ARCHITECTURE.md). At scale the same components run in `yutang worker` processes; an API process started with
`--no-background` starts none of them."""

from dataclasses import dataclass

from yutang.loyalty.awards import Awarder
from yutang.messaging.dispatch import Dispatcher
from yutang.runtime.database import Database
from yutang.runtime.messaging import Broadcaster, open_dispatcher
from yutang.runtime.pipeline import Pipeline


@dataclass
class Workers:
    """The pipeline's workers (relay, loader, auto-tags, subscribers, event earning, scheduler), the sender, the
    broadcaster and the points awarder."""

    pipeline: Pipeline
    dispatcher: Dispatcher
    broadcaster: Broadcaster
    awarder: Awarder

    def start(self) -> None:
        """Start every background thread."""
        self.pipeline.start()
        self.awarder.start()
        self.dispatcher.start()
        self.broadcaster.start()

    def stop(self) -> None:
        """Stop every background thread, gracefully: what was taken is finished, nothing is dropped.

        Producers of work stop first: the broadcaster (queues sends), the sender, then the awarder, which refuses
        new awards and commits every award queued before; the pipeline's threads then stop and the pipeline is
        caught up once more, so nothing acknowledged waits in the journal, the outbox or the auto-tag queue.
        """
        self.broadcaster.stop()
        self.dispatcher.stop()
        self.awarder.stop()
        self.pipeline.pause()
        self.pipeline.catch_up()


def open_workers(database: Database, pipeline: Pipeline) -> Workers:
    """The server's background workers on the database and pipeline (start() them to run)."""
    return Workers(pipeline=pipeline, dispatcher=open_dispatcher(database),
                   broadcaster=Broadcaster(database, pipeline), awarder=Awarder(database.factory))
