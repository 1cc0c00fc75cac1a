"""Bulk load of the generated events into a fresh DuckDB warehouse, against PostgreSQL COPY of the same rows.

    python -m bench.bulk_load --customers 1000000 --events 20000000 --out bench/out

1. Reuses the generator's Parquet files in --out when they hold --events rows, else generates them.
2. Yutang: `yutang.warehouse.bulk.load_events` into a new DuckDB warehouse file, reading the Parquet files in
   1M-row batches (the generator's columns plus `source`; `context` left null). Timed from the first read to
   the last commit.
3. PostgreSQL: the same rows written once as CSV (untimed, like a file handed to psql), then
   `COPY … FROM STDIN (FORMAT csv)` streamed from the file through psycopg (what psql's \\copy does) into a
   plain table with the warehouse's column types (JSONB for properties / context) and no index, in the bench
   database. Timed from COPY's start to its end.
4. For reference, load_events into the PostgreSQL warehouse (its indexed events table) for --pg-warehouse-rows.

Prints one JSON object: rows/s of each and the ratio (target: Yutang's DuckDB load >= 2x COPY).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from bench import harness
from bench.generate import generate
from yutang.warehouse import bulk
from yutang.warehouse.backends import open_warehouse
from yutang.warehouse.schema import TABLES

BATCH_ROWS = 1_000_000
COPY_COLUMNS = ["workspace_id", "message_id", "type", "event", "customer_id", "user_id", "anonymous_id",
                "properties", "ts", "received_at", "source"]


def event_files(out: Path) -> list[Path]:
    return sorted(out.glob("events-*.parquet"))


def ensure_generated(args) -> dict:
    files = event_files(args.out)
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    if rows == args.events:
        return {"reused": str(args.out), "rows": rows}
    summary = generate(args.out, args.customers, args.events, args.seed)
    return {"generated": str(args.out), "seconds": summary["seconds"], "rows": summary["tables"]["events"]["rows"]}


def warehouse_batches(files: list[Path], limit: int | None = None) -> Iterator[pa.Table]:
    """The generator's events as the warehouse's columns: add `source` (context stays null)."""
    left = limit
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
            table = pa.Table.from_batches([batch])
            if left is not None:
                table = table.slice(0, left)
                left -= table.num_rows
            yield table.append_column("source", pa.repeat(pa.scalar("bench"), table.num_rows))
            if left is not None and left <= 0:
                return


def load_duckdb(files: list[Path], work: Path) -> dict:
    path = work / "warehouse.duckdb"
    warehouse = open_warehouse(f"duckdb:///{path}")
    try:
        report = bulk.load_events(warehouse, warehouse_batches(files))
        stored = warehouse.query("SELECT count(*) FROM events")[0][0]
    finally:
        warehouse.close()
    return {**report, "stored": stored, "file_bytes": path.stat().st_size}


def write_csv(files: list[Path], csv_path: Path) -> dict:
    started = time.perf_counter()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    writer = None
    for table in warehouse_batches(files):
        table = table.select(COPY_COLUMNS)
        if writer is None:
            writer = pa_csv.CSVWriter(str(csv_path), table.schema, write_options=options)
        writer.write_table(table)
    if writer is not None:
        writer.close()
    return {"seconds": round(time.perf_counter() - started, 1), "bytes": csv_path.stat().st_size}


def copy_postgres(csv_path: Path) -> dict:
    ddl = TABLES[0].format(json="JSONB").replace("CREATE TABLE IF NOT EXISTS events", "CREATE TABLE copy_events")
    with psycopg.connect(harness.pg_url().replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS copy_events")
        connection.execute(ddl)
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(
                f"COPY copy_events ({', '.join(COPY_COLUMNS)}) FROM STDIN (FORMAT csv)") as copy, \
                open(csv_path, "rb") as source:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        stored = connection.execute("SELECT count(*) FROM copy_events").fetchone()[0]
    return {"rows": stored, "seconds": round(seconds, 3), "rows_per_second": round(stored / seconds)}


def load_postgres_warehouse(files: list[Path], rows: int) -> dict:
    warehouse = open_warehouse(harness.pg_url())
    try:
        return bulk.load_events(warehouse, warehouse_batches(files, limit=rows))
    finally:
        warehouse.close()


def run(args) -> dict:
    started = time.perf_counter()
    data = ensure_generated(args)
    files = event_files(args.out)
    work = Path(tempfile.mkdtemp(prefix="yutang-bench-bulk-", dir=args.work))
    harness.recreate_database()
    try:
        duck = load_duckdb(files, work)
        csv_path = work / "events.csv"
        csv = write_csv(files, csv_path)
        pg_copy = copy_postgres(csv_path)
        csv_path.unlink()
        pg_warehouse = load_postgres_warehouse(files, args.pg_warehouse_rows) if args.pg_warehouse_rows else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            harness.drop_database()
    ratio = duck["rows_per_second"] / pg_copy["rows_per_second"]
    return {
        "benchmark": "bulk_load", "machine": {"cores": os.cpu_count()}, "data": data,
        "yutang_duckdb": duck, "csv_for_copy": csv, "postgresql_copy": pg_copy,
        "ratio_yutang_to_copy": round(ratio, 2), "target_ratio": 2.0, "meets_target": ratio >= 2.0,
        "yutang_postgresql_warehouse": pg_warehouse,
        "seconds": round(time.perf_counter() - started, 1),
        "command": "python -m bench.bulk_load " + " ".join(sys.argv[1:]),
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.bulk_load", description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=20_000_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    p.add_argument("--work", help="directory for the DuckDB file and the CSV (default: the temp directory)")
    p.add_argument("--pg-warehouse-rows", type=int, default=1_000_000,
                   help="rows to load into the PostgreSQL warehouse through load_events, for reference (0: skip)")
    p.add_argument("--keep", action="store_true", help=f"keep the {harness.BENCH_DB} database afterwards")
    return p


def main(argv: list[str] | None = None) -> int:
    return harness.print_json(run(parser().parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
