"""Durable points awards per second: Yutang's award path (`loyalty.awards.Awarder`, which group-commits the awards
of concurrent callers, as the API's earn endpoint does) against a minimal hand-written ledger transaction (one
UPDATE of a balance plus one INSERT of an entry, committed per award) in the same run, on PostgreSQL and on
SQLite. Both are driven by the same clients: `--processes` server-like processes with `--threads` concurrent
callers each; a caller's award is acknowledged only once its transaction has committed. `unbatched` is
`points.earn` in one unit of work per award, for comparison.

    .venv/bin/python -m bench.points --seconds 8 --processes 2 --threads 16 --rounds 3

Commits are durable (synchronous_commit on for PostgreSQL; SQLite in WAL with synchronous=NORMAL, as Yutang
configures it). Customers are drawn at random from a pool, as independent requests would be. Prints one JSON
object; figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import secrets
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.harness import pg_url, print_json, recreate_database

BASELINE_DDL = [
    "CREATE TABLE IF NOT EXISTS bench_balances (customer_id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_entries (id {serial}, customer_id BIGINT NOT NULL, points BIGINT NOT NULL, "
    "idempotency_key VARCHAR(200) NOT NULL UNIQUE, created_at TIMESTAMP NOT NULL)",
]


def _settings(url: str | None, data_dir: Path):
    from yutang.kit.settings import Settings

    return Settings(data_dir=data_dir, database_url=url, secret_key="bench-secret")


def prepare(url: str | None, data_dir: Path, customers: int) -> tuple[int, list[int]]:
    """Migrate, create a workspace and customers, and the baseline's two tables; returns (workspace, ids)."""
    from yutang.customers import service as customers_service
    from yutang.customers.schemas import CustomerIn, IdentityIn, IdentityKind
    from yutang.loyalty import points
    from yutang.runtime.database import open_database
    from yutang.workspaces import service as workspaces_service
    from yutang.workspaces.access import system_actor
    from yutang.workspaces.schemas import WorkspaceIn

    database = open_database(_settings(url, data_dir))
    database.migrate()
    with database.unit_of_work() as session:
        workspace, _ = workspaces_service.create_workspace(
            session, data=WorkspaceIn(slug="bench-" + secrets.token_hex(3), name="bench"))
        actor = system_actor(workspace.id)
        ids = [customers_service.create(session, actor=actor, data=CustomerIn(identities=[
            IdentityIn(kind=IdentityKind.APP_USER_ID, value=f"bench-{n}")])).id for n in range(customers)]
    with database.unit_of_work() as session:  # steady state: every member already holds an account
        for customer_id in ids:
            points.earn(session, actor=actor, customer_id=customer_id, points=1, key=f"open-{customer_id}")
    serial = "BIGSERIAL PRIMARY KEY" if database.engine.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    with database.engine.begin() as connection:
        for ddl in BASELINE_DDL:
            connection.execute(text(ddl.format(serial=serial)))
        connection.execute(text("INSERT INTO bench_balances (customer_id, balance) VALUES (:c, 0)"),
                           [{"c": c} for c in ids])
    database.dispose()
    return workspace.id, ids


def _worker(kind: str, url: str | None, data_dir: str, workspace_id: int, ids: list[int], seconds: float,
            threads: int, ready, go, worker: int, results) -> None:
    import threading
    from datetime import UTC, datetime

    from yutang.loyalty import points
    from yutang.loyalty.awards import Awarder
    from yutang.runtime.database import open_database
    from yutang.workspaces.access import system_actor

    database = open_database(_settings(url, Path(data_dir)))
    actor = system_actor(workspace_id)
    awarder = Awarder(database.factory)
    awarder.start()
    run_id = f"{kind}-{secrets.token_hex(4)}"
    update = text("UPDATE bench_balances SET balance = balance + :p WHERE customer_id = :c")
    insert = text("INSERT INTO bench_entries (customer_id, points, idempotency_key, created_at) "
                  "VALUES (:c, :p, :k, :t)")
    counts = [0] * threads
    started = threading.Barrier(threads + 1)

    def client(n: int) -> None:
        rng = random.Random(worker * 1000 + n)
        with database.engine.connect() as connection:  # warm the pool and the statement caches alike
            connection.execute(text("SELECT 1"))
        started.wait()
        go.wait()
        deadline = time.time() + seconds
        done = 0
        while time.time() < deadline:
            customer, amount, key = rng.choice(ids), rng.randint(1, 500), f"{run_id}-{worker}-{n}-{done}"
            if kind == "yutang":
                awarder.award(actor, customer_id=customer, points=amount, key=key, reason="bench")
            elif kind == "unbatched":
                with database.unit_of_work() as session:
                    points.earn(session, actor=actor, customer_id=customer, points=amount, key=key, reason="bench")
            else:
                with database.engine.begin() as connection:
                    connection.execute(update, {"p": amount, "c": customer})
                    connection.execute(insert, {"c": customer, "p": amount, "k": key, "t": datetime.now(UTC)})
            done += 1
        counts[n] = done

    clients = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for thread in clients:
        thread.start()
    started.wait()
    ready.put(worker)
    for thread in clients:
        thread.join()
    awarder.stop()
    results.put((sum(counts), awarder.batches))
    database.dispose()


