"""Earning on events: reads new events from the warehouse (where the loader puts them, not the OLTP store) and
applies the workspaces' event rules.

The cursor is (received_at, message_id), persisted in the OLTP store; each pass re-reads a small overlap behind
it, because events with an earlier received_at can land after later ones (the relay writes Yutang's own events
with their commit time). The message id is the entry's idempotency key, so re-reading is harmless.
"""

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.background import Background, Worker
from yutang.kit.errors import DomainError
from yutang.loyalty import ledger, rules
from yutang.loyalty.models import PointsEntry
from yutang.storage import cursors
from yutang.storage.engine import unit_of_work
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import system_actor

log = logging.getLogger(__name__)
CURSOR = "warehouse:loyalty.events"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class EventEarner(Background):
    """Applies event rules to events as they reach the warehouse; wake() after loads, catch_up() on demand."""

    def __init__(self, factory: sessionmaker[Session], warehouse: DuckDBWarehouse | PostgresWarehouse, *,
                 batch_size: int = 500, overlap: timedelta = timedelta(minutes=2), idle_seconds: float = 5.0):
        self.factory = factory
        self.warehouse = warehouse
        self.batch_size = batch_size
        self.overlap = overlap
        self._lock = threading.Lock()
        self.worker = Worker(self.catch_up, name="yutang-loyalty-events", idle_seconds=idle_seconds)

    def earn_once(self) -> int:
        """Read one page of events after the cursor (less the overlap) and award points; returns events read."""
        with unit_of_work(self.factory) as session:
            cursor = cursors.lock(session, name=CURSOR)
            by_workspace = rules.event_rules(session)
            names = sorted({rule.event_name for found in by_workspace.values() for rule in found})
            if not names:
                return 0
            position = cursor.position
            at = datetime.fromisoformat(position["received_at"]) if position.get("received_at") else EPOCH
            after = (position.get("page_at"), position.get("page_id")) if position.get("page_at") else None
            # A rule applies to events that arrive after it was made: older history is not read at all.
            first_rule = min(_aware(rule.created_at) for found in by_workspace.values() for rule in found)
            start = max(at, first_rule) - self.overlap
            rows = self._page(names, start=start, after=after)
            if not rows:
                cursors.save(session, cursor=cursor, position={"received_at": at.isoformat()})
                return 0
            keys = {ledger.system_key("event", message_id, rule.id) for ws, message_id, event, *_ in rows
                    for rule in by_workspace.get(ws, []) if rule.event_name == event}
            seen = set(session.scalars(select(PointsEntry.idempotency_key)
                                       .where(PointsEntry.idempotency_key.in_(keys)))) if keys else set()
            actors = {}
            for workspace_id, message_id, event, customer_id, ts, _received_at in rows:
                for rule in by_workspace.get(workspace_id, []):
                    if rule.event_name != event or customer_id is None or \
                            _aware(_received_at) < _aware(rule.created_at) or \
                            ledger.system_key("event", message_id, rule.id) in seen:
                        continue
                    if workspace_id not in actors:
                        zone = workspaces_service.get_workspace(session, workspace_id=workspace_id).timezone
                        actors[workspace_id] = system_actor(workspace_id, timezone=zone)
                    try:
                        with session.begin_nested():
                            rules.on_event(session, actor=actors[workspace_id], rule=rule,
                                           customer_id=customer_id, message_id=message_id, at=_aware(ts))
                    except DomainError as exc:  # e.g. the customer was erased since: no points, move on
                        log.info("no points for event %s: %s", message_id, exc.detail)
            last = rows[-1]
            newest = max(at, _aware(last[5]))
            # Paging continues from the last row read; once a page comes back short the pass is over.
            full = len(rows) == self.batch_size
            cursors.save(session, cursor=cursor, position={
                "received_at": newest.isoformat(),
                **({"page_at": _aware(last[5]).isoformat(), "page_id": last[1]} if full else {})})
            return len(rows) if full else 0

    def _page(self, names: list[str], *, start: datetime, after: tuple[str, str] | None) -> list[tuple]:
        params: dict = {f"e{i}": name for i, name in enumerate(names)}
        placeholders = ", ".join(f"%(e{i})s" for i in range(len(names)))
        where = "received_at >= %(start)s"
        params["start"] = start
        if after is not None:
            where = "(received_at > %(pa)s OR (received_at = %(pa)s AND message_id > %(pm)s))"
            params |= {"pa": datetime.fromisoformat(after[0]), "pm": after[1]}
        return self.warehouse.query(
            "SELECT workspace_id, message_id, event, customer_id, ts, received_at FROM events "
            f"WHERE type = 'track' AND event IN ({placeholders}) AND {where} "
            f"ORDER BY received_at, message_id LIMIT {int(self.batch_size)}", params)

    def catch_up(self) -> int:
        """Apply every event in the warehouse so far."""
        total = 0
        with self._lock:
            while read := self.earn_once():
                total += read
        return total
