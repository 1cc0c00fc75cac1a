"""Time the lifecycle refresh (stages, RFM, BG/NBD + Gamma-Gamma value) on the generator's brand.

    python -m bench.lifecycle --data bench/out [--postgres] [--events N]

Loads the generator's customers, orders and events into a fresh warehouse (a DuckDB file under bench/out, or the
PostgreSQL database `yutang_bench_lifecycle` with --postgres), then runs `lifecycle.scoring.refresh` twice as of the
generator's end date and 30 days later: the first sets the baseline, the second records the month's stage changes.
Prints JSON: rows loaded, seconds per phase of each refresh, the stage and class counts after the second, and the
fitted parameters. `--reuse` refreshes what an earlier run loaded.
"""

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.harness import pg_url, print_json, recreate_database
from yutang.lifecycle import core, scoring
from yutang.warehouse import bulk
from yutang.warehouse.backends import open_warehouse

WORKSPACE = 1
CHUNK = 1_000_000


def _customers(data: Path) -> pa.Table:
    table = pq.read_table(data / "customers.parquet")
    n = table.num_rows
    return pa.table({
        "workspace_id": table["workspace_id"], "id": table["customer_id"],
        "status": pa.array(["active"] * n), "gender": table["gender"], "birthday": table["birthday"],
        "province": table["province"], "city": table["city"],
        "first_channel_id": pc.cast(table["first_channel_id"], pa.int64()),
        "source_campaign": table["source_campaign"], "refuses_personalised": table["refuses_personalised"],
        "first_seen_at": table["first_seen_at"], "updated_at": table["first_seen_at"]})


def _orders(data: Path) -> pa.Table:
    table = pq.read_table(data / "orders.parquet")
    return pa.table({
        "workspace_id": table["workspace_id"], "id": table["order_id"], "customer_id": table["customer_id"],
        "channel_id": pc.cast(table["channel_id"], pa.int64()),
        "external_id": pc.cast(table["order_id"], pa.string()), "status": table["status"],
        "total_fen": table["total_fen"], "paid_fen": table["paid_fen"], "refunded_fen": table["refunded_fen"],
        "placed_at": table["placed_at"], "paid_at": table["paid_at"]})


def load(warehouse, data: Path, events_limit: int | None) -> dict:
    """The generator's tables into the warehouse replicas and events table."""
    began = time.perf_counter()
    counts = {}
    tables = [("customers", _customers(data)), ("orders", _orders(data))]
    if (data / "order_lines.parquet").exists():
        lines = pq.read_table(data / "order_lines.parquet").drop_columns(["unit_price_fen"])
        tables.append(("order_lines", lines))
    for name, table in tables:
        with warehouse.transaction() as tx:
            for start in range(0, table.num_rows, CHUNK):
                warehouse.append_arrow(tx, name, table.slice(start, CHUNK))
        counts[name] = table.num_rows

    def batches():
        left = events_limit
        for file in sorted(data.glob("events-*.parquet")):
            for batch in pq.ParquetFile(file).iter_batches(batch_size=CHUNK):
                if left is not None:
                    if left <= 0:
                        return
                    batch = batch.slice(0, left)
                    left -= batch.num_rows
                table = pa.Table.from_batches([batch])  # the generator's columns plus `source`
                yield table.append_column("source", pa.repeat(pa.scalar("app"), table.num_rows))

    counts["events"] = bulk.load_events(warehouse, batches(), workspace_id=WORKSPACE)["rows"]
    counts["load_seconds"] = round(time.perf_counter() - began, 1)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench/out"))
    parser.add_argument("--postgres", action="store_true", help="a PostgreSQL warehouse, not DuckDB")
    parser.add_argument("--database", default="yutang_bench_lifecycle",
                        help="the PostgreSQL database to (re)create for --postgres")
    parser.add_argument("--events", type=int, default=None, help="load only the first N events")
    parser.add_argument("--reuse", action="store_true",
                        help="refresh the warehouse a previous run loaded (DuckDB file or PostgreSQL "
                        "database) instead of loading again")
    parser.add_argument("--as-of", default="2026-11-16T00:30:00+08:00",
                        help="the refresh's now (default: just after the generator's default window ends)")
    args = parser.parse_args()
    as_of = datetime.fromisoformat(args.as_of).astimezone(UTC)
    if args.postgres:
        reuse = args.reuse
        if not reuse:
            recreate_database(args.database)
        url = pg_url(args.database)
    else:
        path = args.data / "lifecycle-bench.duckdb"
        reuse = args.reuse and path.exists()
        if not reuse:
            path.unlink(missing_ok=True)
        url = f"duckdb:///{path.resolve()}"
    warehouse = open_warehouse(url)
    try:
        if not reuse:
            loaded = load(warehouse, args.data, args.events)
        else:
            loaded = {name: warehouse.query(f"SELECT count(*) FROM {name}")[0][0]
                      for name in ("customers", "orders", "events")}
            with warehouse.transaction() as tx:  # back to before the first refresh
                tx.execute("DELETE FROM customer_scores")
                tx.execute(f"DELETE FROM events WHERE event = '{scoring.EVENT_NAME}'")
        runs = []
        for now in (as_of, as_of + timedelta(days=30)):
            began = time.perf_counter()
            report = scoring.refresh(warehouse, workspace_id=WORKSPACE, thresholds=core.Thresholds(),
                                     zone="Asia/Shanghai", now=now)
            runs.append({"now": now.isoformat(), "seconds": round(time.perf_counter() - began, 2),
                         "phases": report.seconds, "customers": report.customers, "transitions": report.transitions,
                         "baseline": report.baseline})
        stages = dict(warehouse.query("SELECT lifecycle_stage, count(*) FROM customer_scores GROUP BY 1"))
        classes = dict(warehouse.query("SELECT COALESCE(rfm_class, '-'), count(*) FROM customer_scores GROUP BY 1"))
        (predicted, historic), = warehouse.query(
            "SELECT count(predicted_value_fen), sum(historic_value_fen) FROM customer_scores")
    finally:
        warehouse.close()
    print_json({"backend": "postgres" if args.postgres else "duckdb", "as_of": as_of.isoformat(), "loaded": loaded,
          "refresh": runs, "stages": stages, "rfm_classes": classes, "model": report.model,
          "model_error": report.model_error, "customers_with_prediction": predicted,
          "historic_value_fen": int(historic)})


if __name__ == "__main__":
    main()
