"""Group-buys: a Singles'-Day rush of joins against one capped item, then the cut-off of the group-buy.

    python -m bench.groupbuy [--requests 10000] [--seconds 10] [--cap 5000] [--threads 16] [--database-url …]

On a fresh data directory (embedded SQLite by default) it creates a workspace, --requests customers (bulk, not
timed) and a published group-buy with one item capped at --cap, then sends --requests joins of one unit each (one
per customer, one unit of work each, through groupbuy.service.join) paced evenly over --seconds from --threads
threads, and reports accepted / refused joins, the units taken and sold on lines (both must equal the cap: 0
oversold) and the latency of each join (p50 / p99 ms). Then it cuts the group-buy off (every accepted entry
confirmed, outbox rows queued), timed. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from bench import harness
from yutang.customers import service as customers_service
from yutang.customers.schemas import IdentityKind
from yutang.groupbuy import service as groupbuy_service
from yutang.groupbuy.schemas import GroupBuyIn, ItemIn, JoinIn, JoinLineIn
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict
from yutang.kit.settings import Settings
from yutang.runtime.database import open_database
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role
from yutang.workspaces.schemas import WorkspaceIn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--cap", type=int, default=5_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="yutang-bench-groupbuy-")),
                        database_url=args.database_url, secret_key="bench")
    database = open_database(settings)
    database.migrate()
    result: dict = {"requests": args.requests, "cap": args.cap, "threads": args.threads,
                    "store": database.engine.dialect.name, "cpus": os.cpu_count()}
    now = utcnow()
    with database.unit_of_work() as session:
        workspace, issued = workspaces_service.create_workspace(
            session, data=WorkspaceIn(slug=f"bench-{int(time.time())}", name="Bench"))
        actor = Actor(workspace_id=workspace.id, member_id=issued.key.member_id, role=Role.OWNER)
    ids: list[int] = []
    for start in range(0, args.requests, 5_000):
        with database.unit_of_work() as session:
            people = [([(IdentityKind.APP_USER_ID, f"u{n}")], now)
                      for n in range(start, min(start + 5_000, args.requests))]
            ids += [i for i in customers_service.create_many(session, actor=actor, people=people) if i]
    with database.unit_of_work() as session:
        groupbuy = groupbuy_service.create_groupbuy(session, actor=actor, data=GroupBuyIn(
            title="双十一", fulfilment="delivery", starts_at=now - timedelta(minutes=1),
            cutoff_at=now + timedelta(hours=1), production_date=(now + timedelta(days=1)).date(),
            items=[ItemIn(sku="HOT", name="爆款", price_fen=9900, cap=args.cap, minimum=1)]))
        groupbuy_service.publish(session, actor=actor, groupbuy_id=groupbuy.id, now=now)
        groupbuy_id = groupbuy.id
        item_id = groupbuy_service.present(session, groupbuy=groupbuy).items[0].id
    latencies: list[float] = []
    outcomes = {"accepted": 0, "refused": 0, "failed": 0}
    lock = threading.Lock()
    begin = time.perf_counter()
    interval = args.seconds / max(len(ids), 1)

    def join(n: int) -> None:
        wait = begin + n * interval - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        started = time.perf_counter()
        try:
            with database.unit_of_work() as session:
                groupbuy_service.join(session, actor=actor, groupbuy_id=groupbuy_id, data=JoinIn(
                    request_key=f"r{n}", customer_id=ids[n], lines=[JoinLineIn(item_id=item_id, quantity=1)]))
            outcome = "accepted"
        except Conflict:
            outcome = "refused"
        except Exception:  # counted, not hidden: a join that fails for another reason is a finding
            outcome = "failed"
        with lock:
            latencies.append((time.perf_counter() - started) * 1000)
            outcomes[outcome] += 1

    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        list(pool.map(join, range(len(ids))))
    elapsed = time.perf_counter() - begin
    with database.read_only() as session:
        taken = groupbuy_service.present(session, groupbuy=groupbuy_service.get_groupbuy(
            session, actor=actor, groupbuy_id=groupbuy_id)).items[0].taken
        sold = sum(row.quantity for row in groupbuy_service.pick_lists(session, actor=actor, groupbuy_id=groupbuy_id))
    latencies.sort()
    result["join"] = {**outcomes, "seconds": round(elapsed, 2), "taken": taken, "sold_on_lines": sold,
                      "oversold": max(sold - args.cap, 0),
                      "p50_ms": round(latencies[len(latencies) // 2], 1),
                      "p99_ms": round(latencies[int(len(latencies) * 0.99)], 1)}
    started = time.perf_counter()
    with database.unit_of_work() as session:
        cut = groupbuy_service.cut_off(session, actor=actor, groupbuy_id=groupbuy_id, early=True)
    result["cutoff"] = {"entries": cut.confirmed_lines, "seconds": round(time.perf_counter() - started, 2)}
    database.dispose()
    harness.print_json(result)


if __name__ == "__main__":
    main()
