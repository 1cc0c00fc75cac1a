"""Materialised membership of dynamic segments in the warehouse, kept up to date incrementally.

After every loader or relay commit the pipeline tells `Membership.on_touched` which customers it touched; each
dynamic segment of their workspace is re-evaluated for just those customers (every scan of the compiled rule is
restricted to their ids) and the differences are written in one warehouse transaction: `segment_members` rows,
`segment_history` rows (entered / exited, numbered per segment and customer) and a `Segment Entered` /
`Segment Exited` event each, whose message id `yutang:segment:<segment>:<customer>:<n>` makes a re-run harmless.
Rules with time windows also change as time passes: `rebuild` / `rebuild_all` re-evaluate everyone (on demand,
or on the schedule the caller sets). Auto-tags follow in the OLTP store after the warehouse commit, written by
the `AutoTagger`'s own worker (`autotags.py`), so the loader and relay threads write only the warehouse.
"""

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.clock import utcnow
from yutang.segments import dialect, service
from yutang.segments.autotags import AutoTagger, TagChange
from yutang.segments.compiler import compile_rule
from yutang.segments.evaluate import context
from yutang.segments.models import Segment
from yutang.segments.rules import parse_rule
from yutang.storage.engine import read_only
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse, Tx
from yutang.warehouse.schema import EVENTS_ARROW

log = logging.getLogger(__name__)
ENTERED, EXITED = "entered", "exited"
EVENT_NAMES = {ENTERED: "Segment Entered", EXITED: "Segment Exited"}
SOURCE = "yutang"


@dataclass(frozen=True)
class Definition:
    """What membership upkeep needs of a segment, detached from the OLTP session."""

    id: int
    workspace_id: int
    name: str
    rule: dict
    tag_id: int | None
    timezone: str

    @classmethod
    def of(cls, segment: Segment, timezone: str) -> "Definition":
        """From the ORM row."""
        return cls(id=segment.id, workspace_id=segment.workspace_id, name=segment.name, rule=segment.rule or {},
                   tag_id=segment.tag_id, timezone=timezone)


@dataclass(frozen=True)
class Diff:
    """Who entered and who left in one update."""

    entered: list[int]
    exited: list[int]
    members: int | None = None  # the size after a full rebuild


