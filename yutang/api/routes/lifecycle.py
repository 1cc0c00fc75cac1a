"""Lifecycle stages, RFM and customer value: settings, the refresh and the overview."""

from typing import Annotated

from fastapi import APIRouter, Body, Request

from yutang.api.deps import ActorDep, CaughtUp, PipelineDep, database, read_only, unit_of_work
from yutang.lifecycle import service, tasks
from yutang.lifecycle.schemas import (
    ComputeIn,
    ComputeOut,
    LifecycleSettingsIn,
    LifecycleSettingsOut,
    ModelOut,
    OverviewOut,
)

router = APIRouter(prefix="/lifecycle", tags=["lifecycle"])


@router.get("/settings", response_model=LifecycleSettingsOut)
def get_settings(request: Request, actor: ActorDep):
    """Stage thresholds, the RFM window and the prediction horizon in force."""
    with read_only(request) as session:
        return service.get_settings(session, actor=actor)


@router.put("/settings", response_model=LifecycleSettingsOut)
def put_settings(request: Request, actor: ActorDep, data: LifecycleSettingsIn):
    """Replace the settings (every field; at_risk_days < dormant_days < churned_days). Applies from the next
    refresh."""
    with unit_of_work(request) as session:
        return service.update_settings(session, actor=actor, data=data)


@router.post("/compute", response_model=ComputeOut)
def compute(request: Request, actor: ActorDep, pipeline: CaughtUp,
            data: Annotated[ComputeIn | None, Body()] = None):
    """Refresh every active customer's stage, RFM scores and class, historic and predicted value now (it also
    runs nightly at 03:00 in the workspace's zone), or as of the end of an earlier day (`as_of`): orders and events
    after it are ignored and no stage changes are recorded."""
    return tasks.compute(database(request).factory, pipeline.warehouse, actor=actor,
                         as_of=data.as_of if data else None)


@router.get("/model", response_model=ModelOut)
def model(request: Request, actor: ActorDep):
    """The BG/NBD and Gamma-Gamma parameters the last refresh fitted (alpha in weeks, v in fen), its as-of day
    and what counted as one purchase."""
    with read_only(request) as session:
        return service.model(session, actor=actor)


@router.get("/overview", response_model=OverviewOut)
def overview(actor: ActorDep, pipeline: PipelineDep):
    """Customers per lifecycle stage and per RFM class, and the value distribution, as of the last refresh."""
    return service.overview(pipeline.warehouse, actor=actor)
