"""Broadcast planning at scale: a broadcast to every one of 1M customers, with frequency caps, consent, refusal
and quiet hours, planned on the warehouse (one query) and decided by the contact-pressure rule core.

    python -m bench.broadcasts --customers 1000000 --events 20000000 --out bench/out [--skip-postgres]

1. Reuses (or writes) the generator's Parquet files and loads them with `bench.segments.load` (the same loader as
   the segments benchmark: replicas plus 20M events, 11 of 16 `Message Clicked` loaded as `Message Sent`), into
   a fresh DuckDB file and, unless --skip-postgres, the PostgreSQL warehouse of its own database.
2. Adds what the plan reads besides: one dynamic segment whose materialised membership is every customer, and
   the consent replica — SMS withdrawn by every 20th customer, granted by every 9th (3% of the generator's
   customers refuse personalised marketing already).
3. Times `messaging.planning.plan` for an SMS marketing broadcast to that segment at 10:00 on the generator's
   as-of date (Asia/Shanghai), under: at most 2 marketing messages in 7 days (any channel), at most 1 SMS a
   day, quiet hours 22:00–08:00 — --runs times after one warm-up; also the query alone. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

from bench import harness
from bench.bulk_load import ensure_generated
from bench.segments import AS_OF, WORKSPACE, ZONE, load
from yutang.messaging import planning, pressure
from yutang.warehouse.backends import open_warehouse

PG_DATABASE = "yutang_bench_broadcasts"
SEGMENT_ID = 1
TARGET_SECONDS = 5.0
NOW = AS_OF + timedelta(hours=10)
RULES = pressure.Rules(caps=(pressure.Cap("marketing_week", 2, timedelta(days=7)),
                             pressure.Cap("sms_day", 1, timedelta(days=1), channel="sms")),
                       quiet_start=clock(22), quiet_end=clock(8), timezone=ZONE, wecom_group_sends_per_month=4)
CAMPAIGN = planning.Campaign(id=1, channel_kind="sms", priority=1, dynamic_segments=(SEGMENT_ID,))


def prepare(warehouse) -> dict:
    """The segment's membership (everyone) and the consent replica."""
    with warehouse.transaction() as tx:
        tx.execute("DELETE FROM segment_members WHERE segment_id = %(s)s", {"s": SEGMENT_ID})
        tx.execute("INSERT INTO segment_members (workspace_id, segment_id, customer_id, entered_at) "
                   "SELECT workspace_id, %(s)s, id, first_seen_at FROM customers", {"s": SEGMENT_ID})
        tx.execute("DELETE FROM consents")
        tx.execute("INSERT INTO consents (workspace_id, customer_id, channel, status, occurred_at) "
                   "SELECT workspace_id, id, 'sms', CASE WHEN MOD(id, 20) = 0 THEN 'withdrawn' ELSE 'granted' END, "
                   "first_seen_at FROM customers WHERE MOD(id, 20) = 0 OR MOD(id, 9) = 0")
        if warehouse.dialect == "postgres":
            tx.execute("ANALYZE segment_members")
            tx.execute("ANALYZE consents")
    return {"members": warehouse.query("SELECT COUNT(*) FROM segment_members")[0][0],
            "consents": warehouse.query("SELECT COUNT(*) FROM consents")[0][0]}


def measure(warehouse, runs: int) -> dict:
    def once():
        return planning.plan(warehouse, workspace_id=WORKSPACE, campaigns=[CAMPAIGN], rules=RULES, channel_kinds={},
                             now=NOW)[CAMPAIGN.id]

    once()  # warm caches
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = once()
        seconds.append(time.perf_counter() - started)
    sql, params = planning.query(warehouse.dialect, [CAMPAIGN])
    params = {**params, "w": WORKSPACE, "since": planning.history_since(RULES, NOW), "now": NOW}
    started = time.perf_counter()
    rows = len(warehouse.query(sql, params))
    query_seconds = time.perf_counter() - started
    p50 = harness.percentile(seconds, 50)
    return {"runs": runs, "plan_p50_s": round(p50, 3), "plan_max_s": round(max(seconds), 3),
            "query_only_s": round(query_seconds, 3), "query_rows": rows, "target_s": TARGET_SECONDS,
            "met": p50 <= TARGET_SECONDS, **result.counts()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg-runs", type=int, default=3)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    result: dict = {"customers": args.customers, "events": args.events, "generated": ensure_generated(args),
                    "now": NOW.isoformat(), "caps": ["marketing_week: 2 / 7 days", "sms_day: 1 / day on sms"],
                    "quiet_hours": "22:00-08:00 Asia/Shanghai", "cpus": os.cpu_count(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]}
    work = Path(tempfile.mkdtemp(prefix="yutang-bench-broadcasts-"))
    try:
        duck = open_warehouse(f"duckdb:///{work / 'warehouse.duckdb'}")
        try:
            result["duckdb_load"] = load(duck, args.out) | prepare(duck)
            result["duckdb"] = measure(duck, args.runs)
            print(json.dumps({"duckdb": result["duckdb"]}), file=sys.stderr)  # kept if the PostgreSQL half fails
        finally:
            duck.close()
        if not args.skip_postgres:
            harness.recreate_database(PG_DATABASE)
            pg = open_warehouse(harness.pg_url(PG_DATABASE))
            try:
                result["postgres_load"] = load(pg, args.out) | prepare(pg)
                result["postgres"] = measure(pg, args.pg_runs)
            finally:
                pg.close()
                harness.drop_database(PG_DATABASE)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return harness.print_json(result)


if __name__ == "__main__":
    raise SystemExit(main())
