"""Read latency under a writer: the p99 of an API GET while another connection keeps taking the store's write lock.

    python -m bench.read_latency --reads 400 --hold-ms 50

The app runs in this process (create_app on a fresh data directory: SQLite + DuckDB, the embedded default, unless
--database-url is given). A writer thread loops: a write unit of work that updates a row, holds the transaction
(on SQLite: the write lock) for --hold-ms, commits, pauses --gap-ms. Meanwhile --reads authenticated
`GET /v1/customers` requests are timed one after another, twice in the same run:
- before: reads forced into write units of work (a `BEGIN IMMEDIATE` transaction, as every GET opened before
  reads had units of their own), so each read queues behind the writer;
- after: reads in read-only units (a deferred `BEGIN` on SQLite), as the API serves them now.

Prints one JSON object with p50 / p90 / p99 / max in milliseconds per phase, and the writer's commits.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from bench import harness
from yutang.app import create_app
from yutang.kit.settings import Settings
from yutang.runtime.database import open_database
from yutang.storage.engine import ReadSession
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.schemas import WorkspaceIn


def _writer(database, workspace_id: int, hold: float, gap: float, stop: threading.Event, commits: list[int]) -> None:
    while not stop.is_set():
        with database.unit_of_work() as session:
            session.execute(text("UPDATE workspaces SET name = name WHERE id = :w"), {"w": workspace_id})
            time.sleep(hold)
        commits[0] += 1
        time.sleep(gap)


def _timed_reads(client: TestClient, headers: dict, reads: int) -> dict:
    took = []
    for _ in range(reads):
        started = time.perf_counter()
        answer = client.get("/v1/customers", headers=headers)
        took.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text
    return {q: round(harness.percentile(took, n), 2) for q, n in (("p50_ms", 50), ("p90_ms", 90), ("p99_ms", 99))} | {
        "max_ms": round(max(took), 2), "reads": reads}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=400)
    parser.add_argument("--hold-ms", type=float, default=50.0, help="how long each write transaction is held")
    parser.add_argument("--gap-ms", type=float, default=5.0, help="pause between the writer's transactions")
    parser.add_argument("--database-url", default=None, help="OLTP store (default: a fresh SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="yutang-read-latency-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url=args.database_url,
                            secret_key="bench-read-latency")
        database = open_database(settings)
        database.migrate()
        with database.unit_of_work() as session:
            workspace, issued = workspaces_service.create_workspace(
                session, data=WorkspaceIn(slug="read-latency", name="Read latency"))
            workspace_id, key = workspace.id, issued.secret
        headers = {"Authorization": f"Bearer {key}"}
        reading = database.read_factory
        # "before": the read units as write transactions (the plain engine begins IMMEDIATE on SQLite).
        forced = sessionmaker(bind=database.engine, class_=ReadSession, expire_on_commit=False,
                              info=dict(reading.kw.get("info") or {}))
        result: dict = {"store": database.engine.dialect.name, "hold_ms": args.hold_ms, "gap_ms": args.gap_ms}
        with TestClient(create_app(settings, database=database)) as client:
            client.get("/v1/customers", headers=headers)  # warm up
            for phase, factory in (("before", forced), ("after", reading)):
                database.read_factory = factory
                stop, commits = threading.Event(), [0]
                writer = threading.Thread(target=_writer, args=(database, workspace_id, args.hold_ms / 1000,
                                                                args.gap_ms / 1000, stop, commits))
                writer.start()
                time.sleep(0.2)
                try:
                    result[phase] = _timed_reads(client, headers, args.reads) | {"writer_commits": commits[0]}
                finally:
                    stop.set()
                    writer.join()
            database.read_factory = reading
        database.dispose()
    return harness.print_json(result)


if __name__ == "__main__":
    raise SystemExit(main())
