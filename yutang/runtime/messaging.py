"""The sender job of a running server (one Dispatcher woken after every commit that queued messages) and the
broadcaster that starts due broadcasts."""

from datetime import datetime

from sqlalchemy import event

from yutang.kit.background import Background, Worker
from yutang.messaging import broadcasts
from yutang.messaging.dispatch import Dispatcher
from yutang.messaging.service import QUEUED_FLAG
from yutang.runtime.database import Database


def open_dispatcher(database: Database) -> Dispatcher:
    """A dispatcher on the database, woken after commits that queued messages (start() it to send)."""
    dispatcher = Dispatcher(database.factory)

    def wake(session) -> None:
        if session.info.pop(QUEUED_FLAG, False):
            dispatcher.wake()

    event.listen(database.factory, "after_commit", wake)
    return dispatcher


class Broadcaster(Background):
    """Starts due broadcasts: a background check every `idle_seconds` (and at once when woken)."""

    def __init__(self, database: Database, pipeline, *, idle_seconds: float = 30.0):
        self.database = database
        self.pipeline = pipeline
        self.worker = Worker(self.run_due, name="yutang-broadcaster", idle_seconds=idle_seconds)

    def run_due(self, *, now: datetime | None = None) -> dict[int, dict]:
        """Send every broadcast due by now; the relay catches up first so recent sends count against caps."""
        self.pipeline.catch_up()
        return broadcasts.start_due(self.database.factory, self.pipeline.warehouse, now=now)
