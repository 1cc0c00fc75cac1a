"""The guide's workbench with a 5,000-customer book, and guide KPIs for 1,000 guides over 90 days.

    python -m bench.workbench [--customers 5000] [--guides 1000] [--days 90] [--database-url postgresql+psycopg://…]

On a fresh data directory (embedded SQLite and DuckDB by default) it creates a workspace with 10 stores in 3
regions, --guides guides (members and staff records, bulk rows), one of them owning --customers customers (each
with an order, a tag and an ownership row) and the others 10 each, five done tasks per guide and --days days of
WeCom contact statistics per guide (stores.service.store_behavior, the rows the daily fetch keeps). Setup is not
timed. It then measures:
- workbench_page: GET /console/workbench signed in as the big book's guide (their customers 20 a page, last
  purchase first, with tags and quick tags; today's tasks), p50 / p95 of 20 requests (target p50 <= 200 ms);
- behavior_fetch_day: one day's stores.service.fetch_behavior for every guide against the local WeCom peer
  (one get_user_behavior_data call per guide), seconds;
- kpis_<group>: stores.service.kpis over the --days days per guide, store and region, p50 of 5 calls.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from bench import harness
from bench.messaging import seed
from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom
from yutang.app import create_app
from yutang.customers.models import Customer
from yutang.kit.clock import utcnow
from yutang.kit.settings import Settings
from yutang.messaging import service as messaging_service
from yutang.messaging.schemas import ChannelConfigIn
from yutang.orders.models import Order
from yutang.runtime.database import open_database
from yutang.stores import service as stores_service
from yutang.stores.models import Ownership, StaffTask
from yutang.stores.schemas import KpiGroup, StaffIn, StoreIn
from yutang.tags import service as tags_service
from yutang.tags.models import CustomerTag
from yutang.tags.schemas import TagRef
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role
from yutang.workspaces.models import Member
from yutang.workspaces.schemas import MemberIn, WorkspaceIn

REGIONS = ("华东", "华南", "华北")


def build(database, *, customers: int, guides: int, days: int, rng: random.Random) -> dict:
    """The workspace, its stores, guides, books, orders, tasks and statistics (bulk rows where it counts)."""
    with database.unit_of_work() as session:
        workspace, issued = workspaces_service.create_workspace(
            session, data=WorkspaceIn(slug=f"bench-{int(time.time())}", name="Bench"))
        actor = Actor(workspace_id=workspace.id, member_id=issued.key.member_id, role=Role.OWNER)
        stores = [stores_service.create_store(session, actor=actor, data=StoreIn(
            code=f"s{n}", name=f"门店{n}", region=REGIONS[n % 3])) for n in range(10)]
        store_ids, channel_id = [s.id for s in stores], stores[0].channel_id
        member, key = workspaces_service.add_member(session, actor=actor, data=MemberIn(name="导购0", role=Role.GUIDE))
        big = stores_service.add_staff(session, actor=actor, data=StaffIn(
            name="导购0", member_id=member.id, wecom_userid="guide0", store_id=store_ids[0]))
        now = utcnow()
        members = [member.id, *session.scalars(insert(Member).returning(Member.id, sort_by_parameter_order=True), [
            {"workspace_id": workspace.id, "name": f"导购{n}", "role": "guide", "active": True, "created_at": now}
            for n in range(1, guides)])]
        session.execute(insert(stores_service.Staff), [
            {"workspace_id": workspace.id, "name": f"导购{n}", "member_id": members[n], "wecom_userid": f"guide{n}",
             "store_id": store_ids[n % 10], "joined_on": now.date() - timedelta(days=400), "created_at": now}
            for n in range(1, guides)])
        staff = list(session.scalars(select(stores_service.Staff.id).where(
            stores_service.Staff.workspace_id == workspace.id).order_by(stores_service.Staff.id)))
        tags = tags_service.resolve(session, actor=actor, refs=[TagRef(group="偏好", name=n) for n in
                                                                ("爱喝茶", "送礼", "会员日", "新客")],
                                    create_missing=True)
        state = {"workspace_id": workspace.id, "key": key.secret, "actor": actor, "big": big.id, "staff": staff,
                 "members": members, "tags": [t.id for t in tags], "channel_id": channel_id,
                 "store_ids": store_ids}
    owners = [members[0]] * customers + [members[1 + n % (guides - 1)] for n in range(10 * (guides - 1))]
    ids = seed(database, actor, count=len(owners), kind="phone", start=0)
    now = utcnow()
    with database.unit_of_work() as session:
        for start in range(0, len(ids), 5000):
            chunk = list(zip(ids[start:start + 5000], owners[start:start + 5000], strict=True))
            for member_id in {m for _, m in chunk}:
                session.execute(update(Customer).where(Customer.id.in_([c for c, m in chunk if m == member_id]))
                                .values(assigned_member_id=member_id))
            session.execute(insert(Ownership), [
                {"workspace_id": state["workspace_id"], "customer_id": c, "member_id": m, "reason": "first_add",
                 "since": now, "created_at": now} for c, m in chunk])
            session.execute(insert(Order), [
                {"workspace_id": state["workspace_id"], "external_id": f"B{c}", "channel_id": channel_id,
                 "customer_id": c, "status": "completed", "currency": "CNY", "total_fen": fen, "paid_fen": fen,
                 "refunded_fen": 0, "placed_at": paid, "paid_at": paid, "raw": {}, "content_hash": "bench",
                 "created_at": now}
                for c, _ in chunk for fen, paid in [(rng.randint(50, 2000) * 100,
                                                     now - timedelta(days=rng.randint(0, 120)))]])
            session.execute(insert(CustomerTag), [
                {"workspace_id": state["workspace_id"], "customer_id": c, "tag_id": rng.choice(state["tags"]),
                 "source": "bench", "created_at": now} for c, _ in chunk])
        session.execute(insert(StaffTask), [
            {"workspace_id": state["workspace_id"], "staff_id": s, "kind": "follow_up", "title": "回访",
             "due_at": now - timedelta(days=d), "status": "done", "done_at": now - timedelta(days=d, hours=-2),
             "late": d % 3 == 0, "reminded": False, "created_at": now}
            for s in staff for d in range(1, 6)])
    today = now.date()
    for start in range(0, len(staff), 100):
        with database.unit_of_work() as session:
            stores_service.store_behavior(session, actor=state["actor"], days=[
                (s, today - timedelta(days=back), {"new_contact_cnt": rng.randint(0, 6), "chat_cnt": chats,
                                                   "negative_feedback_cnt": int(rng.random() < 0.1),
                                                   "message_cnt": chats * 4, "reply_percentage": 90,
                                                   "avg_reply_time": 5})
                for s in staff[start:start + 100] for back in range(2, days + 2) for chats in [rng.randint(0, 30)]])
    state["since"], state["until"] = today - timedelta(days=days), today - timedelta(days=1)
    return state


def page_timings(client: TestClient) -> dict:
    """p50 / p95 of 20 workbench pages (after one that warms the templates), in ms."""
    timings = []
    for _ in range(21):
        started = time.perf_counter()
        page = client.get("/console/workbench")
        timings.append((time.perf_counter() - started) * 1000)
        assert page.status_code == 200 and "导购0" in page.text, page.text[:500]
    timings = timings[1:]
    return {"p50": round(harness.percentile(timings, 50), 1), "p95": round(harness.percentile(timings, 95), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--guides", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="yutang-bench-workbench-"))
    settings = Settings(data_dir=data_dir, database_url=args.database_url, warehouse_url=args.database_url,
                        secret_key="bench")
    database = open_database(settings)
    database.migrate()
    result: dict = {"customers": args.customers, "guides": args.guides, "days": args.days,
                    "store": database.engine.dialect.name, "cpus": os.cpu_count()}
    try:
        started = time.perf_counter()
        state = build(database, customers=args.customers, guides=args.guides, days=args.days, rng=random.Random(7))
        result["setup_s"] = round(time.perf_counter() - started, 1)
        actor = state["actor"]

        with TestClient(create_app(settings, database=database)) as client:
            signed = client.post("/console/login", data={"key": state["key"]}, follow_redirects=False)
            assert signed.status_code == 303, signed.text
            if database.engine.dialect.name == "postgresql":
                # Right after a bulk load PostgreSQL has no statistics yet (autovacuum analyses within a minute
                # or so); both states are reported.
                result["workbench_page_unanalysed_ms"] = page_timings(client)
                with database.engine.connect() as connection:
                    connection.exec_driver_sql("ANALYZE")
                    connection.commit()
            result["workbench_page_ms"] = page_timings(client)

        fake = FakeWeCom()
        with serve(fake.app()) as url:
            with database.unit_of_work() as session:
                config = messaging_service.create_channel(session, actor=actor, data=ChannelConfigIn(
                    kind="wecom", name="WeCom", settings={"corp_id": fake.corp_id, "base_url": url},
                    secrets={"corp_secret": fake.secret})).id
            started = time.perf_counter()
            with database.unit_of_work() as session:
                fetched = stores_service.fetch_behavior(session, actor=actor, config_id=config,
                                                        day=stores_service.yesterday(actor)).fetched
            result["behavior_fetch_day_s"] = round(time.perf_counter() - started, 2)
            result["behavior_calls"] = fetched

        for group in KpiGroup:
            timings = []
            for _ in range(5):
                with database.read_only() as session:
                    started = time.perf_counter()
                    board = stores_service.kpis(session, actor=actor, since=state["since"], until=state["until"],
                                                group_by=group)
                    timings.append((time.perf_counter() - started) * 1000)
            result[f"kpis_{group.value}_ms"] = {"p50": round(harness.percentile(timings, 50), 1),
                                                "rows": len(board.rows)}
    finally:
        database.engine.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
