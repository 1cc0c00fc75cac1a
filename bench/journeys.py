"""Journeys: customers entering a journey in bulk, then every wait falling due at once and the runner advancing them.

    python -m bench.journeys --customers 20000 [--database-url postgresql+psycopg://…/yutang_bench]

On a fresh data directory (embedded SQLite by default) it creates a workspace, --customers customers (bulk, not
timed) and a live journey `wait 1 h → exit`, then:
- enter: journeys.service.enrol_many in batches of 1,000 (one unit of work each), timed: enrolments per second;
- wake: the runner's run_until_idle one hour and a minute later (batches of 500 claimed and advanced per unit of
  work), timed: steps advanced per second; a second pass must find nothing.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench import harness
from yutang.customers import service as customers_service
from yutang.customers.schemas import IdentityKind
from yutang.journeys import service as journeys_service
from yutang.journeys.graph import Definition
from yutang.journeys.runner import Runner
from yutang.journeys.schemas import JourneyIn
from yutang.kit.clock import utcnow
from yutang.kit.settings import Settings
from yutang.runtime.database import open_database
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role
from yutang.workspaces.schemas import WorkspaceIn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="yutang-bench-journeys-")),
                        database_url=args.database_url, secret_key="bench")
    database = open_database(settings)
    database.migrate()
    result: dict = {"customers": args.customers, "store": database.engine.dialect.name, "cpus": os.cpu_count()}
    now = utcnow()
    with database.unit_of_work() as session:
        workspace, issued = workspaces_service.create_workspace(
            session, data=WorkspaceIn(slug=f"bench-{int(time.time())}", name="Bench"))
        actor = Actor(workspace_id=workspace.id, member_id=issued.key.member_id, role=Role.OWNER)
    ids: list[int] = []
    for start in range(0, args.customers, 5_000):
        with database.unit_of_work() as session:
            people = [([(IdentityKind.APP_USER_ID, f"u{n}")], now)
                      for n in range(start, min(start + 5_000, args.customers))]
            ids += [i for i in customers_service.create_many(session, actor=actor, people=people) if i]
    with database.unit_of_work() as session:
        journey = journeys_service.create(session, actor=actor, data=JourneyIn(name="bench", definition=Definition
                                          .model_validate({"entry": {"kind": "api"}, "start": "w", "steps": {
                                              "w": {"kind": "wait", "hours": 1, "next": "end"},
                                              "end": {"kind": "exit"}}})))
        journeys_service.move(session, actor=actor, journey_id=journey.id, action="publish", now=now)
    started = time.perf_counter()
    for start in range(0, len(ids), 1_000):
        with database.unit_of_work() as session:
            journeys_service.enrol_many(session, actor=actor, journey_id=journey.id,
                                        customer_ids=ids[start:start + 1_000], now=now)
    entered_s = time.perf_counter() - started
    result["enter"] = {"seconds": round(entered_s, 2), "per_second": round(len(ids) / entered_s)}
    runner = Runner(database.factory, lambda _s, _c: False)
    later = now + timedelta(hours=1, minutes=1)
    started = time.perf_counter()
    advanced = runner.run_until_idle(now=later)
    wake_s = time.perf_counter() - started
    result["wake"] = {"steps": advanced, "seconds": round(wake_s, 2), "per_second": round(advanced / wake_s),
                      "again": runner.run_until_idle(now=later)}
    with database.read_only() as session:
        result["totals"] = journeys_service.counts(session, actor=actor, journey_id=journey.id).totals
    database.dispose()
    harness.print_json(result)


if __name__ == "__main__":
    main()
