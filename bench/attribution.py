"""Attribution of new people: identify messages of people the store has never seen, resolved through OneID.

    python -m bench.attribution --people 3000 [--skip-postgres] [--profile]

For each store (SQLite + DuckDB in a temporary directory, then PostgreSQL as both stores in a bench database of
its own): journals --people identify messages of new people (userId, anonymousId, email, phone, name), loads them
(one batch), then times attribution (`Loader.catch_up`), which creates them in bulk. Then a tenth as many people
with two identifies each (which take the one-by-one OneID upsert). Last, it stops the loader 1 s into a backlog
of --people such pairs and times the stop. Prints JSON: people per second and
the stop time, per store. --profile prints the top of a cProfile of the first store's attribution on stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import harness
from yutang.events import messages
from yutang.events.journal import Journal
from yutang.events.loader import Loader
from yutang.kit.settings import Settings
from yutang.runtime.database import open_database
from yutang.runtime.resolution import OltpResolver
from yutang.warehouse.backends import open_warehouse
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.schemas import WorkspaceIn

PG_DATABASE = "yutang_bench_attribution"


def _lines(workspace_id: int, people: int, tag: str, *, twice: bool = False) -> list[bytes]:
    """One identify per new person (bulk-created), or two (each then goes through the one-by-one upsert)."""
    now = datetime.now(UTC)
    return [messages.accept({"type": "identify", "userId": f"{tag}-{n}", "anonymousId": f"{tag}-dev-{n}",
                             "traits": {"email": f"{tag}-{n}@example.com", "phone": f"1380{n:07d}",
                                        "name": f"客户{n}"} if step == 0 else {"city": "杭州"}},
                            kind=None, received_at=now, workspace_id=workspace_id, source_id=1, where="body").line
            for n in range(people) for step in ((0, 1) if twice else (0,))]


def _attribute(work: Path, name: str, lines: list[bytes], warehouse, database, profile: bool) -> float:
    journal = Journal(work / name)
    journal.append(lines)
    loader = Loader(journal, warehouse, OltpResolver(database))
    loader.load_once()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    loader.catch_up()
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    seconds = time.perf_counter() - started
    journal.close()
    return seconds


def measure(work: Path, database_url: str | None, warehouse_url: str, people: int, profile: bool) -> dict:
    settings = Settings(data_dir=work, database_url=database_url, warehouse_url=warehouse_url,
                        secret_key="bench-" + secrets.token_hex(8))
    database = open_database(settings)
    database.migrate()
    warehouse = open_warehouse(warehouse_url)
    try:
        with database.unit_of_work() as session:
            workspace, _ = workspaces_service.create_workspace(
                session, data=WorkspaceIn(slug="b-" + secrets.token_hex(4), name="bench"))
        seconds = _attribute(work, "journal-new", _lines(workspace.id, people, "new"), warehouse, database, profile)
        upserts = max(1, people // 10)
        one_by_one = _attribute(work, "journal-upsert", _lines(workspace.id, upserts, "upsert", twice=True),
                                warehouse, database, False)
        backlog = Journal(work / "journal-stop")
        backlog.append(_lines(workspace.id, people, "stop", twice=True))
        stopping = Loader(backlog, warehouse, OltpResolver(database), idle_seconds=0.05)
        stopping.load_once()
        stopping.start()
        time.sleep(1.0)
        started = time.perf_counter()
        stopping.stop()
        stop_seconds = time.perf_counter() - started
        backlog.close()
        return {"new_people": people, "attribution_s": round(seconds, 2),
                "new_people_per_s": round(people / seconds, 1), "one_by_one_people": upserts,
                "one_by_one_people_per_s": round(upserts / one_by_one, 1), "stop_mid_backlog_s": round(stop_seconds, 3)}
    finally:
        warehouse.close()
        database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    result: dict = {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    work = Path(tempfile.mkdtemp(prefix="yutang-bench-attribution-"))
    try:
        result["sqlite_duckdb"] = measure(work / "embedded", None, f"duckdb:///{work / 'warehouse.duckdb'}",
                                          args.people, args.profile)
        if not args.skip_postgres:
            harness.recreate_database(PG_DATABASE)
            try:
                url = harness.pg_url(PG_DATABASE)
                result["postgres"] = measure(work / "postgres", url, url, args.people, False)
            finally:
                harness.drop_database(PG_DATABASE)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return harness.print_json(result)


if __name__ == "__main__":
    raise SystemExit(main())
