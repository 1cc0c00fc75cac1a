"""Saved reports: a report's kind and settings under a name, pinned to the overview or not."""

from datetime import date

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.analytics.models import SavedReport
from yutang.analytics.schemas import (
    FunnelIn,
    PondHealthIn,
    RepurchaseIn,
    RetentionIn,
    SavedReportIn,
    SavedReportOut,
    SavedReportPatch,
)
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.kit.fields import Text
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Need


class AcquisitionParams(BaseModel):
    """The acquisition report's range."""

    period: Text = "30d"
    start: date | None = None
    end: date | None = None


INPUTS: dict[str, type[BaseModel]] = {"funnel": FunnelIn, "retention": RetentionIn, "repurchase": RepurchaseIn,
                                      "acquisition": AcquisitionParams, "pond_health": PondHealthIn}
MAX_PINNED = 12  # the overview stays an overview


def params_of(kind: str, params: dict) -> BaseModel:
    """A saved report's settings as its report's input; a fault names the field under `params`."""
    try:
        return INPUTS[kind](**params)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise Invalid(f"params.{where}: {error['msg']}", field=f"params.{where}" if where else "params") from None


def present(report: SavedReport) -> SavedReportOut:
    """The saved report as the API shows it."""
    return SavedReportOut(id=report.id, name=report.name, kind=report.kind, params=report.params,
                          pinned=report.pinned, created_at=report.created_at)


def _taken(session: Session, actor: Actor, name: str, but: int | None = None) -> None:
    clash = session.scalar(select(SavedReport.id).where(SavedReport.workspace_id == actor.workspace_id,
                                                        SavedReport.name == name))
    if clash is not None and clash != but:
        raise Conflict(f"a saved report is already called {name!r}", field="name")


def _room_to_pin(session: Session, actor: Actor) -> None:
    pinned = session.scalars(select(SavedReport.id).where(SavedReport.workspace_id == actor.workspace_id,
                                                          SavedReport.pinned.is_(True))).all()
    if len(pinned) >= MAX_PINNED:
        raise Conflict(f"at most {MAX_PINNED} reports are pinned to the overview: unpin one first", field="pinned")


def save(session: Session, *, actor: Actor, data: SavedReportIn) -> SavedReport:
    """Save a report's settings under a new name (checked as the report itself would check them)."""
    actor.require_need(Need.MANAGE)
    params = params_of(data.kind, data.params).model_dump(mode="json", exclude_defaults=True)
    _taken(session, actor, data.name)
    if data.pinned:
        _room_to_pin(session, actor)
    report = SavedReport(workspace_id=actor.workspace_id, name=data.name, kind=data.kind, params=params,
                         pinned=data.pinned, member_id=actor.member_id)
    session.add(report)
    session.flush()
    workspaces_service.record(session, actor=actor, action="report.saved", entity_type="saved_report",
                              entity_id=report.id, changes={"name": data.name, "kind": data.kind})
    return report


def get(session: Session, *, actor: Actor, report_id: int) -> SavedReport:
    """One saved report of the workspace."""
    actor.require_need(Need.READ)
    report = session.get(SavedReport, report_id)
    if report is None or report.workspace_id != actor.workspace_id:
        raise NotFound(f"no saved report {report_id}", field="report_id")
    return report


def listed(session: Session, *, actor: Actor, pinned: bool | None = None) -> list[SavedReport]:
    """The workspace's saved reports (or only the pinned ones, or only the others), oldest first."""
    actor.require_need(Need.READ)
    query = select(SavedReport).where(SavedReport.workspace_id == actor.workspace_id)
    if pinned is not None:
        query = query.where(SavedReport.pinned.is_(pinned))
    return list(session.scalars(query.order_by(SavedReport.id)))


def update(session: Session, *, actor: Actor, report_id: int, data: SavedReportPatch) -> SavedReport:
    """Rename a saved report, or pin it to / unpin it from the overview."""
    actor.require_need(Need.MANAGE)
    report = get(session, actor=actor, report_id=report_id)
    changes = data.changes()
    if "name" in changes:
        _taken(session, actor, changes["name"], but=report.id)
        report.name = changes["name"]
    if changes.get("pinned") and not report.pinned:
        _room_to_pin(session, actor)
    if "pinned" in changes:
        report.pinned = changes["pinned"]
    report.updated_at = utcnow()
    workspaces_service.record(session, actor=actor, action="report.updated", entity_type="saved_report",
                              entity_id=report.id, changes=changes)
    return report


def delete(session: Session, *, actor: Actor, report_id: int) -> None:
    """Forget a saved report (the figures it showed are computed again whenever asked)."""
    actor.require_need(Need.MANAGE)
    report = get(session, actor=actor, report_id=report_id)
    session.delete(report)
    workspaces_service.record(session, actor=actor, action="report.deleted", entity_type="saved_report",
                              entity_id=report_id, changes={"name": report.name})
