"""Load journalled messages into the warehouse: resolve customers, drop replays, commit with the position."""

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pyarrow as pa
from pydantic import ValidationError

from yutang.customers.schemas import IdentityKind
from yutang.events import traits as trait_rules
from yutang.events.journal import Journal, Position
from yutang.events.resolution import CustomerResolver
from yutang.kit.background import Worker
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse, Tx
from yutang.warehouse.schema import EVENTS_ARROW

log = logging.getLogger(__name__)


class Loader:
    """Moves journal lines into the warehouse; the journal position commits in the same transaction."""

    def __init__(self, journal: Journal, warehouse: DuckDBWarehouse | PostgresWarehouse,
                 resolver: CustomerResolver, *, batch_lines: int = 20_000, dedupe_days: int = 7,
                 idle_seconds: float = 0.2):
        self.journal = journal
        self.warehouse = warehouse
        self.resolver = resolver
        self.batch_lines = batch_lines
        self.dedupe_window = timedelta(days=dedupe_days)
        # Called after each commit with the customers whose events it loaded, by workspace (segments listen).
        self.listeners: list[Callable[[dict[int, set[int]]], None]] = []
        self._lock = threading.Lock()
        self._worker = Worker(self.catch_up, name="yutang-loader", idle_seconds=idle_seconds)
        journal.listeners.append(self._worker.wake)

    def position(self) -> Position:
        """Where the warehouse says loading has reached."""
        rows = self.warehouse.query('SELECT segment, "offset" FROM ingest_checkpoint WHERE journal = %(j)s',
                                    {"j": self.journal.name})
        return Position(*rows[0]) if rows else self.journal.start()

    def load_once(self) -> int:
        """Load one batch; returns how many lines were consumed."""
        with self._lock:
            start = self.position()
            lines, end = self.journal.read(start, max_lines=self.batch_lines)
            if end == start:
                return 0
            records = [json.loads(line) for line in lines]
            customers, links = self._resolve(records)
            table = self._rows(records, customers)
            with self.warehouse.transaction() as tx:
                table = self._without_replays(tx, table)
                if table.num_rows:
                    self.warehouse.append_arrow(tx, "events", table)
                self._backfill(tx, links)
                tx.execute('INSERT INTO ingest_checkpoint (journal, segment, "offset") VALUES (%(j)s, %(s)s, %(o)s) '
                           'ON CONFLICT (journal) DO UPDATE SET segment = excluded.segment, '
                           '"offset" = excluded."offset"', {"j": self.journal.name, "s": end.segment, "o": end.offset})
            self.journal.discard_before(end)
            # Still under the lock, so a catch_up() returns only after the listeners saw everything it loaded.
            touched: dict[int, set[int]] = {}
            for index, customer_id in customers.items():
                if customer_id:
                    touched.setdefault(records[index]["w"], set()).add(customer_id)
            for listener in self.listeners:
                listener(touched)
        return len(lines)

    def catch_up(self) -> int:
        """Load everything journalled so far."""
        total = 0
        while loaded := self.load_once():
            total += loaded
        return total

    def _resolve(self, records: list[dict]) -> tuple[dict[int, int | None], set[tuple[int, str, int]]]:
        """Customer id per record index, and anonymous ids newly linked to a customer.

        identify / alias go through the OneID upsert; other messages look their ids up, creating the customer for
        an unknown userId (a userId is a known person) and leaving anonymous-only messages unattributed.
        """
        known: dict[tuple[int, str, str], int] = {}
        wanted: dict[tuple[int, IdentityKind], set[str]] = {}
        for record in records:
            for kind, key in ((IdentityKind.APP_USER_ID, "userId"), (IdentityKind.ANONYMOUS_ID, "anonymousId")):
                if record.get(key):
                    wanted.setdefault((record["w"], kind), set()).add(record[key])
        for (workspace_id, kind), values in wanted.items():
            for value, customer_id in self.resolver.lookup(workspace_id, kind, values).items():
                known[(workspace_id, kind.value, value)] = customer_id
        result: dict[int, int | None] = {}
        links: set[tuple[int, str, int]] = set()
        for index, record in enumerate(records):
            workspace_id = record["w"]
            user_key = (workspace_id, IdentityKind.APP_USER_ID.value, record.get("userId") or "")
            anon_key = (workspace_id, IdentityKind.ANONYMOUS_ID.value, record.get("anonymousId") or "")
            customer_id = known.get(user_key) if record.get("userId") else None
            linking = record["type"] in ("identify", "alias")
            new_link = bool(record.get("userId") and record.get("anonymousId") and anon_key not in known)
            if linking or new_link or (record.get("userId") and customer_id is None):
                customer_id = self._identify(record)
            elif customer_id is None and record.get("anonymousId"):
                customer_id = known.get(anon_key)
            if customer_id is not None:
                if anon_key[2] and known.get(anon_key) != customer_id:
                    links.add((workspace_id, anon_key[2], customer_id))
                for key in (user_key, anon_key):
                    if key[2]:
                        known[key] = customer_id
            result[index] = customer_id
        return result, links

    def _identify(self, record: dict) -> int | None:
        try:
            previous_is_user = bool(record["type"] == "alias" and record.get("previousId") and self.resolver.lookup(
                record["w"], IdentityKind.APP_USER_ID, {record["previousId"]}))
            identities = trait_rules.identities_of(record, previous_is_user=previous_is_user)
            profile = trait_rules.profile_of(record.get("traits") or {}) if record["type"] == "identify" else {}
            return self.resolver.identify(record["w"], identities, profile)
        except (ValidationError, ValueError) as exc:
            # A bad trait (say an unparseable phone) must not lose the event: keep it, unattributed.
            log.warning("could not resolve message %s: %s", record.get("messageId"), exc)
            return None

    def _rows(self, records: list[dict], customers: dict[int, int | None]) -> pa.Table:
        seen: set[tuple[int, str]] = set()
        columns: dict[str, list] = {name: [] for name in EVENTS_ARROW.names}
        for index, record in enumerate(records):
            key = (record["w"], record["messageId"])
            if key in seen:
                continue
            seen.add(key)
            customer_id = customers.get(index)
            payload = record.get("traits") if record["type"] == "identify" else record.get("properties")
            if record["type"] in ("page", "screen") and record.get("name"):
                payload = {**(payload or {}), "name": record["name"]}
            columns["workspace_id"].append(record["w"])
            columns["message_id"].append(record["messageId"])
            columns["type"].append(record["type"])
            columns["event"].append(record.get("event") or record.get("name"))
            columns["customer_id"].append(customer_id)
            columns["user_id"].append(record.get("userId"))
            columns["anonymous_id"].append(record.get("anonymousId"))
            columns["properties"].append(json.dumps(payload or {}, ensure_ascii=False))
            columns["context"].append(json.dumps(record.get("context") or {}, ensure_ascii=False))
            columns["ts"].append(datetime.fromisoformat(record["timestamp"]))
            columns["received_at"].append(datetime.fromisoformat(record["receivedAt"]))
            columns["source"].append(str(record["src"]))
        return pa.table(columns, schema=EVENTS_ARROW)

    def _without_replays(self, tx: Tx, table: pa.Table) -> pa.Table:
        if not table.num_rows:
            return table
        earliest = min(table["received_at"].to_pylist()) - self.dedupe_window
        probe = table.select(["workspace_id", "message_id"])
        seen = self.warehouse.existing_message_ids(tx, probe, since=earliest)
        if not seen:
            return table
        keep = [(w, m) not in seen for w, m in zip(table["workspace_id"].to_pylist(),
                                                   table["message_id"].to_pylist(), strict=True)]
        return table.filter(pa.array(keep))

    def _backfill(self, tx: Tx, links: set[tuple[int, str, int]]) -> None:
        # Anonymous history joins the customer once they are known.
        tx.executemany("UPDATE events SET customer_id = %(c)s WHERE workspace_id = %(w)s AND anonymous_id = %(a)s "
                       "AND customer_id IS NULL", [{"w": w, "a": a, "c": c} for w, a, c in links])

    def start(self) -> None:
        """Load in a daemon thread, woken by each journal append."""
        self._worker.start()

    def stop(self) -> None:
        """Stop after the current batch."""
        self._worker.stop()