def run(kind: str, url: str | None, data_dir: Path, workspace_id: int, ids: list[int], *, processes: int,
        threads: int, seconds: float) -> tuple[float, int]:
    """Awards per second of `processes` × `threads` clients hammering one ledger for `seconds`, and the number
    of transactions the awarder committed."""
    context = multiprocessing.get_context("spawn")
    results, ready, go = context.Queue(), context.Queue(), context.Event()
    workers = [context.Process(target=_worker, args=(kind, url, str(data_dir), workspace_id, ids, seconds, threads,
                                                     ready, go, n, results)) for n in range(processes)]
    for process in workers:
        process.start()
    for _ in workers:  # every process imported and connected before the clock starts
        ready.get(timeout=120)
    go.set()
    outcomes = [results.get(timeout=seconds + 120) for _ in workers]
    for process in workers:
        process.join()
    return sum(done for done, _ in outcomes) / seconds, sum(batches for _, batches in outcomes)


def check(url: str | None, data_dir: Path, workspace_id: int) -> dict:
    """After the run: every account's balance equals the sum of its entries (nothing lost or doubled)."""
    from yutang.runtime.database import open_database

    database = open_database(_settings(url, data_dir))
    with database.engine.connect() as connection:
        wrong = connection.execute(text(
            "SELECT count(*) FROM points_accounts a WHERE a.workspace_id = :w AND a.balance <> "
            "(SELECT coalesce(sum(e.points), 0) FROM points_entries e WHERE e.customer_id = a.customer_id)"),
            {"w": workspace_id}).scalar()
        entries = connection.execute(text("SELECT count(*) FROM points_entries WHERE workspace_id = :w"),
                                     {"w": workspace_id}).scalar()
    database.dispose()
    return {"entries": entries, "accounts_not_matching_entries": wrong}


def store(name: str, url: str | None, data_dir: Path, args) -> dict:
    workspace_id, ids = prepare(url, data_dir, args.customers)
    kinds = args.kinds.split(",")
    rounds: dict[str, list[int]] = {kind: [] for kind in kinds}
    awards_per_commit = []
    for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits all alike
        for kind in kinds:
            rate, batches = run(kind, url, data_dir, workspace_id, ids, processes=args.processes,
                                threads=args.threads, seconds=args.seconds)
            rounds[kind].append(round(rate))
            if kind == "yutang" and batches:
                awards_per_commit.append(round(rate * args.seconds / batches, 1))
    best = {kind: max(values) for kind, values in rounds.items()}
    ratio = {f"{kind}_vs_baseline": round(best[kind] / best["baseline"], 3) for kind in kinds if kind != "baseline"}
    return {"store": name, "clients": args.processes * args.threads, "processes": args.processes,
            "threads": args.threads, "seconds_per_round": args.seconds, "rounds": rounds,
            "best_awards_per_s": best, **ratio, "yutang_awards_per_commit": awards_per_commit,
            **check(url, data_dir, workspace_id)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16, help="concurrent clients per process")
    parser.add_argument("--kinds", default="baseline,yutang,unbatched")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--database", default="yutang_bench_points", help="PostgreSQL database (re-created)")
    parser.add_argument("--stores", default="postgresql,sqlite")
    args = parser.parse_args()
    results = []
    for name in args.stores.split(","):
        with tempfile.TemporaryDirectory(prefix="yutang-bench-points-") as directory:
            if name == "postgresql":
                recreate_database(args.database)
                results.append(store(name, pg_url(args.database), Path(directory), args))
            else:
                results.append(store(name, None, Path(directory), args))
    return print_json({"benchmark": "points awards", "results": results})


if __name__ == "__main__":
    raise SystemExit(main())
