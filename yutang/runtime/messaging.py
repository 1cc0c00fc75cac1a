"""The sender job of a running server: one Dispatcher woken after every commit that queued messages."""

from sqlalchemy import event

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
