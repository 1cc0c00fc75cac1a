"""Creating, changing and publishing group-buys (prices frozen once published); leaders and pick-up points."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.groupbuy import core, ordering
from yutang.groupbuy.models import GroupBuy, GroupBuyItem, Leader, PickupPoint
from yutang.groupbuy.schemas import GroupBuyIn, GroupBuyOut, GroupBuyPatch, ItemIn, ItemOut, LeaderIn, PointIn, Status
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, FieldError, Invalid, NotFound
from yutang.messaging import service as messaging_service
from yutang.storage.scoped import get_in_workspace
from yutang.stores import service as stores_service
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

FROZEN = ("price_fen", "deposit_fen")


def _check_deposits(kind: core.DepositKind, items: list[ItemIn]) -> None:
    errors = [FieldError(field=f"items.{i}.deposit_fen", message=problem) for i, item in enumerate(items)
              if (problem := core.deposit_problem(kind, price_fen=item.price_fen, deposit_fen=item.deposit_fen))]
    if errors:
        raise Invalid(errors[0].message, errors)


def _item(actor: Actor, groupbuy_id: int, kind: core.DepositKind, data: ItemIn) -> GroupBuyItem:
    values = data.model_dump()
    if kind is core.DepositKind.FULL:
        values["deposit_fen"] = data.price_fen
    return GroupBuyItem(workspace_id=actor.workspace_id, groupbuy_id=groupbuy_id, **values)


def create_groupbuy(session: Session, *, actor: Actor, data: GroupBuyIn) -> GroupBuy:
    """A new group-buy as a draft, its deposits checked against their kind (a 定金 ≤ 20% of the price)."""
    actor.require(Permission.MANAGE)
    _check_deposits(data.deposit_kind, data.items)
    _check_channel(session, actor, data.notice_channel_id)
    groupbuy = GroupBuy(workspace_id=actor.workspace_id, status=Status.DRAFT.value,
                        **data.model_dump(exclude={"items"}, mode="python"))
    groupbuy.deposit_kind = data.deposit_kind.value
    groupbuy.fulfilment = data.fulfilment.value
    session.add(groupbuy)
    session.flush()
    session.add_all(_item(actor, groupbuy.id, data.deposit_kind, item) for item in data.items)
    session.flush()
    workspaces_service.record(session, actor=actor, action="groupbuy.created", entity_type="groupbuy",
                              entity_id=groupbuy.id, changes={"title": groupbuy.title})
    return groupbuy


def _check_channel(session: Session, actor: Actor, channel_id: int | None) -> None:
    if channel_id is not None:
        messaging_service.get_channel(session, actor=actor, config_id=channel_id, field="notice_channel_id")


def get_groupbuy(session: Session, *, actor: Actor, groupbuy_id: int, field: str = "groupbuy_id") -> GroupBuy:
    """A group-buy of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, GroupBuy, groupbuy_id, workspace_id=actor.workspace_id, what="group-buy",
                            field=field)


def items_of(session: Session, *, groupbuy_id: int) -> list[GroupBuyItem]:
    """A group-buy's items in the order they were listed."""
    return list(session.scalars(select(GroupBuyItem).where(GroupBuyItem.groupbuy_id == groupbuy_id)
                                .order_by(GroupBuyItem.id)))


def list_groupbuys(session: Session, *, actor: Actor, status: Status | None = None, before_id: int | None = None,
                   limit: int = 50) -> list[GroupBuy]:
    """Group-buys newest first."""
    actor.require(Permission.READ)
    query = select(GroupBuy).where(GroupBuy.workspace_id == actor.workspace_id)
    if status is not None:
        query = query.where(GroupBuy.status == status.value)
    if before_id is not None:
        query = query.where(GroupBuy.id < before_id)
    return list(session.scalars(query.order_by(GroupBuy.id.desc()).limit(limit)))


def present(session: Session, *, groupbuy: GroupBuy) -> GroupBuyOut:
    """A group-buy with its items."""
    out = GroupBuyOut.model_validate(groupbuy)
    return out.model_copy(update={"items": [ItemOut.model_validate(item)
                                            for item in items_of(session, groupbuy_id=groupbuy.id)]})


