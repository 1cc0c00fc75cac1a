"""Stores and their staff: create, change, list; who leaves; the team a manager sees."""

from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.channels.schemas import ChannelIn, ChannelKind, ChannelRole
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.messaging import wecom
from yutang.storage.scoped import get_in_workspace
from yutang.stores.models import Staff, Store
from yutang.stores.schemas import StaffIn, StaffLeave, StaffPatch, StaffSyncIn, StaffSyncOut, StoreIn, StorePatch
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission, Role


def today(actor: Actor):
    """The date in the workspace's zone."""
    return utcnow().astimezone(ZoneInfo(actor.timezone)).date()


def member(session: Session, *, actor: Actor, member_id: int, field: str):
    """A member of the workspace; "not found" names the caller's field."""
    try:
        return workspaces_service.get_member(session, actor=actor, member_id=member_id)
    except NotFound as exc:
        raise NotFound("no such member", field=field) from exc


def create_store(session: Session, *, actor: Actor, data: StoreIn) -> Store:
    """Open a store; it is also an acquisition channel (`store.<code>`, or an existing one adopted)."""
    actor.require(Permission.MANAGE)
    if session.scalar(select(Store.id).where(Store.workspace_id == actor.workspace_id, Store.code == data.code)):
        raise Conflict(f"a store with code {data.code!r} exists already", field="code")
    if data.manager_member_id is not None:
        member(session, actor=actor, member_id=data.manager_member_id, field="manager_member_id")
    if data.channel is not None:
        channel = channels_service.find_channel(session, actor=actor, code=data.channel, field="channel")
        if session.scalar(select(Store.id).where(Store.workspace_id == actor.workspace_id,
                                                 Store.channel_id == channel.id)):
            raise Conflict(f"channel {data.channel!r} is another store's already", field="channel")
    else:
        channel = channels_service.create_channel(session, actor=actor, data=ChannelIn(
            code=f"store.{data.code}", name=data.name, kind=ChannelKind.STORE, role=ChannelRole.PRIMARY))
    store = Store(workspace_id=actor.workspace_id, channel_id=channel.id,
                  **data.model_dump(exclude={"channel"}))
    session.add(store)
    session.flush()
    workspaces_service.record(session, actor=actor, action="store.created", entity_type="store", entity_id=store.id,
                              changes=data.model_dump(mode="json"))
    return store


def get_store(session: Session, *, actor: Actor, store_id: int, field: str = "store_id") -> Store:
    """A store of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Store, store_id, workspace_id=actor.workspace_id, what="store", field=field)


def find_store(session: Session, *, actor: Actor, code: str) -> Store | None:
    """A store of the workspace by code, or None."""
    return session.scalar(select(Store).where(Store.workspace_id == actor.workspace_id, Store.code == code))


def update_store(session: Session, *, actor: Actor, store_id: int, data: StorePatch) -> Store:
    """Change a store's details, region or manager."""
    actor.require(Permission.MANAGE)
    store = get_store(session, actor=actor, store_id=store_id)
    changes = data.changes()
    if changes.get("manager_member_id") is not None:
        member(session, actor=actor, member_id=changes["manager_member_id"], field="manager_member_id")
    for key, value in changes.items():
        setattr(store, key, value)
    workspaces_service.record(session, actor=actor, action="store.updated", entity_type="store", entity_id=store.id,
                              changes=changes)
    return store


def list_stores(session: Session, *, actor: Actor, region: str | None = None) -> list[Store]:
    """Stores of the workspace by code, optionally of one region."""
    actor.require(Permission.READ)
    query = select(Store).where(Store.workspace_id == actor.workspace_id)
    if region is not None:
        query = query.where(Store.region == region)
    return list(session.scalars(query.order_by(Store.code)))


def regions(session: Session, *, actor: Actor) -> list[str]:
    """The regions stores are in."""
    actor.require(Permission.READ)
    return sorted(r for r in session.scalars(select(Store.region).distinct()
                                             .where(Store.workspace_id == actor.workspace_id)) if r)


def _check_links(session: Session, actor: Actor, values: dict, staff_id: int | None = None) -> None:
    if values.get("member_id") is not None:
        workspaces_service.get_member(session, actor=actor, member_id=values["member_id"])
        clash = session.scalar(select(Staff.id).where(Staff.workspace_id == actor.workspace_id,
                                                      Staff.member_id == values["member_id"]))
        if clash is not None and clash != staff_id:
            raise Conflict("this member is another staff record already", field="member_id")
    if values.get("wecom_userid") is not None:
        clash = session.scalar(select(Staff.id).where(Staff.workspace_id == actor.workspace_id,
                                                      Staff.wecom_userid == values["wecom_userid"]))
        if clash is not None and clash != staff_id:
            raise Conflict("this WeCom user id is another staff record's already", field="wecom_userid")
    if values.get("store_id") is not None:
        get_store(session, actor=actor, store_id=values["store_id"])


def add_staff(session: Session, *, actor: Actor, data: StaffIn) -> Staff:
    """A staff member joins a store (or a region, for a region manager)."""
    actor.require(Permission.MANAGE)
    values = data.model_dump()
    _check_links(session, actor, values)
    if data.store_id is None and data.region is None:
        raise Invalid("staff belong to a store or, for region managers, a region", field="store_id")
    values["joined_on"] = data.joined_on or today(actor)
    staff = Staff(workspace_id=actor.workspace_id, **values)
    session.add(staff)
    session.flush()
    workspaces_service.record(session, actor=actor, action="staff.joined", entity_type="staff", entity_id=staff.id,
                              changes=data.model_dump(mode="json"))
    return staff


