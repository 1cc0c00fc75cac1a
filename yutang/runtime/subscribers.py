"""Outbox subscribers: side effects that run after commit, each reading the outbox from its own persisted cursor.

The relay marks rows relayed and never deletes them, so subscribers read the same rows independently. A
subscriber names the topics it wants and a handler; a background worker hands it each new row in outbox-id
order, inside a savepoint of a unit of work that also moves its cursor, so a row's effect and the cursor commit
together. Handlers are idempotent anyway (ledger keys), so re-delivery after a crash is harmless.

On PostgreSQL, ids come from a sequence taken before commit: a row with a smaller id can become visible after a
larger one. Ids skipped over are kept as gaps and read again until they appear or are older than GAP_SECONDS
(a rolled-back transaction leaves its ids unused for ever). SQLite writers are serial, so it has no such gaps.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.background import Background, Worker
from yutang.kit.clock import utcnow
from yutang.storage import cursors
from yutang.storage.engine import unit_of_work
from yutang.storage.outbox import OutboxRow
from yutang.warehouse.replica import Change

log = logging.getLogger(__name__)
GAP_SECONDS = 3600  # longer than any transaction that writes outbox rows (a large import) may take
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Subscription:
    """A named consumer of some outbox topics; handler(session, change) runs once per row (idempotently)."""

    name: str
    topics: frozenset[str]
    handler: Callable[[Session, Change], None]


def _ranges(ids: list[int]) -> list[list[int]]:
    """Sorted ids as [low, high] runs."""
    runs: list[list[int]] = []
    for value in sorted(ids):
        if runs and runs[-1][1] == value - 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return runs


def advance(position: dict, *, read: list[int], failed: list[int], now: datetime) -> dict:
    """The cursor after reading `read` ids (some `failed`, to retry): the highest id seen, plus the ids skipped
    over (and the failed ones) as gaps with when they were first missed; gaps past GAP_SECONDS are dropped."""
    last = position.get("last", 0)
    gaps = {i: at for low, high, at in position.get("gaps", []) for i in range(low, high + 1)}
    done = set(read) - set(failed)
    top = max([last, *read])
    for missing in range(last + 1, top + 1):
        if missing not in done:
            gaps.setdefault(missing, now.isoformat())
    for value in done:
        gaps.pop(value, None)
    cutoff = now - timedelta(seconds=GAP_SECONDS)
    gaps = {i: at for i, at in gaps.items() if datetime.fromisoformat(at) > cutoff}
    by_time: dict[str, list[int]] = {}
    for value, at in gaps.items():
        by_time.setdefault(at, []).append(value)
    packed = sorted([low, high, at] for at, ids in by_time.items() for low, high in _ranges(ids))
    return {"last": top, "gaps": packed, "failures": position.get("failures", {})}


class Subscribers(Background):
    """Runs every subscription in one background thread; catch_up() delivers everything committed so far."""

    def __init__(self, factory: sessionmaker[Session], subscriptions: list[Subscription] | None = None, *,
                 batch_size: int = 200, idle_seconds: float = 2.0):
        self.factory = factory
        self.subscriptions = list(subscriptions or [])
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self.worker = Worker(self.catch_up, name="yutang-subscribers", idle_seconds=idle_seconds)

    def add(self, subscription: Subscription) -> None:
        """Register a subscription (before start)."""
        self.subscriptions.append(subscription)

    def deliver_once(self, subscription: Subscription) -> int:
        """Hand one batch of new rows to a subscription; returns how many rows were read."""
        with unit_of_work(self.factory) as session:
            cursor = cursors.lock(session, name=f"outbox:{subscription.name}")  # one deliverer at a time
            position = dict(cursor.position)
            wanted = [OutboxRow.id > position.get("last", 0)]
            wanted += [and_(OutboxRow.id >= low, OutboxRow.id <= high) for low, high, _ in position.get("gaps", [])]
            rows = list(session.scalars(select(OutboxRow).where(or_(*wanted)).order_by(OutboxRow.id)
                                        .limit(self.batch_size)))
            failed: list[int] = []
            failures = dict(position.get("failures", {}))
            for row in rows:
                if row.topic not in subscription.topics:
                    continue
                change = Change(id=row.id, workspace_id=row.workspace_id, topic=row.topic, entity_id=row.entity_id,
                                payload=row.payload, created_at=row.created_at)
                try:
                    with session.begin_nested():
                        subscription.handler(session, change)
                    failures.pop(str(row.id), None)
                except Exception:
                    attempts = failures.get(str(row.id), 0) + 1
                    log.exception("subscriber %s failed on outbox row %s (attempt %s)", subscription.name, row.id,
                                  attempts)
                    if attempts < MAX_ATTEMPTS:
                        failures[str(row.id)] = attempts
                        failed.append(row.id)
                    else:
                        failures.pop(str(row.id), None)
            moved = advance(position | {"failures": failures}, read=[r.id for r in rows], failed=failed, now=utcnow())
            if moved != position:
                cursors.save(session, cursor=cursor, position=moved)
            # Rows that failed stay as gaps; report no progress for them so catch_up does not spin on them.
            return len(rows) - len(failed)

    def catch_up(self) -> int:
        """Deliver every committed row to every subscription."""
        total = 0
        with self._lock:
            for subscription in self.subscriptions:
                while read := self.deliver_once(subscription):
                    total += read
        return total
