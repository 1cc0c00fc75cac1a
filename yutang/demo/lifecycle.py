"""Demo lifecycle: stages, RFM and value computed at seed, by the refresh the API and the nightly job run."""

from sqlalchemy.orm import Session, sessionmaker

from yutang.lifecycle import tasks as lifecycle_tasks
from yutang.lifecycle.schemas import ComputeOut
from yutang.workspaces.access import Actor


def seed(factory: sessionmaker[Session], warehouse, *, actor: Actor) -> ComputeOut:
    """Refresh the demo workspace's scores now (the pipeline is caught up by the caller)."""
    return lifecycle_tasks.compute(factory, warehouse, actor=actor)
