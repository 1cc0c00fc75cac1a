"""Time the home dashboard and a funnel on the generator's brand.

    python -m bench.analytics --customers 100000 --events 2000000 [--postgres] [--runs 5] [--chdb]

Generates the brand (bench/generate.py) under --data unless it is there, loads customers, orders and events into a
fresh warehouse (a DuckDB file under --data, or the PostgreSQL database `yutang_bench_analytics` with --postgres)
the way bench/lifecycle.py does, then times the whole dashboard (30 days against the 30 before, as of the
generator's end date) and a 5-step funnel with a 7-day window over the same 30 days, loose and strict, --runs times
each. With --chdb it also loads the same events into ClickHouse in-process (the `chdb` package, `pip install -e
.[bench]`) and times the same funnel the way PostHog's engine computes it (`windowFunnel`), in the same run, with
the ratio. Prints JSON: rows loaded, p50 / min / max seconds per report, and the first run's figures.
"""

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from bench.harness import fresh_warehouse, print_json, timed
from bench.lifecycle import load
from yutang.analytics import dashboard, funnels, retention
from yutang.analytics.periods import resolve
from yutang.analytics.schemas import FunnelIn, RetentionIn
from yutang.channels.schemas import DEFAULT_DOMAIN, ChannelKind, TrafficDomain

WORKSPACE = 1
AS_OF = "2026-11-16T12:00:00+08:00"  # the generator's default window ends on 16 November


def channels(data: Path) -> dict[int, tuple[str, str]]:
    """The generator's channels as (name, traffic domain), the domain by kind as the channels registry defaults it."""
    table = pq.read_table(data / "channels.parquet").to_pylist()
    return {row["channel_id"]: (row["name"], DEFAULT_DOMAIN.get(ChannelKind(row["kind"]), TrafficDomain.PRIVATE).value)
            for row in table}


FUNNEL = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Product Viewed"]


