"""The refresh as a job: settings from the OLTP store, the work in the warehouse, the audit entry after it."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid
from yutang.lifecycle import core, scoring, service
from yutang.lifecycle.schemas import ComputeOut
from yutang.storage.engine import unit_of_work
from yutang.workspaces.access import Actor, Permission


def compute(factory: sessionmaker[Session], warehouse: service.Warehouse, *, actor: Actor,
            now: datetime | None = None, as_of: date | None = None) -> ComputeOut:
    """Refresh the workspace's stages, RFM and value in the warehouse (the one entry point; API, CLI, schedule).

    As of `now`, or as of the end of the local day `as_of` (a back-test: orders and events after it are ignored,
    and no stage changes are recorded). Three steps so that no OLTP transaction (on SQLite: the write lock) is held
    while the warehouse works.
    """
    now = now or utcnow()
    zone = ZoneInfo(actor.timezone)
    today = now.astimezone(zone).date()
    if as_of is not None:
        if as_of > today:
            raise Invalid(f"as_of must not be after today ({today.isoformat()})", field="as_of")
        # The last instant of the day: the facts count everything up to and including it.
        now = min(now, core.local_day_start(as_of + timedelta(days=1), actor.timezone) - timedelta(microseconds=1))
    with unit_of_work(factory) as session:
        actor.require(Permission.BULK)
        thresholds = service.thresholds(session, actor=actor)
        after_backtest = service.last_was_backtest(session, actor=actor)
    report = scoring.refresh(warehouse, workspace_id=actor.workspace_id, thresholds=thresholds, zone=actor.timezone,
                             now=now, backtest=as_of is not None, transitions=not after_backtest)
    with unit_of_work(factory) as session:
        return service.record_refresh(session, actor=actor, report=report, computed_at=now,
                                      as_of=now.astimezone(zone).date(), as_of_requested=as_of is not None,
                                      purchases=thresholds.value_purchases)
