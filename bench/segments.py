"""Segment evaluation at scale: the rule compiler on DuckDB against hand-written SQL, the same segment as plain SQL
on PostgreSQL in the same run, and incremental membership updates per event batch.

    python -m bench.segments --customers 1000000 --events 20000000 --out bench/out

1. Reuses (or writes) the generator's Parquet files in --out, then loads them into a fresh DuckDB warehouse file
   and, unless --skip-postgres, into the PostgreSQL warehouse schema of its own bench database (the warehouse's
   own DDL and indexes), replicas and events alike. The generator records message clicks, not sends: 11 of every
   16 `Message Clicked` events (by the last hex digit of their message id) are loaded as `Message Sent`, on both
   backends, so "not messaged recently" has sends to look at; the row count stays --events.
2. The five-condition segment (attribute + tag + event count in a window + order spend + no `Message Sent` in
   the last 14 days), windows ending at the generator's as-of date (local midnight, Asia/Shanghai):
   full evaluation (COUNT of the compiled SELECT) --runs times on DuckDB, interleaved with the same segment
   written by hand; then the hand-written SQL (and the compiled one) on PostgreSQL. p50s, ratios, and a check
   that all four count the same customers.
3. Incremental: the segment is materialised once (a full rebuild, timed), then --batches batches of
   --batch-customers customers each get a new `Product Viewed` event appended (as the loader would) and
   `Membership.update` re-evaluates just those customers and writes entries / exits / events: p50 / p99 per batch.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench import harness
from bench.bulk_load import ensure_generated, event_files, warehouse_batches
from bench.generate import DEFAULT_AS_OF
from yutang.segments.compiler import compile_rule
from yutang.segments.evaluate import context
from yutang.segments.membership import Definition, Membership
from yutang.segments.rules import parse_rule
from yutang.warehouse import bulk
from yutang.warehouse.backends import open_warehouse
from yutang.warehouse.schema import INDEXES

PG_DATABASE = "yutang_bench_segments"
WORKSPACE = 1
ZONE = "Asia/Shanghai"
AS_OF = datetime.combine(DEFAULT_AS_OF, datetime.min.time(), tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
SEGMENT_ID = 1

RULE = {"all": [
    {"type": "attribute", "field": "gender", "op": "eq", "value": "female"},
    {"type": "tag", "tag_ids": [20]},
    {"type": "event", "event": "Product Viewed", "op": "gte", "value": 3, "window": {"kind": "last_days", "days": 30}},
    {"type": "order", "measure": "spend", "op": "gte", "value": 50000},
    {"type": "event", "event": "Message Sent", "op": "eq", "value": 0, "window": {"kind": "last_days", "days": 14}},
]}

# The same segment as a person writes it: one semi-join per condition, an anti-join for "not messaged".
HAND_SQL = """
SELECT COUNT(*) FROM customers c
WHERE c.workspace_id = %(w)s AND c.status = 'active' AND c.gender = 'female'
  AND c.id IN (SELECT customer_id FROM customer_tags WHERE tag_id = 20)
  AND c.id IN (SELECT customer_id FROM events WHERE event = 'Product Viewed' AND ts >= %(since30)s
               GROUP BY customer_id HAVING COUNT(*) >= 3)
  AND c.id IN (SELECT customer_id FROM orders WHERE paid_at IS NOT NULL AND status NOT IN ('cancelled', 'refunded')
               GROUP BY customer_id HAVING SUM(paid_fen - refunded_fen) >= 50000)
  AND c.id NOT IN (SELECT customer_id FROM events WHERE event = 'Message Sent' AND ts >= %(since14)s
                   AND customer_id IS NOT NULL)
"""
HAND_PARAMS = {"w": WORKSPACE, "since30": AS_OF - timedelta(days=29), "since14": AS_OF - timedelta(days=13)}


# ---------------------------------------------------------------------------------------------------- loading

def _table(path: Path, columns: dict, extra: dict | None = None) -> pa.Table:
    """A generator table renamed to the warehouse's columns, with constant / null columns added."""
    source = pq.read_table(path)
    arrays = {target: source[name] for target, name in columns.items()}
    for name, make in (extra or {}).items():
        arrays[name] = make(source.num_rows, source)
    return pa.table(arrays)


