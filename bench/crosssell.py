"""Time cross-sell rules over every order line: Yutang's one warehouse statement against mlxtend's FP-growth.

    python -m bench.crosssell --data bench/out/analytics-1m --customers 1000000 --events 20000000 [--postgres]

Generates the brand (bench/generate.py) under --data unless it is there (1M customers bring 2M orders), loads
customers, orders and order lines into a fresh warehouse (bench/lifecycle.py's loader, no events), then times the
association rules between pairs of categories and of SKUs, one basket per order, over all paid orders, --runs times
each after an untimed warm-up. In the same run it times mlxtend (`pip install -e .[bench]`): the baskets read from
the same warehouse into a sparse one-hot frame, `fpgrowth` with the same minimum support and at most two items, and
`association_rules`; the rules are checked to be the same pairs with the same support. Prints JSON: p50 / min / max
seconds.
"""

import argparse
import statistics
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench.harness import fresh_warehouse, print_json, timed
from bench.lifecycle import load
from yutang.analytics import crosssell
from yutang.analytics.periods import Window
from yutang.analytics.schemas import CrossSellIn
from yutang.analytics.sql import purchased_lines, within

WORKSPACE = 1
AS_OF = "2026-11-16T12:00:00+08:00"


def mlxtend_rules(warehouse, level: str, window, min_support: float) -> tuple[dict, set]:
    """FP-growth over the same baskets: seconds to read them, to mine them, and the rules as (a, b, support)."""
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules, fpgrowth
    from scipy import sparse

    began = time.perf_counter()
    column = crosssell.LEVELS[level]
    rows = warehouse.query(f"SELECT DISTINCT o.id, {column} {purchased_lines(column)} "
                           f"AND {within('o.paid_at', 's', 'e')}",
                           {"w": WORKSPACE, "s": window.start, "e": window.end})
    baskets, items = {}, {}
    r, c = [], []
    for basket, item in rows:
        r.append(baskets.setdefault(basket, len(baskets)))
        c.append(items.setdefault(item, len(items)))
    matrix = sparse.csr_matrix(([True] * len(r), (r, c)), shape=(len(baskets), len(items)), dtype=bool)
    frame = pd.DataFrame.sparse.from_spmatrix(matrix, columns=list(items))
    read = time.perf_counter() - began
    began = time.perf_counter()
    frequent = fpgrowth(frame, min_support=min_support, use_colnames=True, max_len=2)
    rules = association_rules(frequent, metric="confidence", min_threshold=0.0)
    mined = time.perf_counter() - began
    found = {(next(iter(a)), next(iter(b)), round(float(s), 9))
             for a, b, s in zip(rules["antecedents"], rules["consequents"], rules["support"], strict=True)}
    return {"read": round(read, 3), "mine": round(mined, 3), "baskets": len(baskets), "items": len(items)}, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench/out/analytics-1m"))
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--min-support", type=float, default=0.0005)
    parser.add_argument("--postgres", action="store_true", help="a PostgreSQL warehouse, not DuckDB")
    parser.add_argument("--database", default="yutang_bench_crosssell")
    parser.add_argument("--no-mlxtend", action="store_true", help="only Yutang's statement")
    args = parser.parse_args()
    warehouse = fresh_warehouse(args.data, customers=args.customers, events=args.events, postgres=args.postgres,
                                database=args.database, file="crosssell-bench.duckdb")
    now = datetime.fromisoformat(AS_OF).astimezone(UTC)
    # Every order line: the generator's two years, wider than a report's range may be (the API caps it at 366 days).
    window = Window(first=date(2024, 1, 1), last=now.date(), timezone="Asia/Shanghai")
    results = {}
    try:
        loaded = load(warehouse, args.data, 0)
        if args.postgres:
            with warehouse.transaction() as tx:
                tx.execute("ANALYZE")
        for level in ("category", "sku"):
            data = CrossSellIn(level=level, basket="order", min_support=args.min_support, min_confidence=0,
                               min_lift=0, top=1000)
            seconds, answer = timed(args.runs, lambda d=data: crosssell.compute(
                warehouse, d, workspace_id=WORKSPACE, window=window))
            ours = {(r.antecedent, r.consequent, round(r.support, 9)) for r in answer.rules}
            entry = {"yutang": seconds, "baskets": answer.baskets, "rules": len(answer.rules)}
            if not args.no_mlxtend:
                runs = [mlxtend_rules(warehouse, level, window, args.min_support) for _ in range(args.runs + 1)][1:]
                theirs = runs[-1][1]
                entry["mlxtend"] = {key: round(statistics.median(r[0][key] for r in runs), 3)
                                    for key in ("read", "mine")}
                entry["mlxtend"]["items"] = runs[-1][0]["items"]
                total = statistics.median(r[0]["read"] + r[0]["mine"] for r in runs)
                entry["mlxtend"]["total"] = round(total, 3)
                entry["yutang_over_mlxtend_total"] = round(seconds["p50"] / total, 2)
                entry["yutang_over_mlxtend_mining"] = round(seconds["p50"] / entry["mlxtend"]["mine"], 2)
                entry["same_rules"] = ours == theirs if len(answer.rules) < 1000 else None
                entry["mlxtend_rules"] = len(theirs)
            results[level] = entry
    finally:
        warehouse.close()
    print_json({"backend": "postgres" if args.postgres else "duckdb", "loaded": loaded,
                "min_support": args.min_support, "results": results})


if __name__ == "__main__":
    main()
