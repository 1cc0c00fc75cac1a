"""The refresh as a job: settings from the OLTP store, the work in the warehouse, the audit entry after it."""

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.clock import utcnow
from yutang.lifecycle import scoring, service
from yutang.lifecycle.schemas import ComputeOut
from yutang.storage.engine import unit_of_work
from yutang.workspaces.access import Actor, Permission


def compute(factory: sessionmaker[Session], warehouse: service.Warehouse, *, actor: Actor,
            now: datetime | None = None) -> ComputeOut:
    """Refresh the workspace's stages, RFM and value in the warehouse (the one entry point; API, CLI, schedule).

    Three steps so that no OLTP transaction (on SQLite: the write lock) is held while the warehouse works.
    """
    now = now or utcnow()
    with unit_of_work(factory) as session:
        actor.require(Permission.BULK)
        thresholds = service.thresholds(session, actor=actor)
    report = scoring.refresh(warehouse, workspace_id=actor.workspace_id, thresholds=thresholds, zone=actor.timezone,
                             now=now)
    with unit_of_work(factory) as session:
        return service.record_refresh(session, actor=actor, report=report, computed_at=now)
