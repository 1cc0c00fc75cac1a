"""Load journalled messages into the warehouse: resolve customers, drop replays, commit with the position."""

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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
PARSED_BATCHES_KEPT = 8


class Loader:
    """Moves journal lines into the warehouse, then attributes them to customers, each step in its own thread.

    Two steps, so that resolving people (which may create thousands in the OLTP store) delays only who an event
    belongs to, never whether it is queryable. Loading commits the events with the customers already known and the
    journal position it reached; attribution trails behind it, resolves the rest and commits its own position. The
    journal keeps lines until both are done, so a crash in between re-attributes from the journal on restart.
    """

    def __init__(self, journal: Journal, warehouse: DuckDBWarehouse | PostgresWarehouse,
                 resolver: CustomerResolver, *, batch_lines: int = 20_000, dedupe_days: int = 7,
                 idle_seconds: float = 0.2):
        self.journal = journal
        self.warehouse = warehouse
        self.resolver = resolver
        self.batch_lines = batch_lines
        self.dedupe_window = timedelta(days=dedupe_days)
        # Called after each attribution commit with the customers of its events, by workspace (segments listen).
        self.listeners: list[Callable[[dict[int, set[int]]], None]] = []
        # Batches loading parsed, by start position, for attribution to reuse (bounded: past it, it reads the journal).
        self._parsed: dict[Position, tuple[list[dict], Position]] = {}
        self._load_lock = threading.Lock()
        self._attribution_lock = threading.Lock()
        self._loading = Worker(self._load_all, name="yutang-loader", idle_seconds=idle_seconds)
        self._attributing = Worker(self._attribute_all, name="yutang-attributor", idle_seconds=idle_seconds)
        journal.listeners.append(self._loading.wake)

    def position(self) -> Position:
        """Where the warehouse says loading has reached."""
        return self._checkpoint(self.journal.name) or self.journal.start()

    @property
    def _attributed_key(self) -> str:
        return f"{self.journal.name}#attributed"

    def _checkpoint(self, key: str) -> Position | None:
        rows = self.warehouse.query('SELECT segment, "offset" FROM ingest_checkpoint WHERE journal = %(j)s',
                                    {"j": key})
        return Position(*rows[0]) if rows else None

    def _store_position(self, tx: Tx, key: str, position: Position) -> None:
        tx.execute('INSERT INTO ingest_checkpoint (journal, segment, "offset") VALUES (%(j)s, %(s)s, %(o)s) '
                   'ON CONFLICT (journal) DO UPDATE SET segment = excluded.segment, "offset" = excluded."offset"',
                   {"j": key, "s": position.segment, "o": position.offset})

    def load_once(self) -> int:
        """Load one batch with the customers already known; returns how many lines it committed."""
        with self._load_lock:
            loaded = self.position()
            lines, end = self.journal.read(loaded, max_lines=self.batch_lines)
            if end == loaded:
                return 0
            first_load = self._checkpoint(self._attributed_key) is None
            records = [json.loads(line) for line in lines]
            table = self._rows(records, self._known_customers(records, self._lookup(records)))
            with self.warehouse.transaction() as tx:
                if first_load:  # attribution starts where loading does
                    self._store_position(tx, self._attributed_key, loaded)
                table = self._without_replays(tx, table)
                if table.num_rows:
                    self.warehouse.append_arrow(tx, "events", table)
                self._store_position(tx, self.journal.name, end)
            if len(self._parsed) < PARSED_BATCHES_KEPT:
                self._parsed[loaded] = (records, end)
        self._attributing.wake()
        return len(lines)

    def attribute_once(self) -> int:
        """Resolve the customers of loaded lines and attribute their events; returns how many lines it covered."""
        with self._attribution_lock:
            loaded = self.position()
            attributed = self._checkpoint(self._attributed_key) or loaded
            if attributed >= loaded:
                return 0
            parsed = self._parsed.pop(attributed, None)
            if parsed is not None and parsed[1] <= loaded:
                records, end = parsed
            else:
                lines, end = self.journal.read(attributed, max_lines=self.batch_lines, until=loaded)
                records = [json.loads(line) for line in lines]
            for stale in [start for start in list(self._parsed) if start < end]:
                self._parsed.pop(stale, None)
            customers, links = self._resolve(records, self._lookup(records))
            found = {(records[i]["w"], records[i]["messageId"]): c for i, c in customers.items() if c is not None}
            since = min(datetime.fromisoformat(record["receivedAt"]) for record in records)
            self._first_seen(records, customers, links)
            with self.warehouse.transaction() as tx:
                self._attribute(tx, "message_id", [(w, m, c) for (w, m), c in found.items()], since=since)
                # Anonymous history joins the customer once they are known.
                self._attribute(tx, "anonymous_id", sorted(links))
                self._store_position(tx, self._attributed_key, end)
            self.journal.discard_before(end)
            # Still under the lock, so a catch_up() returns only after the listeners saw everything it attributed.
            touched: dict[int, set[int]] = {}
            for index, customer_id in customers.items():
                if customer_id:
                    touched.setdefault(records[index]["w"], set()).add(customer_id)
            for listener in self.listeners:
                listener(touched)
        return len(records)

    def _first_seen(self, records: list[dict], customers: dict[int, int | None],
                    links: set[tuple[int, str, int]]) -> None:
        """No customer was first seen after their earliest event: this batch's, or anonymous history now linked."""
        earliest: dict[int, dict[int, datetime]] = {}

        def seen(workspace_id: int, customer_id: int, at: datetime) -> None:
            known = earliest.setdefault(workspace_id, {})
            if customer_id not in known or at < known[customer_id]:
                known[customer_id] = at

        for index, customer_id in customers.items():
            if customer_id:
                seen(records[index]["w"], customer_id, datetime.fromisoformat(records[index]["timestamp"]))
        if links:
            ordered = sorted(links)
            for workspace_id, customer_id, at in self.warehouse.query(
                    "SELECT l.w, l.c, MIN(events.ts) FROM events JOIN (SELECT unnest(CAST(%(w)s AS BIGINT[])) AS w, "
                    "unnest(CAST(%(k)s AS VARCHAR[])) AS k, unnest(CAST(%(c)s AS BIGINT[])) AS c) l "
                    "ON events.workspace_id = l.w AND events.anonymous_id = l.k GROUP BY l.w, l.c",
                    dict(zip("wkc", map(list, zip(*ordered, strict=True)), strict=True))):
                seen(workspace_id, customer_id, at if at.tzinfo else at.replace(tzinfo=UTC))
        for workspace_id, found in earliest.items():
            self.resolver.seen(workspace_id, found)

    def catch_up(self) -> int:
        """Load and attribute everything journalled so far; returns how many lines were loaded."""
        loaded = self._load_all()
        self._attribute_all()
        return loaded

    def _load_all(self) -> int:
        total = 0
        while loaded := self.load_once():
            total += loaded
        return total

    def _attribute_all(self) -> int:
        total = 0
        while attributed := self.attribute_once():
            total += attributed
        return total

    def _lookup(self, records: list[dict]) -> dict[tuple[int, str, str], int]:
        """Customers already holding the records' userIds and anonymousIds (bulk lookups, nothing created)."""
        known: dict[tuple[int, str, str], int] = {}
        wanted: dict[tuple[int, IdentityKind], set[str]] = {}
        for record in records:
            for kind, key in ((IdentityKind.APP_USER_ID, "userId"), (IdentityKind.ANONYMOUS_ID, "anonymousId")):
                if record.get(key):
                    wanted.setdefault((record["w"], kind), set()).add(record[key])
        for (workspace_id, kind), values in wanted.items():
            for value, customer_id in self.resolver.lookup(workspace_id, kind, values).items():
                known[(workspace_id, kind.value, value)] = customer_id
        return known

    @staticmethod
    def _known_customers(records: list[dict], known: dict[tuple[int, str, str], int]) -> dict[int, int | None]:
        """Per record, the customer its userId (else its anonymousId) already belongs to."""
        result: dict[int, int | None] = {}
        for index, record in enumerate(records):
            user = known.get((record["w"], IdentityKind.APP_USER_ID.value, record.get("userId") or ""))
            device = known.get((record["w"], IdentityKind.ANONYMOUS_ID.value, record.get("anonymousId") or ""))
            result[index] = user if record.get("userId") else device
        return result

    def _resolve(self, records: list[dict], known: dict[tuple[int, str, str], int]
                 ) -> tuple[dict[int, int | None], set[tuple[int, str, int]]]:
        """Customer id per record index, and anonymous ids newly linked to a customer.

        identify / alias go through the OneID upsert; other messages look their ids up, creating the customer for
        an unknown userId (a userId is a known person; new people are created in bulk) and leaving anonymous-only
        messages unattributed.
        """
        known = dict(known)
        links = self._create_new_people(records, known)
        result: dict[int, int | None] = {}
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

    def _create_new_people(self, records: list[dict], known: dict[tuple[int, str, str], int]
                           ) -> set[tuple[int, str, int]]:
        """Create the batch's new people in bulk: unknown userIds (with their unknown devices) that no identify or
        alias in the batch mentions. Everything else goes through the one-by-one OneID upsert afterwards.

        Returns the anonymous ids now linked to a customer (their earlier events get attributed).
        """
        app, anon = IdentityKind.APP_USER_ID.value, IdentityKind.ANONYMOUS_ID.value
        linking = {(r["w"], r.get(key)) for r in records if r["type"] in ("identify", "alias")
                   for key in ("userId", "anonymousId", "previousId") if r.get(key)}
        plans: dict[tuple[int, str], tuple[set[str], str]] = {}
        for record in records:
            workspace_id, user_id, device = record["w"], record.get("userId"), record.get("anonymousId")
            if (record["type"] in ("identify", "alias") or not user_id or (workspace_id, user_id) in linking
                    or (workspace_id, app, user_id) in known):
                continue
            if device and ((workspace_id, anon, device) in known or (workspace_id, device) in linking):
                continue
            devices, _ = plans.setdefault((workspace_id, user_id), (set(), record["timestamp"]))
            if device:
                devices.add(device)
        by_workspace: dict[int, list[tuple[str, list[str], str]]] = {}
        for (workspace_id, user_id), (devices, first_seen) in plans.items():
            by_workspace.setdefault(workspace_id, []).append((user_id, sorted(devices), first_seen))
        links: set[tuple[int, str, int]] = set()
        for workspace_id, people in by_workspace.items():
            created = self.resolver.create_many(workspace_id, [
                ([(IdentityKind.APP_USER_ID, user_id)] + [(IdentityKind.ANONYMOUS_ID, device) for device in devices],
                 datetime.fromisoformat(first_seen)) for user_id, devices, first_seen in people])
            for (user_id, devices, _), customer_id in zip(people, created, strict=True):
                if customer_id is None:
                    continue
                known[(workspace_id, app, user_id)] = customer_id
                for device in devices:
                    known[(workspace_id, anon, device)] = customer_id
                    links.add((workspace_id, device, customer_id))
        return links

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

    @staticmethod
    def _attribute(tx: Tx, column: str, links: list[tuple[int, str, int]], *, since: datetime | None = None) -> None:
        """Give unattributed events whose `column` (message_id or anonymous_id) matches a link its customer.

        One statement for all links: a statement per id would scan the events once each.
        """
        if not links:
            return
        w, key, c = (list(values) for values in zip(*links, strict=True))
        window = " AND events.received_at >= %(since)s" if since is not None else ""
        tx.execute("UPDATE events SET customer_id = l.c FROM (SELECT unnest(CAST(%(w)s AS BIGINT[])) AS w, "
                   "unnest(CAST(%(k)s AS VARCHAR[])) AS k, unnest(CAST(%(c)s AS BIGINT[])) AS c) AS l "
                   f"WHERE events.workspace_id = l.w AND events.{column} = l.k AND events.customer_id IS NULL"
                   + window, {"w": w, "k": key, "c": c, "since": since})

    def start(self) -> None:
        """Load in a daemon thread woken by each journal append, and attribute in another woken by each load."""
        self._loading.start()
        self._attributing.start()

    def stop(self) -> None:
        """Stop both threads after their current batches."""
        self._loading.stop()
        self._attributing.stop()