class Membership:
    """Keeps dynamic segments' membership in the warehouse; one per server process (the warehouse's writer)."""

    def __init__(self, factory: sessionmaker[Session], warehouse: DuckDBWarehouse | PostgresWarehouse):
        self.factory = factory
        self.warehouse = warehouse
        self.tagger = AutoTagger(factory)
        # Loader and relay call in from their own threads: one update at a time keeps read-diff-write consistent.
        self._lock = threading.Lock()

    # ---- entry points ----------------------------------------------------------------------------------

    def on_touched(self, touched: dict[int, set[int]]) -> None:
        """Pipeline listener: re-evaluate every dynamic segment of each workspace for the touched customers."""
        for workspace_id, ids in touched.items():
            if not ids:
                continue
            try:
                for definition in self.definitions(workspace_id=workspace_id):
                    self.update(definition, ids=ids)
            except Exception:  # the loader / relay must go on; a full rebuild repairs whatever was missed
                log.exception("segment membership update failed for workspace %s", workspace_id)

    def definitions(self, *, workspace_id: int) -> list[Definition]:
        """The workspace's dynamic segments."""
        with read_only(self.factory) as session:
            segments = service.dynamic_segments(session, workspace_id=workspace_id)
            if not segments:
                return []
            timezone = service.workspace_timezone(session, workspace_id=workspace_id)
            return [Definition.of(segment, timezone) for segment in segments]

    def rebuild(self, definition: Definition, *, now: datetime | None = None) -> Diff:
        """Re-evaluate everyone in the workspace and write the differences."""
        return self.update(definition, ids=None, now=now)

    def rebuild_all(self, *, now: datetime | None = None, workspace_id: int | None = None) -> dict[int, Diff]:
        """Rebuild every dynamic segment of a workspace, or of all (for a schedule: windows move with the clock)."""
        with read_only(self.factory) as session:
            definitions = [Definition.of(s, service.workspace_timezone(session, workspace_id=s.workspace_id))
                           for s in service.all_dynamic_segments(session, workspace_id=workspace_id)]
        return {d.id: self.rebuild(d, now=now) for d in definitions}

    def drop(self, *, segment_id: int) -> None:
        """Forget a deleted segment's membership (its history stays)."""
        with self._lock, self.warehouse.transaction() as tx:
            tx.execute("DELETE FROM segment_members WHERE segment_id = %(s)s", {"s": segment_id})

    # ---- the update ------------------------------------------------------------------------------------

    def update(self, definition: Definition, *, ids: set[int] | None, now: datetime | None = None) -> Diff:
        """Bring one segment's membership up to date for some customers (None: everyone)."""
        now = now or utcnow()
        node = parse_rule(definition.rule)
        with self._lock:
            with self.warehouse.transaction() as tx:
                diff = self._write(tx, definition, node, ids, now)
            if definition.tag_id is None:
                return diff
            untagged = self._untagged(definition) if ids is None else []
            if diff.entered or diff.exited or untagged:
                self.tagger.queue(TagChange(segment_id=definition.id, workspace_id=definition.workspace_id,
                                            timezone=definition.timezone, tag_id=definition.tag_id,
                                            add=sorted(set(diff.entered) | set(untagged)), remove=diff.exited))
        return diff

    def _untagged(self, definition: Definition) -> list[int]:
        # A rebuild also repairs auto-tags an interrupted update left behind.
        return [row[0] for row in self.warehouse.query(
            "SELECT customer_id FROM segment_members WHERE segment_id = %(s)s AND customer_id NOT IN "
            "(SELECT customer_id FROM customer_tags WHERE tag_id = %(t)s)",
            {"s": definition.id, "t": definition.tag_id})]

    def _write(self, tx: Tx, definition: Definition, node, ids: set[int] | None, now: datetime) -> Diff:
        lock = dialect.segment_lock(self.warehouse.dialect)
        if lock:  # several server processes on one PostgreSQL warehouse: one writer per segment at a time
            tx.execute(lock, {"s": definition.id})
        ctx = context(self.warehouse, workspace_id=definition.workspace_id, timezone=definition.timezone, now=now,
                      restrict=ids is not None)
        compiled = compile_rule(node, ctx)
        scope = {"ids": sorted(ids)} if ids is not None else {}
        should = {row[0] for row in tx.execute(compiled.sql, {**compiled.params, **scope}).fetchall()}
        have_sql = "SELECT customer_id FROM segment_members WHERE segment_id = %(s)s"
        if ids is not None:
            have_sql += " AND customer_id = ANY(%(ids)s)"
        have = {row[0] for row in tx.execute(have_sql, {"s": definition.id, **scope}).fetchall()}
        entered, exited = sorted(should - have), sorted(have - should)
        members = len(should) if ids is None else None
        if not entered and not exited:
            return Diff([], [], members)
        changed = entered + exited
        last = dict(tx.execute("SELECT customer_id, MAX(seq) FROM segment_history WHERE segment_id = %(s)s "
                               "AND customer_id = ANY(%(c)s) GROUP BY customer_id",
                               {"s": definition.id, "c": changed}).fetchall())
        if exited:
            tx.execute("DELETE FROM segment_members WHERE segment_id = %(s)s AND customer_id = ANY(%(c)s)",
                       {"s": definition.id, "c": exited})
        if entered:
            self.warehouse.append_arrow(tx, "segment_members", pa.table({
                "workspace_id": pa.array([definition.workspace_id] * len(entered), pa.int64()),
                "segment_id": pa.array([definition.id] * len(entered), pa.int64()),
                "customer_id": pa.array(entered, pa.int64()),
                "entered_at": pa.array([now] * len(entered), pa.timestamp("us", tz="UTC"))}))
        changes = [(cid, ENTERED) for cid in entered] + [(cid, EXITED) for cid in exited]
        seqs = [int(last.get(cid) or 0) + 1 for cid, _ in changes]
        self.warehouse.append_arrow(tx, "segment_history", pa.table({
            "workspace_id": pa.array([definition.workspace_id] * len(changes), pa.int64()),
            "segment_id": pa.array([definition.id] * len(changes), pa.int64()),
            "customer_id": pa.array([cid for cid, _ in changes], pa.int64()),
            "seq": pa.array(seqs, pa.int32()),
            "change": pa.array([change for _, change in changes], pa.string()),
            "changed_at": pa.array([now] * len(changes), pa.timestamp("us", tz="UTC"))}))
        properties = json.dumps({"segment_id": definition.id, "segment_name": definition.name}, ensure_ascii=False)
        message_ids = [f"{SOURCE}:segment:{definition.id}:{cid}:{seq}" for (cid, _), seq in zip(changes, seqs,
                                                                                                strict=True)]
        self.warehouse.append_arrow(tx, "events", pa.Table.from_pydict({
            "workspace_id": [definition.workspace_id] * len(changes), "message_id": message_ids,
            "type": ["track"] * len(changes), "event": [EVENT_NAMES[change] for _, change in changes],
            "customer_id": [cid for cid, _ in changes], "user_id": [None] * len(changes),
            "anonymous_id": [None] * len(changes), "properties": [properties] * len(changes),
            "context": [None] * len(changes), "ts": [now] * len(changes), "received_at": [now] * len(changes),
            "source": [SOURCE] * len(changes)}, schema=EVENTS_ARROW))
        return Diff(entered, exited, members)

    # ---- reading ----------------------------------------------------------------------------------------

    def members(self, *, segment_id: int, after_id: int | None, limit: int) -> list[tuple[int, datetime]]:
        """(customer id, entered at) ascending by id, keyset-paged."""
        sql = "SELECT customer_id, entered_at FROM segment_members WHERE segment_id = %(s)s"
        if after_id is not None:
            sql += " AND customer_id > %(a)s"
        return self.warehouse.query(sql + f" ORDER BY customer_id LIMIT {int(limit)}", {"s": segment_id, "a": after_id})

    def counts(self, *, segment_ids: list[int]) -> dict[int, int]:
        """Members per dynamic segment."""
        if not segment_ids:
            return {}
        return {s: int(n) for s, n in self.warehouse.query(
            "SELECT segment_id, COUNT(*) FROM segment_members WHERE segment_id = ANY(%(s)s) GROUP BY segment_id",
            {"s": segment_ids})}

    def is_member(self, *, segment_id: int, customer_id: int) -> bool:
        """Whether the customer is in the materialised membership."""
        return bool(self.warehouse.query("SELECT COUNT(*) FROM segment_members WHERE segment_id = %(s)s "
                                         "AND customer_id = %(c)s", {"s": segment_id, "c": customer_id})[0][0])

    def history(self, *, segment_id: int, customer_id: int) -> list[tuple[int, str, datetime]]:
        """A customer's entries and exits of a segment, in order."""
        return self.warehouse.query("SELECT seq, change, changed_at FROM segment_history WHERE segment_id = %(s)s "
                                    "AND customer_id = %(c)s ORDER BY seq", {"s": segment_id, "c": customer_id})
