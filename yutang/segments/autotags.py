"""Auto-tags follow segment membership in the OLTP store, from a worker of their own.

Membership changes are written to the warehouse by whichever thread learns of them (the loader's, the relay's, a
request's); the tags they imply are queued here and written by this worker, so the loader and relay threads write
only the warehouse. A crash between the warehouse commit and the tag write leaves tags behind membership until
the next rebuild adds them, as before (applying a tag already present does nothing).
"""

import logging
import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.background import Background, Worker
from yutang.kit.errors import DomainError
from yutang.storage.engine import unit_of_work
from yutang.tags import service as tags_service
from yutang.workspaces.access import system_actor


@dataclass(frozen=True)
class TagChange:
    """Customers to tag and untag with a segment's auto-tag."""

    segment_id: int
    workspace_id: int
    timezone: str
    tag_id: int
    add: list[int]
    remove: list[int]


log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


class AutoTagger(Background):
    """Applies queued auto-tag changes in order: in the background, or at once through catch_up()."""

    def __init__(self, factory: sessionmaker[Session], *, idle_seconds: float = 5.0):
        self.factory = factory
        self._queue: list[TagChange] = []
        self._queue_lock = threading.Lock()
        self._apply_lock = threading.Lock()  # one applier at a time keeps each segment's changes in order
        self._failures = 0  # of the change at the head of the queue
        self.worker = Worker(self.catch_up, name="yutang-segment-tags", idle_seconds=idle_seconds)

    def queue(self, change: TagChange) -> None:
        """Tag and untag after the warehouse commit that decided it (cheap; wakes the worker)."""
        with self._queue_lock:
            self._queue.append(change)
        self.worker.wake()

    def catch_up(self) -> int:
        """Apply everything queued so far; returns how many changes were applied."""
        done = 0
        with self._apply_lock:
            while True:
                with self._queue_lock:
                    if not self._queue:
                        return done
                    change = self._queue[0]
                try:
                    self._apply(change)
                except Exception:  # noqa: BLE001 - left queued for the next round, up to MAX_ATTEMPTS
                    self._failures += 1
                    log.exception("auto-tags of segment %s failed (attempt %s)", change.segment_id, self._failures)
                    if self._failures < MAX_ATTEMPTS:
                        return done
                    # Given up as before this worker existed: the segment's next rebuild adds missing tags.
                with self._queue_lock:
                    self._queue.pop(0)
                self._failures = 0
                done += 1

    def pending(self) -> int:
        """Changes queued and not yet applied."""
        with self._queue_lock:
            return len(self._queue)

    def _apply(self, change: TagChange) -> None:
        actor = system_actor(change.workspace_id, timezone=change.timezone)
        with unit_of_work(self.factory) as session:
            try:
                tag = tags_service.get_tag(session, actor=actor, tag_id=change.tag_id)
            except DomainError:  # the tag was deleted since: nothing to apply
                log.info("auto-tag %s of segment %s is gone", change.tag_id, change.segment_id)
                return
            for customer_id, add in [(cid, True) for cid in change.add] + [(cid, False) for cid in change.remove]:
                try:
                    tags_service.apply(session, actor=actor, customer_ids=[customer_id], add=[tag] if add else [],
                                       remove=[] if add else [tag], source=f"segment:{change.segment_id}")
                except DomainError:  # merged or erased since: it takes no tags
                    continue
