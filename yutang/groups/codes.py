"""Group QR codes (群活码) through WeCom join ways: create over up to five groups, read, delete, and their figures."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yutang.groups.models import GroupChat, GroupCode, GroupMember
from yutang.groups.schemas import MAX_CODE_GROUPS, GroupCodeIn, GroupCodeStatsOut
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.messaging import wecom
from yutang.messaging.adapters.base import ChannelError
from yutang.orders import service as orders_service
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


def create_code(session: Session, *, actor: Actor, data: GroupCodeIn) -> GroupCode:
    """Create the WeCom join way over the groups (at most five, live, of this configuration) and keep its state."""
    actor.require(Permission.MANAGE)
    if len(data.group_ids) > MAX_CODE_GROUPS:
        raise Invalid(f"WeCom allows at most {MAX_CODE_GROUPS} groups behind one group QR code "
                      f"({len(data.group_ids)} given)", field="group_ids")
    if len(set(data.group_ids)) != len(data.group_ids):
        raise Invalid("a group is named twice", field="group_ids")
    if session.scalar(select(GroupCode.id).where(GroupCode.workspace_id == actor.workspace_id,
                                                 GroupCode.state == data.state)):
        raise Conflict(f"a group code with state {data.state!r} exists already", field="state")
    chats = []
    for index, group_id in enumerate(data.group_ids):
        group = get_in_workspace(session, GroupChat, group_id, workspace_id=actor.workspace_id, what="group",
                                 field=f"group_ids[{index}]")
        if group.dismissed_at is not None:
            raise Conflict(f"group {group.name!r} was dismissed", field=f"group_ids[{index}]")
        if group.messaging_config_id != data.config_id:
            raise Invalid(f"group {group.name!r} belongs to another WeCom configuration", field=f"group_ids[{index}]")
        chats.append(group.chat_id)
    if data.auto_create_room and not data.room_base_name:
        raise Invalid("automatically opened groups need a base name", field="room_base_name")
    if data.adopt_config_id:  # a join way made in WeCom's admin already: its QR stays valid
        if not data.adopt_qr_url:
            raise Invalid("an adopted join way needs its qr_code URL", field="adopt_qr_url")
        return _keep(session, actor, data, chats, data.adopt_config_id, data.adopt_qr_url)
    client = wecom.client_for(session, actor=actor, config_id=data.config_id)
    try:
        try:
            config_id = client.add_join_way(chat_ids=chats, state=data.state, remark=data.name,
                                            auto_create_room=data.auto_create_room,
                                            room_base_name=data.room_base_name or "", room_base_id=data.room_base_id)
            qr_url = client.get_join_way(config_id=config_id).get("qr_code")
        except ChannelError as exc:
            raise wecom.refused(exc, field="group_ids") from exc
        try:
            welcome = client.add_group_welcome(text=data.welcome_text) if data.welcome_text else None
        except ChannelError as exc:
            _undo(client, config_id)
            raise wecom.refused(exc, field="welcome_text") from exc
    finally:
        client.close()
    return _keep(session, actor, data, chats, config_id, qr_url, welcome)


def _undo(client, config_id: str) -> None:
    """Delete a join way whose welcome WeCom refused, so nothing is left half-made there either."""
    try:
        client.del_join_way(config_id=config_id)
    except ChannelError:
        pass  # the code is not kept here; WeCom's admin shows the stray join way


def _keep(session: Session, actor: Actor, data: GroupCodeIn, chats: list[str], config_id: str,
          qr_url: str | None, welcome: str | None = None) -> GroupCode:
    code = GroupCode(workspace_id=actor.workspace_id, messaging_config_id=data.config_id, name=data.name,
                     state=data.state, chat_ids=chats, auto_create_room=data.auto_create_room,
                     room_base_name=data.room_base_name, room_base_id=data.room_base_id, wecom_config_id=config_id,
                     qr_url=qr_url, welcome_text=data.welcome_text, welcome_template_id=welcome)
    session.add(code)
    session.flush()
    workspaces_service.record(session, actor=actor, action="group_code.created", entity_type="group_code",
                              entity_id=code.id, changes=data.model_dump(mode="json", exclude_none=True))
    return code


def get_code(session: Session, *, actor: Actor, code_id: int) -> GroupCode:
    """A group code of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, GroupCode, code_id, workspace_id=actor.workspace_id, what="group code",
                            field="group_code_id")


def list_codes(session: Session, *, actor: Actor, include_deleted: bool = False) -> list[GroupCode]:
    """Group codes of the workspace, newest first."""
    actor.require(Permission.READ)
    query = select(GroupCode).where(GroupCode.workspace_id == actor.workspace_id)
    if not include_deleted:
        query = query.where(GroupCode.deleted_at.is_(None))
    return list(session.scalars(query.order_by(GroupCode.id.desc())))


def delete_code(session: Session, *, actor: Actor, code_id: int) -> GroupCode:
    """Delete the WeCom join way (its QR stops working); the code and its figures stay."""
    actor.require(Permission.MANAGE)
    code = get_code(session, actor=actor, code_id=code_id)
    if code.deleted_at is not None:
        raise Conflict("this group code was deleted", field="group_code_id")
    with wecom.calling(session, actor=actor, config_id=code.messaging_config_id, field="group_code_id") as client:
        client.del_join_way(config_id=code.wecom_config_id)
    code.deleted_at = utcnow()
    workspaces_service.record(session, actor=actor, action="group_code.deleted", entity_type="group_code",
                              entity_id=code.id)
    return code


def code_stats(session: Session, *, actor: Actor, code_id: int) -> GroupCodeStatsOut:
    """Joins through a code (members whose join state is the code's, in any group), how many of them left, and
    the customers among them who paid an order after their first join through it, with those orders' value."""
    code = get_code(session, actor=actor, code_id=code_id)
    joins, quits = session.execute(
        select(func.count(), func.count(GroupMember.left_at))
        .where(GroupMember.workspace_id == actor.workspace_id, GroupMember.state == code.state)).one()
    starts = (select(GroupMember.customer_id.label("customer_id"), func.min(GroupMember.joined_at).label("since"))
              .where(GroupMember.workspace_id == actor.workspace_id, GroupMember.state == code.state,
                     GroupMember.customer_id.is_not(None)).group_by(GroupMember.customer_id).subquery("starts"))
    bought = orders_service.purchases_after(actor, starts).subquery("bought")
    converted, gmv = session.execute(select(func.count(), func.coalesce(func.sum(bought.c.spend_fen), 0))).one()
    return GroupCodeStatsOut(code_id=code.id, joins=joins, quits=quits, staying=joins - quits,
                             converted=converted, gmv_fen=int(gmv))