def update_groupbuy(session: Session, *, actor: Actor, groupbuy_id: int, data: GroupBuyPatch,
                    now: datetime | None = None) -> GroupBuy:
    """Change a group-buy; once published its items' prices and deposits are frozen, and a closed one is final."""
    actor.require(Permission.MANAGE)
    groupbuy = get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    if groupbuy.status == Status.CLOSED:
        raise Conflict("this group-buy was cut off; it no longer changes", field="groupbuy_id")
    changes = data.model_dump(exclude_unset=True, exclude={"items"})
    _check_channel(session, actor, changes.get("notice_channel_id"))
    if "cutoff_at" in changes and changes["cutoff_at"] <= max(groupbuy.starts_at, now or utcnow()):
        raise Invalid("the cut-off must be after the start and in the future", field="cutoff_at")
    if data.items is not None:
        kind = core.DepositKind(groupbuy.deposit_kind)
        if groupbuy.status == Status.DRAFT:
            _check_deposits(kind, data.items)
            for item in items_of(session, groupbuy_id=groupbuy.id):
                session.delete(item)
            session.flush()
            session.add_all(_item(actor, groupbuy.id, kind, item) for item in data.items)
        else:
            _refuse_published_item_changes(session, groupbuy, data.items)
    for name, value in changes.items():
        setattr(groupbuy, name, value)
    groupbuy.updated_at = utcnow()
    session.flush()
    workspaces_service.record(session, actor=actor, action="groupbuy.updated", entity_type="groupbuy",
                              entity_id=groupbuy.id, changes=data.changes())
    return groupbuy


def _refuse_published_item_changes(session: Session, groupbuy: GroupBuy, items: list[ItemIn]) -> None:
    stored = {item.sku: item for item in items_of(session, groupbuy_id=groupbuy.id)}
    if {item.sku for item in items} != set(stored):
        raise Conflict("items cannot be added or removed after publishing", field="items")
    for i, item in enumerate(items):
        before = stored[item.sku]
        for name in FROZEN:
            if getattr(item, name) != getattr(before, name) and not (
                    name == "deposit_fen" and groupbuy.deposit_kind == core.DepositKind.FULL):
                raise Conflict(f"the {name.removesuffix('_fen')} cannot change after publishing",
                               field=f"items.{i}.{name}")
        if (item.name, item.per_person_limit, item.cap, item.minimum, item.cost_fen, item.fresh) != (
                before.name, before.per_person_limit, before.cap, before.minimum, before.cost_fen, before.fresh):
            raise Conflict("an item's terms cannot change after publishing", field=f"items.{i}")


def publish(session: Session, *, actor: Actor, groupbuy_id: int, now: datetime | None = None) -> GroupBuy:
    """Open a draft for joining; from now on its prices are frozen."""
    actor.require(Permission.MANAGE)
    groupbuy = get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    if groupbuy.status != Status.DRAFT:
        raise Conflict(f"this group-buy is {groupbuy.status}, not a draft", field="groupbuy_id")
    now = now or utcnow()
    if groupbuy.cutoff_at <= now:
        raise Invalid("the cut-off has passed; move it before publishing", field="cutoff_at")
    groupbuy.status, groupbuy.published_at = Status.OPEN.value, now
    ordering.channel(session, actor=actor)  # made now, by a manager, so joins by any writer find it
    session.flush()
    workspaces_service.record(session, actor=actor, action="groupbuy.published", entity_type="groupbuy",
                              entity_id=groupbuy.id)
    return groupbuy


def create_leader(session: Session, *, actor: Actor, data: LeaderIn) -> Leader:
    """A community leader (团长) with their commission rate."""
    actor.require(Permission.MANAGE)
    if data.member_id is not None:
        try:
            workspaces_service.get_member(session, actor=actor, member_id=data.member_id)
        except NotFound as exc:
            raise NotFound("no such member", field="member_id") from exc
    leader = Leader(workspace_id=actor.workspace_id, **data.model_dump())
    session.add(leader)
    session.flush()
    return leader


def list_leaders(session: Session, *, actor: Actor) -> list[Leader]:
    """The workspace's leaders."""
    actor.require(Permission.READ)
    return list(session.scalars(select(Leader).where(Leader.workspace_id == actor.workspace_id).order_by(Leader.id)))


def create_point(session: Session, *, actor: Actor, data: PointIn) -> PickupPoint:
    """A pick-up point at a store or a leader's."""
    actor.require(Permission.MANAGE)
    if data.store_id is not None:
        stores_service.get_store(session, actor=actor, store_id=data.store_id)
    if data.leader_id is not None:
        get_in_workspace(session, Leader, data.leader_id, workspace_id=actor.workspace_id, what="leader",
                         field="leader_id")
    point = PickupPoint(workspace_id=actor.workspace_id, **data.model_dump())
    session.add(point)
    session.flush()
    return point


def get_point(session: Session, *, actor: Actor, point_id: int, field: str = "point_id") -> PickupPoint:
    """A pick-up point of the workspace."""
    return get_in_workspace(session, PickupPoint, point_id, workspace_id=actor.workspace_id, what="pick-up point",
                            field=field)


def list_points(session: Session, *, actor: Actor) -> list[PickupPoint]:
    """The workspace's pick-up points."""
    actor.require(Permission.READ)
    return list(session.scalars(select(PickupPoint).where(PickupPoint.workspace_id == actor.workspace_id)
                                .order_by(PickupPoint.id)))