def replicas(out: Path) -> dict[str, pa.Table]:
    """The replica tables as the relay would have written them."""
    def const(value, type_):
        return lambda n, _: pa.array([value] * n, type_)

    def nulls(type_):
        return lambda n, _: pa.nulls(n, type_)

    return {
        "customers": _table(out / "customers.parquet", {
            "workspace_id": "workspace_id", "id": "customer_id", "gender": "gender", "birthday": "birthday",
            "province": "province", "city": "city", "first_channel_id": "first_channel_id",
            "source_campaign": "source_campaign", "refuses_personalised": "refuses_personalised",
            "first_seen_at": "first_seen_at", "updated_at": "first_seen_at"},
            {"status": const("active", pa.string()), "merged_into_id": nulls(pa.int64()),
             "assigned_member_id": nulls(pa.int64())}),
        "customer_tags": _table(out / "customer_tags.parquet", {
            "workspace_id": "workspace_id", "customer_id": "customer_id", "tag_id": "tag_id", "added_at": "added_at"}),
        "memberships": _table(out / "memberships.parquet", {
            "workspace_id": "workspace_id", "customer_id": "customer_id", "channel_id": "channel_id",
            "joined_at": "joined_at"}, {"left_at": nulls(pa.timestamp("us", tz="UTC"))}),
        "orders": _table(out / "orders.parquet", {
            "workspace_id": "workspace_id", "id": "order_id", "customer_id": "customer_id", "channel_id": "channel_id",
            "status": "status", "total_fen": "total_fen", "paid_fen": "paid_fen", "refunded_fen": "refunded_fen",
            "placed_at": "placed_at", "paid_at": "paid_at"},
            {"external_id": lambda n, t: pc.cast(t["order_id"], pa.string())}),
        "order_lines": _table(out / "order_lines.parquet", {
            "workspace_id": "workspace_id", "order_id": "order_id", "line_no": "line_no", "sku": "sku",
            "category": "category", "quantity": "quantity", "amount_fen": "amount_fen"}),
    }


def with_sends(batch: pa.Table) -> pa.Table:
    """11 of 16 message clicks become sends (by the message id's last hex digit), deterministically."""
    event = batch["event"]
    clicked = pc.fill_null(pc.equal(event, "Message Clicked"), False)
    digit = pc.utf8_slice_codeunits(batch["message_id"], -1)
    sent = pc.and_(clicked, pc.less(digit, "b"))
    return batch.set_column(batch.schema.get_field_index("event"), "event",
                            pc.if_else(sent, pa.scalar("Message Sent"), event))


def load(warehouse, out: Path) -> dict:
    started = time.perf_counter()
    if warehouse.dialect == "postgres":  # build the warehouse's indexes once at the end, not row by row
        with warehouse.transaction() as tx:
            tx.execute("DROP INDEX IF EXISTS ix_events_customer, ix_events_message, ix_orders_customer")
    for name, table in replicas(out).items():
        with warehouse.transaction() as tx:
            warehouse.append_arrow(tx, name, table)
    replica_seconds = time.perf_counter() - started
    bulk.load_events(warehouse, (with_sends(b) for b in warehouse_batches(event_files(out))))
    if warehouse.dialect == "postgres":
        with warehouse.transaction() as tx:
            for ddl in INDEXES:
                tx.execute(ddl)
            tx.execute("ANALYZE")
    return {"replicas_seconds": round(replica_seconds, 1), "total_seconds": round(time.perf_counter() - started, 1),
            "events": warehouse.query("SELECT COUNT(*) FROM events")[0][0]}


# ---------------------------------------------------------------------------------------------------- measuring

def compiled_count_sql(warehouse):
    compiled = compile_rule(parse_rule(RULE), context(warehouse, workspace_id=WORKSPACE, timezone=ZONE, now=AS_OF))
    return f"SELECT COUNT(*) FROM ({compiled.sql}) m", compiled.params


def timed(warehouse, sql: str, params: dict) -> tuple[float, int]:
    started = time.perf_counter()
    count = warehouse.query(sql, params)[0][0]
    return time.perf_counter() - started, count


def full_evaluation(warehouse, runs: int) -> dict:
    sql, params = compiled_count_sql(warehouse)
    for _ in range(2):  # warm caches on both
        timed(warehouse, sql, params)
        timed(warehouse, HAND_SQL, HAND_PARAMS)
    compiled, hand, counts = [], [], set()
    for _ in range(runs):
        seconds, count = timed(warehouse, sql, params)
        compiled.append(seconds)
        counts.add(count)
        seconds, count = timed(warehouse, HAND_SQL, HAND_PARAMS)
        hand.append(seconds)
        counts.add(("hand", count))
    p50c, p50h = harness.percentile(compiled, 50), harness.percentile(hand, 50)
    return {"runs": runs, "compiled_p50_s": round(p50c, 4), "hand_written_p50_s": round(p50h, 4),
            "compiled_over_hand": round(p50c / p50h, 3), "count": count, "counts_agree": len(counts) == 2
            and {c[1] if isinstance(c, tuple) else c for c in counts} == {count}}


