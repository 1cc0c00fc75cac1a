"""Hand-over of a guide's whole book against the local WeCom peer, and a guide's list of their own customers.

    python -m bench.handover --customers 10000 [--database-url postgresql+psycopg://…/yutang_bench]

On a fresh data directory (embedded SQLite by default) it creates a workspace, a store, two guides with WeCom user
ids, and --customers customers owned by the first guide, each a WeCom contact of theirs (bulk rows, not timed).
It then measures:
- guide_list: the first guide's customer list (customers.service.search as the guide, 50 a page), p50 / p95 of
  20 calls (target p50 <= 200 ms for a 5,000-customer book);
- plan_and_send: stores.service.start_handover, planning every customer and sending them to the peer in calls
  of 100 (one unit of work);
- sync: the peer settles them (90 % taken over, 6 % refused, 4 % receiver at limit) and sync_handover moves the
  owners of the taken-over ones (ownership row, history, audit, outbox each).
Prints one JSON object with the per-status counts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, update

from bench import harness
from bench.messaging import seed
from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom
from yutang.customers import service as customers_service
from yutang.customers.models import Customer
from yutang.kit.clock import utcnow
from yutang.kit.settings import Settings
from yutang.messaging import service as messaging_service
from yutang.messaging.models import WeComContact
from yutang.messaging.schemas import ChannelConfigIn
from yutang.runtime.database import open_database
from yutang.stores import service as stores_service
from yutang.stores.schemas import HandoverIn, StaffIn, StoreIn
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role
from yutang.workspaces.schemas import MemberIn, WorkspaceIn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="yutang-bench-handover-"))
    settings = Settings(data_dir=data_dir, database_url=args.database_url, secret_key="bench")
    database = open_database(settings)
    database.migrate()
    fake = FakeWeCom()
    result: dict = {"customers": args.customers, "store": database.engine.dialect.name,
                    "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    try:
        with serve(fake.app()) as url:
            with database.unit_of_work() as session:
                workspace, issued = workspaces_service.create_workspace(
                    session, data=WorkspaceIn(slug=f"bench-{int(time.time())}", name="Bench"))
                actor = Actor(workspace_id=workspace.id, member_id=issued.key.member_id, role=Role.OWNER)
                config = messaging_service.create_channel(session, actor=actor, data=ChannelConfigIn(
                    kind="wecom", name="WeCom", settings={"corp_id": fake.corp_id, "base_url": url},
                    secrets={"corp_secret": fake.secret}))
                store = stores_service.create_store(session, actor=actor, data=StoreIn(code="s1", name="S1"))
                staff = []
                for userid in ("giver", "taker"):
                    member, _ = workspaces_service.add_member(session, actor=actor,
                                                              data=MemberIn(name=userid, role=Role.GUIDE))
                    staff.append(stores_service.add_staff(session, actor=actor, data=StaffIn(
                        name=userid, member_id=member.id, wecom_userid=userid, store_id=store.id)))
                ids = (workspace.id, config.id, staff[0].id, staff[1].id, staff[0].member_id)
            workspace_id, config_id, giver_id, taker_id, giver_member = ids
            customers = seed(database, actor, count=args.customers, kind="phone", start=0)
            now = utcnow()
            with database.unit_of_work() as session:
                session.execute(update(Customer).where(Customer.workspace_id == workspace_id)
                                .values(assigned_member_id=giver_member))
                session.execute(insert(WeComContact), [
                    {"workspace_id": workspace_id, "channel_config_id": config_id, "customer_id": cid,
                     "external_userid": f"wm{cid:010d}", "staff_userid": "giver", "added_at": now, "created_at": now}
                    for cid in customers])
            for cid in customers:
                fake.add_contact("giver", f"wm{cid:010d}", f"顾客{cid}")
            guide = Actor(workspace_id=workspace_id, member_id=giver_member, role=Role.GUIDE)
            timings = []
            for _ in range(20):
                with database.read_only() as session:
                    started = time.perf_counter()
                    customers_service.search(session, actor=guide, limit=50)
                    timings.append((time.perf_counter() - started) * 1000)
            result["guide_list_ms"] = {"p50": round(harness.percentile(timings, 50), 1),
                                       "p95": round(harness.percentile(timings, 95), 1)}
            started = time.perf_counter()
            with database.unit_of_work() as session:
                handover = stores_service.start_handover(session, actor=actor, data=HandoverIn(
                    config_id=config_id, from_staff_id=giver_id, to_staff_id=taker_id))
                handover_id = handover.id
            result["plan_and_send_s"] = round(time.perf_counter() - started, 2)
            result["transfer_calls"] = len(fake.transfer_calls)
            for index, cid in enumerate(customers):
                status = 1 if index % 50 < 45 else 3 if index % 50 < 48 else 4
                fake.settle("giver", "taker", f"wm{cid:010d}", status)
            started = time.perf_counter()
            with database.unit_of_work() as session:
                stores_service.sync_handover(session, actor=actor, handover_id=handover_id)
            result["sync_s"] = round(time.perf_counter() - started, 2)
            with database.read_only() as session:
                done = stores_service.present(session, handover=stores_service.get_handover(
                    session, actor=actor, handover_id=handover_id))
            result["counts"], result["loss_rate"] = done.counts, done.loss_rate
    finally:
        database.engine.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
