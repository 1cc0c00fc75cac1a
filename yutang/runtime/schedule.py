"""Periodic jobs per workspace, at a local time of day in each workspace's zone (e.g. nightly at 03:00).

`run_due(now)` runs every job whose latest slot (today's or yesterday's local time of day) has passed since the
scheduler started and has not run yet; a background thread calls it every minute. A slot is claimed by inserting a
`scheduled_runs` row (unique per job, workspace and slot) in its own transaction before the job runs, so several
server processes run each slot once. Like cron, a slot missed while no server was running is not replayed.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from yutang.kit.background import Background, Worker
from yutang.kit.clock import utcnow
from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.engine import unit_of_work
from yutang.storage.types import UTCDateTime
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, system_actor

log = logging.getLogger(__name__)


class ScheduledRun(WorkspaceScoped, Base):
    """One run of a periodic job for a workspace's slot: claimed before it runs, finished or failed after."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (UniqueConstraint("job", "workspace_id", "slot_at"),)

    job: Mapped[str] = mapped_column(String(100))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Job:
    """A job run once a day per workspace at a local time of day; run(actor, slot) acts as the system actor."""

    name: str
    at: time
    run: Callable[[Actor, datetime], object]


def latest_slot(now: datetime, at: time, zone: str) -> datetime:
    """The most recent instant, at or before now, whose local time of day in the zone is `at`."""
    tz = ZoneInfo(zone)
    today: date = now.astimezone(tz).date()
    for day in (today, today - timedelta(days=1)):
        slot = datetime.combine(day, at, tzinfo=tz)
        if slot <= now:
            return slot.astimezone(ZoneInfo("UTC"))
    raise AssertionError("unreachable: yesterday's slot is always past")


class Scheduler(Background):
    """Registered jobs, each run per workspace at its local time; run_due(now) does what is due."""

    def __init__(self, factory: sessionmaker[Session], *, started_at: datetime | None = None,
                 idle_seconds: float = 60.0):
        self.factory = factory
        self.jobs: list[Job] = []
        self.started_at = started_at or utcnow()
        self.worker = Worker(lambda: self.run_due(utcnow()), name="yutang-scheduler", idle_seconds=idle_seconds)

    def register(self, job: Job) -> None:
        """Add a job (names are unique: they key the runs)."""
        if any(existing.name == job.name for existing in self.jobs):
            raise ValueError(f"a job named {job.name!r} is registered already")
        self.jobs.append(job)

    def run_due(self, now: datetime) -> list[tuple[str, int, datetime]]:
        """Run every due (job, workspace, slot) once; returns those run here, failures included."""
        with unit_of_work(self.factory) as session:
            workspaces = workspaces_service.zones(session)
        ran = []
        for job in self.jobs:
            for workspace_id, zone in workspaces:
                slot = latest_slot(now, job.at, zone)
                if slot <= self.started_at or not self._claim(job, workspace_id, slot):
                    continue
                error = None
                try:
                    job.run(system_actor(workspace_id, timezone=zone), slot)
                except Exception as exc:  # one workspace's failure must not stop the others; it is recorded
                    log.exception("scheduled job %s failed for workspace %s", job.name, workspace_id)
                    error = f"{type(exc).__name__}: {exc}"
                self._finish(job, workspace_id, slot, error)
                ran.append((job.name, workspace_id, slot))
        return ran

    def _claim(self, job: Job, workspace_id: int, slot: datetime) -> bool:
        try:
            with unit_of_work(self.factory) as session:
                session.add(ScheduledRun(workspace_id=workspace_id, job=job.name, slot_at=slot))
        except IntegrityError:
            return False  # another process (or an earlier call) has this slot
        return True

    def _finish(self, job: Job, workspace_id: int, slot: datetime, error: str | None) -> None:
        with unit_of_work(self.factory) as session:
            run = session.scalar(select(ScheduledRun).where(ScheduledRun.job == job.name,
                                                            ScheduledRun.workspace_id == workspace_id,
                                                            ScheduledRun.slot_at == slot))
            run.finished_at = utcnow()
            run.error = error
