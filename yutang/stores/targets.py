"""Guides' monthly targets (new adds, attributed GMV) and what a period's share of them is."""

from calendar import monthrange
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Forbidden, NotFound
from yutang.stores.directory import get_staff
from yutang.stores.models import Staff, StaffTarget
from yutang.stores.schemas import TargetIn, TargetOut
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


def _month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def _out(target: StaffTarget, name: str) -> TargetOut:
    return TargetOut(staff_id=target.staff_id, name=name, month=target.month.strftime("%Y-%m"),
                     new_adds=target.new_adds, gmv_fen=target.gmv_fen, updated_at=target.updated_at)


def put_target(session: Session, *, actor: Actor, data: TargetIn) -> TargetOut:
    """Set a guide's targets for a month (replacing earlier ones); scoped roles only within their team."""
    actor.require(Permission.WRITE)
    staff = get_staff(session, actor=actor, staff_id=data.staff_id)
    if actor.sees_own_customers_only:
        if staff.member_id not in actor.owners_seen:
            raise NotFound("no such staff member in your team", field="staff_id")
        if staff.member_id == actor.member_id:
            raise Forbidden("targets are set by a manager, not by the staff member themselves")
    month = _month(data.month)
    if staff.left_on is not None and staff.left_on < month:
        raise Conflict(f"{staff.name} left on {staff.left_on}", field="staff_id")
    target = session.scalar(select(StaffTarget).where(StaffTarget.workspace_id == actor.workspace_id,
                                                      StaffTarget.staff_id == staff.id, StaffTarget.month == month))
    if target is None:
        target = StaffTarget(workspace_id=actor.workspace_id, staff_id=staff.id, month=month)
        session.add(target)
    target.new_adds, target.gmv_fen = data.new_adds, data.gmv_fen
    target.by_member_id, target.updated_at = actor.member_id, utcnow()
    session.flush()
    workspaces_service.record(session, actor=actor, action="staff.target_set", entity_type="staff",
                              entity_id=staff.id, changes=data.model_dump(mode="json"))
    return _out(target, staff.name)


def list_targets(session: Session, *, actor: Actor, month: str) -> list[TargetOut]:
    """Every guide's targets for a month (a guide: their own; managers: their team's)."""
    actor.require(Permission.READ)
    query = (select(StaffTarget, Staff.name).join(Staff, Staff.id == StaffTarget.staff_id)
             .where(StaffTarget.workspace_id == actor.workspace_id, StaffTarget.month == _month(month)))
    if actor.sees_own_customers_only:
        query = query.where(Staff.member_id.in_(sorted(actor.owners_seen)))
    return [_out(target, name) for target, name in session.execute(query.order_by(Staff.name, Staff.id))]


def prorated(session: Session, *, workspace_id: int, since: date, until: date) -> dict[int, dict[str, float]]:
    """Per staff id, the targets of the months the period touches, each weighted by the share of its days the
    period covers (a whole month counts whole)."""
    first = since.replace(day=1)
    shares: dict[date, float] = {}
    month = first
    while month <= until:
        days = monthrange(month.year, month.month)[1]
        end = month + timedelta(days=days - 1)
        shares[month] = ((min(end, until) - max(month, since)).days + 1) / days
        month = end + timedelta(days=1)
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for target in session.scalars(select(StaffTarget).where(StaffTarget.workspace_id == workspace_id,
                                                            StaffTarget.month >= first, StaffTarget.month <= until)):
        share = shares[target.month]
        for field in ("new_adds", "gmv_fen"):
            value = getattr(target, field)
            if value is not None:
                out[target.staff_id][field] = out[target.staff_id].get(field, 0.0) + value * share
    return out
