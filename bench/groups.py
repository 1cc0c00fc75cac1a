"""Customer groups: the health of every group over 90 days of talk, and a sync against the local WeCom peer.

    python -m bench.groups --groups 10000 --members 50 --days 90 --sync-groups 1000 --sync-members 200 \
        [--database-url postgresql+psycopg://…/yutang_bench]

On a fresh data directory (embedded SQLite by default) it creates a workspace with a WeCom configuration, then:
- health: --groups groups of --members members each (joins spread over the last year, 5 % gone) and --days days
  of talk per group (bulk rows, not timed), then groups.service.group_health over them all — members, joins,
  quits, messages, share who spoke in 7 / 30 days, silent flag — timed 5 times (median; target <= 10 s for
  10,000 groups over 90 days), and owner_health once;
- sync: the peer holds --sync-groups groups of --sync-members external members, and groups.service.sync_groups
  pulls them (groupchat/list pages of 1,000, one groupchat/get per group, members to customers through OneID in
  bulk) in one unit of work, timed; a second sync with nothing changed is timed too.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench import harness
from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom
from yutang.groups import service as groups_service
from yutang.groups.models import GroupChat, GroupDayStat, GroupMember
from yutang.kit.clock import utcnow
from yutang.kit.settings import Settings
from yutang.messaging import service as messaging_service
from yutang.messaging.schemas import ChannelConfigIn
from yutang.runtime.database import open_database
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role
from yutang.workspaces.schemas import WorkspaceIn


def _seed_health(database, actor: Actor, config_id: int, *, groups: int, members: int, days: int) -> None:
    rng = random.Random(7)
    now = utcnow()
    today = now.date()
    with database.unit_of_work() as session:
        ids = list(session.scalars(insert(GroupChat).returning(GroupChat.id, sort_by_parameter_order=True), [
            {"workspace_id": actor.workspace_id, "messaging_config_id": config_id, "chat_id": f"wr{n:06d}",
             "name": f"群{n:06d}", "owner_userid": f"owner{n % 200:03d}", "admin_userids": [], "created_at": now}
            for n in range(groups)]))
    for start in range(0, groups, 500):
        chunk = ids[start:start + 500]
        with database.unit_of_work() as session:
            rows = []
            for group_id in chunk:
                for m in range(members):
                    joined = now - timedelta(days=rng.randint(0, 365), hours=rng.randint(0, 23))
                    spoke = now - timedelta(days=rng.randint(0, 60)) if rng.random() < 0.5 else None
                    rows.append({"workspace_id": actor.workspace_id, "group_id": group_id, "userid": f"wm{m}",
                                 "external": True, "join_scene": 3, "joined_at": joined,
                                 "left_at": now - timedelta(days=rng.randint(0, 30)) if rng.random() < 0.05 else None,
                                 "last_spoke_at": spoke, "created_at": now})
            session.execute(insert(GroupMember), rows)
            silent = {g for g in chunk if rng.random() < 0.2}
            session.execute(insert(GroupDayStat), [
                {"workspace_id": actor.workspace_id, "group_id": g, "day": today - timedelta(days=d),
                 "messages": 0 if g in silent and d < 14 else rng.randint(0, 80), "speakers": rng.randint(0, 10),
                 "created_at": now} for g in chunk for d in range(days)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--sync-groups", type=int, default=1_000)
    parser.add_argument("--sync-members", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-resync", action="store_true", help="skip the second sync with nothing changed")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="yutang-bench-groups-"))
    settings = Settings(data_dir=data_dir, database_url=args.database_url, secret_key="bench")
    database = open_database(settings)
    database.migrate()
    fake = FakeWeCom()
    result: dict = {"groups": args.groups, "members_per_group": args.members, "days": args.days,
                    "store": database.engine.dialect.name, "cpus": os.cpu_count()}
    try:
        with serve(fake.app()) as url:
            with database.unit_of_work() as session:
                workspace, issued = workspaces_service.create_workspace(
                    session, data=WorkspaceIn(slug=f"bench-{int(time.time())}", name="Bench"))
                actor = Actor(workspace_id=workspace.id, member_id=issued.key.member_id, role=Role.OWNER)
                config_id = messaging_service.create_channel(session, actor=actor, data=ChannelConfigIn(
                    kind="wecom", name="WeCom", settings={"corp_id": fake.corp_id, "base_url": url},
                    secrets={"corp_secret": fake.secret})).id
            started = time.perf_counter()
            _seed_health(database, actor, config_id, groups=args.groups, members=args.members, days=args.days)
            result["seed_s"] = round(time.perf_counter() - started, 1)
            timings, silent = [], 0
            for _ in range(5):
                with database.read_only() as session:
                    started = time.perf_counter()
                    health = groups_service.group_health(session, actor=actor)
                    timings.append(time.perf_counter() - started)
                silent = sum(h.silent for h in health)
            result["health"] = {"median_s": round(statistics.median(timings), 2),
                                "min_s": round(min(timings), 2), "groups": len(health), "silent": silent}
            with database.read_only() as session:
                started = time.perf_counter()
                owners = groups_service.owner_health(session, actor=actor)
                result["owner_health"] = {"s": round(time.perf_counter() - started, 2), "owners": len(owners)}
            sync_base = 1_800_000_000
            for n in range(args.sync_groups):
                fake.add_chat(f"ws{n:06d}", owner=f"owner{n % 200:03d}", name=f"同步群{n}", members=[
                    {"userid": f"wmS{n}x{m}", "type": 2, "join_time": sync_base, "join_scene": 3}
                    for m in range(args.sync_members)])
            for label in ("sync",) if args.no_resync else ("sync", "resync"):
                with database.unit_of_work() as session:
                    started = time.perf_counter()
                    out = groups_service.sync_groups(session, actor=actor, config_id=config_id)
                    elapsed = time.perf_counter() - started
                result[label] = {"s": round(elapsed, 1), "groups": out.groups, "joined": out.joined,
                                 "members_per_s": round(args.sync_groups * (args.sync_members + 1) / elapsed)}
    finally:
        database.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    result["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    harness.print_json(result)


if __name__ == "__main__":
    main()
