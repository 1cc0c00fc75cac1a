"""Journeys listen to events as they reach the warehouse (woken by the pipeline's `on_touched`, as event earning
is): each event of a customer is checked against the exits and goals of their enrolments and the entries of live
journeys at once, not only when a step ends.

The cursor is (received_at, message_id), persisted in the OLTP store, re-reading a small overlap behind it; an
entry is keyed by customer and rotation and an exit or goal changes nothing twice, so re-reading is harmless.
"""

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from yutang.journeys import definitions, enrolments
from yutang.journeys.counts import Tally
from yutang.kit.background import Background, Worker
from yutang.kit.clock import utcnow
from yutang.storage import cursors
from yutang.storage.engine import unit_of_work
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse

log = logging.getLogger(__name__)
CURSOR = "warehouse:journeys.events"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _properties(value) -> dict:
    if isinstance(value, dict):
        return value
    try:
        found = json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


class Listener(Background):
    """Applies new events to live journeys; wake() after loads, catch_up() on demand."""

    def __init__(self, factory: sessionmaker[Session], warehouse: DuckDBWarehouse | PostgresWarehouse, *,
                 batch_size: int = 500, overlap: timedelta = timedelta(minutes=2), idle_seconds: float = 5.0):
        self.factory = factory
        self.warehouse = warehouse
        self.batch_size = batch_size
        self.overlap = overlap
        self._lock = threading.Lock()
        self.worker = Worker(self.catch_up, name="yutang-journey-events", idle_seconds=idle_seconds)

    def listen_once(self) -> int:
        """Read one page of events after the cursor and apply it; returns the events read (0 when done)."""
        with unit_of_work(self.factory) as session:
            cursor = cursors.lock(session, name=CURSOR)
            by_workspace: dict[int, list] = {}
            for journey, version in definitions.live(session):
                by_workspace.setdefault(journey.workspace_id, []).append((journey, version))
            names = sorted({name for found in by_workspace.values() for _, version in found
                            for name in definitions.listened_events(definitions.definition_of(version))})
            if not names:
                return 0
            position = cursor.position
            at = datetime.fromisoformat(position["received_at"]) if position.get("received_at") else EPOCH
            after = (position.get("page_at"), position.get("page_id")) if position.get("page_at") else None
            # Only events after a journey went live count: older history is not read at all.
            first = min(_aware(v.published_at or v.created_at) for found in by_workspace.values() for _, v in found)
            rows = self._page(names, start=max(at, first) - self.overlap, after=after)
            tally = Tally()
            now = utcnow()
            for workspace_id, message_id, event, customer_id, ts, _received, properties in rows:
                journeys = by_workspace.get(workspace_id)
                if customer_id is None or not journeys:
                    continue
                with session.begin_nested():
                    enrolments.on_event(session, customer_id=customer_id, event=event, message_id=message_id,
                                        properties=_properties(properties), at=_aware(ts), now=now,
                                        journeys=journeys, tally=tally)
            tally.flush(session)
            if not rows:
                cursors.save(session, cursor=cursor, position={"received_at": at.isoformat()})
                return 0
            last = rows[-1]
            newest = max(at, _aware(last[5]))
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
            "SELECT workspace_id, message_id, event, customer_id, ts, received_at, properties FROM events "
            f"WHERE type = 'track' AND event IN ({placeholders}) AND {where} "
            f"ORDER BY received_at, message_id LIMIT {int(self.batch_size)}", params)

    def catch_up(self) -> int:
        """Apply every event in the warehouse so far."""
        total = 0
        with self._lock:
            while read := self.listen_once():
                total += read
        return total