def incremental(warehouse, *, batches: int, batch_customers: int, customers: int, seed: int) -> dict:
    membership = Membership(None, warehouse)  # no auto-tag, so no OLTP store is needed
    definition = Definition(id=SEGMENT_ID, workspace_id=WORKSPACE, name="bench", rule=RULE, tag_id=None,
                            timezone=ZONE)
    with warehouse.transaction() as tx:
        for table in ("segment_members", "segment_history"):
            tx.execute(f"DELETE FROM {table} WHERE segment_id = %(s)s", {"s": SEGMENT_ID})
    started = time.perf_counter()
    rebuilt = membership.rebuild(definition, now=AS_OF)
    rebuild_seconds = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    update_times, total_times, entered, exited = [], [], 0, 0
    for number in range(batches):
        ids = sorted({int(i) for i in rng.integers(1, customers + 1, batch_customers)})
        at = AS_OF - timedelta(hours=1)
        events = pa.table({
            "workspace_id": pa.array([WORKSPACE] * len(ids), pa.int64()),
            "message_id": [f"bench-seg-{seed}-{number}-{i}" for i in ids], "type": ["track"] * len(ids),
            "event": ["Product Viewed"] * len(ids), "customer_id": pa.array(ids, pa.int64()),
            "properties": ["{}"] * len(ids), "ts": pa.array([at] * len(ids), pa.timestamp("us", tz="UTC")),
            "received_at": pa.array([at] * len(ids), pa.timestamp("us", tz="UTC")), "source": ["bench"] * len(ids)})
        began = time.perf_counter()
        with warehouse.transaction() as tx:  # what the loader commits
            warehouse.append_arrow(tx, "events", events)
        updating = time.perf_counter()
        diff = membership.update(definition, ids=set(ids), now=AS_OF)  # what its listener then runs
        done = time.perf_counter()
        update_times.append(done - updating)
        total_times.append(done - began)
        entered, exited = entered + len(diff.entered), exited + len(diff.exited)
    return {"full_rebuild_s": round(rebuild_seconds, 3), "members": rebuilt.members, "batches": batches,
            "customers_per_batch": batch_customers, "entered": entered, "exited": exited,
            "update_p50_s": round(harness.percentile(update_times, 50), 4),
            "update_p99_s": round(harness.percentile(update_times, 99), 4),
            "append_and_update_p99_s": round(harness.percentile(total_times, 99), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pg-runs", type=int, default=5)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--pg-batches", type=int, default=20)
    parser.add_argument("--batch-customers", type=int, default=200)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    result: dict = {"customers": args.customers, "events": args.events, "generated": ensure_generated(args),
                    "rule": RULE}
    work = Path(tempfile.mkdtemp(prefix="yutang-bench-segments-"))
    try:
        duck = open_warehouse(f"duckdb:///{work / 'warehouse.duckdb'}")
        try:
            result["duckdb_load"] = load(duck, args.out)
            result["duckdb"] = full_evaluation(duck, args.runs)
            result["duckdb_incremental"] = incremental(duck, batches=args.batches, batch_customers=args.batch_customers,
                                                       customers=args.customers, seed=args.seed)
        finally:
            duck.close()
        if not args.skip_postgres:
            harness.recreate_database(PG_DATABASE)
            pg = open_warehouse(harness.pg_url(PG_DATABASE))
            try:
                result["postgres_load"] = load(pg, args.out)
                result["postgres"] = full_evaluation(pg, args.pg_runs)
                result["postgres_incremental"] = incremental(pg, batches=args.pg_batches,
                                                             batch_customers=args.batch_customers,
                                                             customers=args.customers, seed=args.seed)
            finally:
                pg.close()
                harness.drop_database(PG_DATABASE)
            result["postgres_plain_sql_over_duckdb_compiled"] = round(
                result["postgres"]["hand_written_p50_s"] / result["duckdb"]["compiled_p50_s"], 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return harness.print_json(result)


if __name__ == "__main__":
    raise SystemExit(main())