def clickhouse_funnel(data: Path, window, runs: int, order: str) -> tuple[dict, list[int], dict]:
    """The 5-step funnel through ClickHouse's windowFunnel on the generator's events (chdb, in this process):
    entry by a step-1 event in the range, later steps within 7 days of it; p50 seconds, customers per step, load."""
    import tempfile

    from chdb import session as chdb_session

    with tempfile.TemporaryDirectory(dir=data) as path:
        db = chdb_session.Session(path)
        began = time.perf_counter()
        files = str((data / "events-*.parquet").resolve())
        db.query("CREATE TABLE events ENGINE = MergeTree ORDER BY (workspace_id, customer_id, ts) AS "
                 "SELECT assumeNotNull(workspace_id) AS workspace_id, assumeNotNull(customer_id) AS customer_id, "
                 "event, assumeNotNull(ts) AS ts FROM file('" + files + "', Parquet) "
                 "WHERE customer_id IS NOT NULL")
        loaded = {"seconds": round(time.perf_counter() - began, 1),
                  "rows": int(str(db.query("SELECT count() FROM events", "CSV")).strip())}
        start, end = window.start.strftime("%Y-%m-%d %H:%M:%S"), window.end.strftime("%Y-%m-%d %H:%M:%S")
        mode = ", 'strict_order'" if order == "strict" else ""
        steps = ", ".join(f"event = '{name}'" + (f" AND ts < toDateTime64('{end}', 6, 'UTC')" if i == 0 else "")
                          for i, name in enumerate(FUNNEL))
        levels = ", ".join(f"countIf(level >= {k})" for k in range(1, len(FUNNEL) + 1))
        sql = (f"SELECT {levels} FROM (SELECT customer_id, windowFunnel({7 * 86400}{mode})(toDateTime(ts), {steps}) "
               f"AS level FROM events WHERE workspace_id = {WORKSPACE} AND ts >= toDateTime64('{start}', 6, 'UTC') "
               f"AND ts < toDateTime64('{end}', 6, 'UTC') + INTERVAL 7 DAY GROUP BY customer_id)")
        seconds, answer = timed(runs, lambda: str(db.query(sql, "CSV")))
        db.close()
    return seconds, [int(x) for x in answer.strip().split(",")], loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench/out/analytics"))
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="a PostgreSQL warehouse, not DuckDB")
    parser.add_argument("--database", default="yutang_bench_analytics")
    parser.add_argument("--chdb", action="store_true", help="also time the funnel through ClickHouse's windowFunnel")
    args = parser.parse_args()
    warehouse = fresh_warehouse(args.data, customers=args.customers, events=args.events, postgres=args.postgres,
                                database=args.database, file="analytics-bench.duckdb")
    now = datetime.fromisoformat(AS_OF).astimezone(UTC)
    named = channels(args.data)
    window = resolve("30d", start=None, end=None, timezone="Asia/Shanghai", now=now)
    try:
        loaded = load(warehouse, args.data, None)
        if args.postgres:  # as autovacuum would after a bulk load: the planner needs the tables' statistics
            with warehouse.transaction() as tx:
                tx.execute("ANALYZE")
        board, figures = timed(args.runs, lambda: dashboard.compute(
            warehouse, workspace_id=WORKSPACE, window=window, period="30d", channels=named, now=now))
        results = {"dashboard_30d": board}
        counts = {}
        for order in ("loose", "strict"):
            funnel = FunnelIn(steps=[{"event": name} for name in FUNNEL], window_days=7, order=order, period="30d")
            results[f"funnel_5_steps_7d_{order}"], answer = timed(args.runs, lambda f=funnel: funnels.compute(
                warehouse, f, workspace_id=WORKSPACE, window=window, channels=named))
            counts[order] = [s.customers for s in answer.steps]
        channel = FunnelIn(steps=[{"event": name} for name in FUNNEL], window_days=7, breakdown="channel", period="30d")
        results["funnel_5_steps_7d_by_channel"], _ = timed(args.runs, lambda: funnels.compute(
            warehouse, channel, workspace_id=WORKSPACE, window=window, channels=named))
        # A 12-week retention grid: weekly cohorts of the 12 weeks to the end, returns in each of 12 later weeks.
        weeks = resolve("custom", start=window.last - timedelta(days=83), end=window.last, timezone="Asia/Shanghai",
                        now=now)
        for cohort, returning in (("first_event", "any_event"), ("first_purchase", "purchase")):
            grid = RetentionIn(cohort=cohort, returning=returning, unit="week", periods=12, period="custom",
                               start=weeks.first, end=weeks.last)
            results[f"retention_12_weeks_{cohort}"], answer = timed(args.runs, lambda g=grid: retention.grid(
                warehouse, g, workspace_id=WORKSPACE, window=weeks, today=window.last))
            counts[f"retention_{cohort}_customers"] = sum(c.customers for c in answer.cohorts)
    finally:
        warehouse.close()
    clickhouse = {}
    if args.chdb:
        for order in ("loose", "strict"):
            seconds, steps, loaded_ch = clickhouse_funnel(args.data, window, args.runs, order)
            ours = results[f"funnel_5_steps_7d_{order}"]["p50"]
            clickhouse[order] = {"seconds": seconds, "customers": steps, "load": loaded_ch,
                                 "yutang_over_windowfunnel": round(ours / seconds["p50"], 2)}
    print_json({"backend": "postgres" if args.postgres else "duckdb", "window": [str(window.first), str(window.last)],
                "loaded": loaded, "seconds": results, "funnel_customers": counts, "windowfunnel": clickhouse,
                "dashboard": {"pool": figures.pool.current, "new": figures.new_customers.current,
                              "active": figures.active.current, "mau": figures.mau,
                              "orders": figures.sales.orders.current, "gmv_fen": figures.sales.gmv_fen.current,
                              "repurchase_rate": figures.repurchase_rate.current}})


if __name__ == "__main__":
    main()
