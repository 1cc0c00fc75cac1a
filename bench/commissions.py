"""The commission ledger under concurrency: `--ops` random operations (orders paid, partial and whole refunds,
freezes ending, payouts) from `--threads` concurrent callers, each in its own unit of work through the same
flows the subscriber and the API use; then every account must equal the sum of its entries, no entry may be
reversed twice or past its amount, and no payout may include a reversed amount. Also times order paid → entries
written through the real outbox subscriber, and a payout batch over `--accounts` accounts.

    .venv/bin/python -m bench.commissions --ops 1000 --threads 8            # SQLite
    .venv/bin/python -m bench.commissions --ops 1000 --threads 8 --postgres referral17_bench

Prints one JSON object; figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import percentile, pg_url, print_json, recreate_database

PAID_AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LINES = [("TEA", "绿茶", 12_000), ("CUP", "茶具", 3_000), ("BOX", "包装", 1_000)]


def _order_in(external_id: str, customer_id: int, refunds: list[int]):
    from yutang.orders.schemas import OrderIn

    refunded = sum(refunds)
    paid = sum(amount for _, _, amount in LINES)
    status = "paid" if refunded == 0 else "refunded" if refunded == paid else "partially_refunded"
    return OrderIn.model_validate({
        "external_id": external_id, "channel": "mp", "status": status, "placed_at": PAID_AT.isoformat(),
        "paid_at": PAID_AT.isoformat(), "customer_id": customer_id, "paid_fen": paid, "total_fen": paid,
        "refunded_fen": refunded,
        "lines": [{"sku": sku, "category": category, "quantity": 1, "unit_price_fen": amount, "refunded_fen": r}
                  for (sku, category, amount), r in zip(LINES, refunds, strict=True)]})


def prepare(database, distributors: int, buyers: int):
    """A workspace, a channel, a two-level distribution programme, approved distributors and bound buyers."""
    import secrets

    from yutang.channels import service as channels_service
    from yutang.channels.schemas import ChannelIn
    from yutang.customers import service as customers_service
    from yutang.customers.schemas import CustomerIn, IdentityIn, IdentityKind
    from yutang.referral import service as referral
    from yutang.referral.schemas import DistributorStatus, ProgrammeIn
    from yutang.workspaces import service as workspaces_service
    from yutang.workspaces.access import system_actor
    from yutang.workspaces.schemas import WorkspaceIn

    with database.unit_of_work() as session:
        workspace, _ = workspaces_service.create_workspace(
            session, data=WorkspaceIn(slug="bench-" + secrets.token_hex(3), name="bench"))
        actor = system_actor(workspace.id)
        channels_service.create_channel(session, actor=actor, data=ChannelIn(code="mp", name="MP", kind="mini_program"))
        programme = referral.create_programme(session, actor=actor, data=ProgrammeIn.model_validate({
            "name": "分销", "kind": "distribution", "config": {"commission_depth": 2, "rates_bp": [1000, 300],
                                                              "after_sales_days": 7, "binding_days": 3650}}))
        people = [customers_service.create(session, actor=actor, data=CustomerIn(identities=[
            IdentityIn(kind=IdentityKind.APP_USER_ID, value=f"bench-{n}")])).id for n in range(distributors + buyers)]
        parent = None
        codes = []
        for n, customer_id in enumerate(people[:distributors]):
            row = referral.apply_distributor(session, actor=actor, programme_id=programme.id, customer_id=customer_id,
                                             parent_code=parent.code if parent and n % 3 else None)
            referral.set_status(session, actor=actor, distributor_id=row.id, status=DistributorStatus.APPROVED)
            parent = row if n % 3 == 0 else parent
            codes.append(row.code)
        for n, customer_id in enumerate(people[distributors:]):
            referral.bind(session, actor=actor, code=codes[n % len(codes)], customer_id=customer_id,
                          at=PAID_AT - timedelta(days=1))
    return actor, people[distributors:]


def run_ops(database, actor, buyers: list[int], ops: int, threads: int, seed: int) -> dict:
    """`ops` random operations from `threads` callers; returns counts, retries and per-kind latencies."""
    from sqlalchemy.exc import DBAPIError

    from yutang.commissions import service as commissions
    from yutang.kit.errors import DomainError
    from yutang.orders import service as orders_service
    from yutang.referral import service as referral

    rng = random.Random(seed)
    plan = [rng.choice(["pay", "pay", "pay", "partial", "whole", "release", "payout"]) for _ in range(ops)]
    orders: dict[str, tuple[int, list[int]]] = {}  # external id -> (buyer, refunds per line)
    lock = threading.Lock()
    counts: dict[str, int] = {}
    latencies: dict[str, list[float]] = {}
    retries = [0]
    refused: dict[str, int] = {}
    cursor = iter(range(ops))

    def one(kind: str, n: int, local: random.Random) -> None:
        if kind == "pay":
            external_id, buyer = f"B-{n}", local.choice(buyers)
            with database.unit_of_work() as session:
                order, _, _ = orders_service.record_order(session, actor=actor, data=_order_in(external_id, buyer,
                                                                                               [0, 0, 0]))
                referral.commission_order(session, actor=actor, order_id=order.id)
            with lock:
                orders[external_id] = (buyer, [0, 0, 0])
        elif kind in ("partial", "whole"):
            with lock:
                if not orders:
                    return
                external_id = local.choice(sorted(orders))
                buyer, refunds = orders[external_id]
                if kind == "whole":
                    grown = [amount for _, _, amount in LINES]
                else:
                    line = local.randrange(len(LINES))
                    grown = list(refunds)
                    grown[line] = min(LINES[line][2], grown[line] + local.randint(1, LINES[line][2]))
                orders[external_id] = (buyer, grown)
            with database.unit_of_work() as session:
                order, _, _ = orders_service.record_order(session, actor=actor,
                                                          data=_order_in(external_id, buyer, grown))
                referral.refund_order(session, actor=actor, order_id=order.id)
        elif kind == "release":
            with database.unit_of_work() as session:
                commissions.release_due(session, actor=actor, now=PAID_AT + timedelta(days=8))
        else:
            with database.unit_of_work() as session:
                accounts = commissions.list_accounts(session, actor=actor)
                if accounts:
                    commissions.pay_out(session, actor=actor, account_id=local.choice(accounts).id,
                                        key=f"bench:{n}")

    def worker(number: int) -> None:
        local = random.Random(seed * 1000 + number)
        for n in cursor:
            kind = plan[n]
            for attempt in range(8):
                started = time.perf_counter()
                try:
                    one(kind, n, local)
                    break
                except DBAPIError:  # a deadlock or serialization failure: the whole unit rolled back, try again
                    with lock:
                        retries[0] += 1
                    time.sleep(0.01 * (attempt + 1))
                except DomainError as error:  # e.g. a refund older than one another caller recorded first
                    with lock:
                        refused[type(error).__name__] = refused.get(type(error).__name__, 0) + 1
                    break
            with lock:
                counts[kind] = counts.get(kind, 0) + 1
                latencies.setdefault(kind, []).append(time.perf_counter() - started)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    return {"ops": ops, "threads": threads, "wall_s": round(wall, 2), "ops_per_s": round(ops / wall, 1),
            "retries": retries[0], "refused": refused, "counts": counts,
            "median_ms": {k: round(percentile(v, 50) * 1000, 1) for k, v in sorted(latencies.items())},
            "p99_ms": {k: round(percentile(v, 99) * 1000, 1) for k, v in sorted(latencies.items())}}


def check(database, workspace_id: int) -> dict:
    """Every account equals the sum of its entries; no entry reversed past its amount or twice by one key; no
    payout includes a reversed amount."""
    from sqlalchemy import func, select

    from yutang.commissions import service as commissions
    from yutang.commissions.models import CommissionEntry, CommissionPayout, CommissionReversal

    with database.read_only() as session:
        wrong = commissions.check_accounts(session, workspace_id=workspace_id)
        entries = session.scalar(select(func.count()).select_from(CommissionEntry)
                                 .where(CommissionEntry.workspace_id == workspace_id))
        reversals = session.scalar(select(func.count()).select_from(CommissionReversal)
                                   .where(CommissionReversal.workspace_id == workspace_id))
        bad_payouts = 0
        for payout in session.scalars(select(CommissionPayout).where(CommissionPayout.workspace_id == workspace_id)):
            paid = list(session.scalars(select(CommissionEntry).where(CommissionEntry.payout_id == payout.id)))
            if sum(e.amount_fen - e.reversed_fen for e in paid) != payout.gross_fen or any(
                    e.state != "paid" for e in paid):
                bad_payouts += 1
        payouts = session.scalar(select(func.count()).select_from(CommissionPayout)
                                 .where(CommissionPayout.workspace_id == workspace_id))
    return {"entries": entries, "reversals": reversals, "payouts": payouts, "accounts_wrong": len(wrong),
            "payouts_wrong": bad_payouts, "exact": not wrong and not bad_payouts, "first_problems": wrong[:3]}


def paid_latency(database, actor, buyers: list[int], orders: int) -> dict:
    """Order paid (committed) → its entries written by the real outbox subscriber (`Subscribers.catch_up`)."""
    from yutang.orders import service as orders_service
    from yutang.referral import flows
    from yutang.runtime.subscribers import Subscribers, Subscription

    subscribers = Subscribers(database.factory, [Subscription(name=flows.SUBSCRIPTION, topics=flows.TOPICS,
                                                              handler=flows.on_change)])
    subscribers.catch_up()  # skip what the concurrent run left
    times = []
    for n in range(orders):
        with database.unit_of_work() as session:
            orders_service.record_order(session, actor=actor, data=_order_in(f"L-{n}", buyers[n % len(buyers)],
                                                                            [0, 0, 0]))
        started = time.perf_counter()
        subscribers.catch_up()
        times.append(time.perf_counter() - started)
    return {"orders": orders, "median_ms": round(percentile(times, 50) * 1000, 1),
            "p99_ms": round(percentile(times, 99) * 1000, 1)}


def batch_time(database, actor, accounts: int) -> dict:
    """A payout batch over `accounts` accounts with available money (entries posted directly, one each)."""
    from yutang.commissions import core
    from yutang.commissions import service as commissions

    with database.unit_of_work() as session:
        for n in range(accounts):
            commissions.post(session, actor=actor, source="bench", order_id=10**9 + n,
                             share=core.Share(1, 1, 10**6 + n, 10_000, 1_000, 1_000), kind="leader",
                             line_amount_fen=10_000, release_at=PAID_AT, occurred_at=PAID_AT)
        commissions.release_due(session, actor=actor, now=PAID_AT + timedelta(days=30))
    started = time.perf_counter()
    with database.unit_of_work() as session:
        batch = commissions.create_batch(session, actor=actor, withholding_bp=2000)
        count = batch.count
    return {"accounts": accounts, "paid": count, "seconds": round(time.perf_counter() - started, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--distributors", type=int, default=30)
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--latency-orders", type=int, default=200)
    parser.add_argument("--batch-accounts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--postgres", metavar="DATABASE", help="run on this PostgreSQL database (recreated)")
    args = parser.parse_args()

    from yutang.kit.settings import Settings
    from yutang.runtime.database import open_database

    data_dir = Path(tempfile.mkdtemp(prefix="bench-commissions-"))
    url = None
    if args.postgres:
        recreate_database(args.postgres)
        url = pg_url(args.postgres)
    database = open_database(Settings(data_dir=data_dir, database_url=url, secret_key="bench-secret"))
    database.migrate()
    actor, buyers = prepare(database, args.distributors, args.buyers)
    result = {"store": database.engine.dialect.name}
    result["concurrent"] = run_ops(database, actor, buyers, args.ops, args.threads, args.seed)
    result["check"] = check(database, actor.workspace_id)
    result["paid_to_entries"] = paid_latency(database, actor, buyers, args.latency_orders)
    result["batch"] = batch_time(database, actor, args.batch_accounts)
    result["check_after"] = check(database, actor.workspace_id)
    database.dispose()
    return print_json(result)


if __name__ == "__main__":
    raise SystemExit(main())