def get_staff(session: Session, *, actor: Actor, staff_id: int, field: str = "staff_id") -> Staff:
    """A staff member of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Staff, staff_id, workspace_id=actor.workspace_id, what="staff member",
                            field=field)


def update_staff(session: Session, *, actor: Actor, staff_id: int, data: StaffPatch) -> Staff:
    """Move a staff member to another store, or correct their member or WeCom link."""
    actor.require(Permission.MANAGE)
    staff = get_staff(session, actor=actor, staff_id=staff_id)
    changes = data.changes()
    _check_links(session, actor, changes, staff.id)
    for key, value in changes.items():
        setattr(staff, key, value)
    workspaces_service.record(session, actor=actor, action="staff.updated", entity_type="staff", entity_id=staff.id,
                              changes=changes)
    return staff


def sync_staff(session: Session, *, actor: Actor, data: StaffSyncIn) -> StaffSyncOut:
    """Compare staff with WeCom's members who may have customers: add the new ones (to a store), report the gone."""
    actor.require(Permission.MANAGE)
    if data.store_id is not None:
        get_store(session, actor=actor, store_id=data.store_id)
    with wecom.calling(session, actor=actor, config_id=data.config_id, field="config_id") as client:
        userids = client.follow_users()
    staff = list_staff(session, actor=actor)
    known = {s.wecom_userid for s in staff if s.wecom_userid}
    added = [u for u in userids if u not in known] if data.store_id is not None else []
    for userid in added:
        add_staff(session, actor=actor, data=StaffIn(name=userid, wecom_userid=userid, store_id=data.store_id))
    listed = set(userids)
    missing = sorted(s.wecom_userid for s in staff if s.wecom_userid and s.left_on is None
                     and s.wecom_userid not in listed)
    return StaffSyncOut(found=len(userids), added=added, missing=missing)


def staff_leaves(session: Session, *, actor: Actor, staff_id: int, data: StaffLeave) -> Staff:
    """Record that a staff member left; their customers wait for a hand-over."""
    actor.require(Permission.MANAGE)
    staff = get_staff(session, actor=actor, staff_id=staff_id)
    if staff.left_on is not None:
        raise Conflict(f"this staff member left on {staff.left_on}", field="staff_id")
    left_on = data.left_on or today(actor)
    if left_on < staff.joined_on:
        raise Invalid("a staff member cannot leave before joining", field="left_on")
    staff.left_on = left_on
    workspaces_service.record(session, actor=actor, action="staff.left", entity_type="staff", entity_id=staff.id,
                              changes={"left_on": left_on.isoformat()})
    return staff


def list_staff(session: Session, *, actor: Actor, store_id: int | None = None, region: str | None = None,
               current: bool | None = None) -> list[Staff]:
    """Staff of the workspace by name: of a store or region, current or former."""
    actor.require(Permission.READ)
    query = select(Staff).where(Staff.workspace_id == actor.workspace_id)
    if store_id is not None:
        query = query.where(Staff.store_id == store_id)
    if region is not None:
        stores = select(Store.id).where(Store.workspace_id == actor.workspace_id, Store.region == region)
        query = query.where(or_(Staff.store_id.in_(stores), Staff.region == region))
    if current is not None:
        query = query.where(Staff.left_on.is_(None) if current else Staff.left_on.is_not(None))
    return list(session.scalars(query.order_by(Staff.name, Staff.id)))


def staff_of_member(session: Session, *, workspace_id: int, member_id: int) -> Staff | None:
    """The staff record of a workspace member, if any."""
    return session.scalar(select(Staff).where(Staff.workspace_id == workspace_id, Staff.member_id == member_id))


def staff_by_wecom(session: Session, *, workspace_id: int, wecom_userid: str) -> Staff | None:
    """The staff record of a WeCom user id, if any."""
    return session.scalar(select(Staff).where(Staff.workspace_id == workspace_id,
                                              Staff.wecom_userid == wecom_userid))


def with_team(session: Session, *, actor: Actor) -> Actor:
    """The actor with the members whose customers it sees: a store manager's store, a region manager's region."""
    if actor.role not in (Role.STORE_MANAGER, Role.REGION_MANAGER) or actor.member_id is None:
        return actor
    me = staff_of_member(session, workspace_id=actor.workspace_id, member_id=actor.member_id)
    in_workspace = Staff.workspace_id == actor.workspace_id
    if actor.role is Role.STORE_MANAGER:
        stores = {s for s in session.scalars(select(Store.id).where(Store.workspace_id == actor.workspace_id,
                                                                    Store.manager_member_id == actor.member_id))}
        if me is not None and me.store_id is not None:
            stores.add(me.store_id)
        scope = Staff.store_id.in_(sorted(stores))
    else:
        mine = set()
        if me is not None:
            mine.add(me.region)
            if me.store_id is not None:
                mine.add(session.scalar(select(Store.region).where(Store.id == me.store_id)))
        mine.discard(None)
        stores = select(Store.id).where(Store.workspace_id == actor.workspace_id, Store.region.in_(sorted(mine)))
        scope = or_(Staff.store_id.in_(stores), Staff.region.in_(sorted(mine)))
    team = session.scalars(select(Staff.member_id).where(in_workspace, scope, Staff.member_id.is_not(None)))
    return replace(actor, team=frozenset(team))
