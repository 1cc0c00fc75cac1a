"""The scheduler runs each job once per workspace at its local time of day; the lifecycle refresh is registered."""

import secrets
from datetime import UTC, datetime, time

from sqlalchemy import select

from yutang.runtime.schedule import Job, ScheduledRun, Scheduler, latest_slot
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.schemas import WorkspaceIn


def test_latest_slot_is_local_time_of_day():
    now = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)  # 02:30 on the 21st in Shanghai
    assert latest_slot(now, time(3), "Asia/Shanghai") == datetime(2026, 11, 19, 19, 0, tzinfo=UTC)
    assert latest_slot(now, time(3), "UTC") == datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    later = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)  # 03:00 exactly in Shanghai
    assert latest_slot(later, time(3), "Asia/Shanghai") == later


def _workspace(database, zone: str) -> int:
    with database.unit_of_work() as session:
        workspace, _ = workspaces_service.create_workspace(
            session, data=WorkspaceIn(slug="s-" + secrets.token_hex(5), name="Schedule", timezone=zone))
        return workspace.id


def test_jobs_run_once_per_workspace_at_its_local_time_and_failures_are_recorded(database):
    shanghai, utc = _workspace(database, "Asia/Shanghai"), _workspace(database, "UTC")
    calls: list[tuple[int, datetime, str]] = []
    name = "test." + secrets.token_hex(4)

    def job(actor, slot):
        calls.append((actor.workspace_id, slot, actor.timezone))
        if actor.workspace_id == utc:
            raise RuntimeError("warehouse unreachable")

    started = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    scheduler = Scheduler(database.factory, started_at=started)
    scheduler.register(Job(name=name, at=time(3), run=job))

    def mine():
        return [c for c in calls if c[0] in (shanghai, utc)]

    scheduler.run_due(datetime(2026, 11, 20, 18, 59, tzinfo=UTC))  # 02:59 in Shanghai: nothing due yet
    assert mine() == []
    scheduler.run_due(datetime(2026, 11, 20, 19, 1, tzinfo=UTC))  # 03:01 in Shanghai
    assert mine() == [(shanghai, datetime(2026, 11, 20, 19, 0, tzinfo=UTC), "Asia/Shanghai")]
    scheduler.run_due(datetime(2026, 11, 20, 23, 0, tzinfo=UTC))  # the same slot again: not run twice
    assert len(mine()) == 1
    # A second process (its own scheduler) does not run a slot the first one claimed.
    other = Scheduler(database.factory, started_at=started)
    other.register(Job(name=name, at=time(3), run=job))
    other.run_due(datetime(2026, 11, 20, 23, 30, tzinfo=UTC))
    assert len(mine()) == 1
    scheduler.run_due(datetime(2026, 11, 21, 3, 5, tzinfo=UTC))  # 03:05 in UTC: the UTC workspace's turn
    assert mine()[-1] == (utc, datetime(2026, 11, 21, 3, 0, tzinfo=UTC), "UTC")
    with database.unit_of_work() as session:
        runs = {r.workspace_id: r for r in session.scalars(select(ScheduledRun).where(ScheduledRun.job == name))
                if r.workspace_id in (shanghai, utc)}
        assert runs[shanghai].finished_at is not None and runs[shanghai].error is None
        assert runs[utc].error == "RuntimeError: warehouse unreachable"


def test_a_slot_before_the_scheduler_started_is_not_replayed(database):
    workspace = _workspace(database, "Asia/Shanghai")
    calls = []
    scheduler = Scheduler(database.factory, started_at=datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
    scheduler.register(Job(name="test." + secrets.token_hex(4), at=time(3), run=lambda a, s: calls.append(a)))
    scheduler.run_due(datetime(2026, 11, 20, 21, 0, tzinfo=UTC))  # the 19:00 UTC slot passed before start
    assert workspace not in [a.workspace_id for a in calls]


def test_the_pipeline_registers_the_nightly_lifecycle_refresh(pipeline, api, tenant):
    job = next(j for j in pipeline.scheduler.jobs if j.name == "lifecycle.compute")
    assert job.at == time(3)
    api.post("/v1/channels", json={"code": "mp", "name": "MP", "kind": "mini_program"})
    api.post("/v1/orders", json={"external_id": "S1", "channel": "mp", "status": "paid",
                                 "placed_at": "2026-11-01T10:00:00+08:00",
                                 "buyer": [{"kind": "app_user_id", "value": "sched-1"}],
                                 "lines": [{"sku": "A", "quantity": 1, "unit_price_fen": 100}]})
    job.run(tenant.actor, datetime.now(UTC))
    assert api.get("/v1/lifecycle/overview").json()["customers"] == 1
