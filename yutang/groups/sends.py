"""Messages to customer groups through WeCom (add_msg_template, chat_type group): the groups' owner confirms each
in the app, so a send is a staff task due at its time; WeCom's answer per group is read back."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.groups import library
from yutang.groups.models import GroupChat, GroupSend
from yutang.groups.schemas import SENDS_PER_GROUP_PER_DAY, GroupSendIn, UseIn
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.messaging import wecom
from yutang.storage.scoped import get_in_workspace
from yutang.stores import service as stores_service
from yutang.stores.schemas import TaskIn
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

# get_groupmsg_send_result's status per group
RESULT = {0: "waiting", 1: "sent", 3: "already_received"}


def _local_day(actor: Actor, at: datetime) -> tuple[datetime, datetime]:
    zone = ZoneInfo(actor.timezone)
    start = datetime.combine(at.astimezone(zone).date(), datetime.min.time(), tzinfo=zone).astimezone(UTC)
    return start, start + timedelta(days=1)


def _material(session: Session, actor: Actor, data: GroupSendIn):
    if (data.text is None) == (data.material_id is None):
        raise Invalid("give either the text or a library material", field="text" if data.text is None
                      else "material_id")
    return library.usable(session, actor=actor, material_id=data.material_id) if data.material_id else None


def send(session: Session, *, actor: Actor, data: GroupSendIn, now: datetime | None = None) -> GroupSend:
    """Create the WeCom send to one owner's groups and the owner's task of confirming it by `send_at`. Refused
    before WeCom is called: groups of several owners (WeCom sends as one owner), dismissed or unknown groups, and a
    group already sent to on that day (WeCom takes one group send a group a day)."""
    actor.require(Permission.WRITE)
    material = _material(session, actor, data)
    text = library.as_text(material) if material is not None else data.text
    now = now or utcnow()
    send_at = data.send_at or now
    if send_at < now - timedelta(minutes=5):
        raise Invalid("send_at is in the past", field="send_at")
    groups: list[GroupChat] = []
    for index, group_id in enumerate(dict.fromkeys(data.group_ids)):
        group = get_in_workspace(session, GroupChat, group_id, workspace_id=actor.workspace_id, what="group",
                                 field=f"group_ids[{index}]")
        if group.dismissed_at is not None:
            raise Conflict(f"group {group.name!r} was dismissed", field=f"group_ids[{index}]")
        if group.messaging_config_id != data.config_id:
            raise Invalid(f"group {group.name!r} belongs to another WeCom configuration", field=f"group_ids[{index}]")
        if groups and group.owner_userid != groups[0].owner_userid:
            raise Invalid("WeCom sends to the groups of one owner at a time: these groups have different owners",
                          field=f"group_ids[{index}]")
        groups.append(group)
    start, end = _local_day(actor, send_at)
    for other in session.scalars(select(GroupSend).where(
            GroupSend.workspace_id == actor.workspace_id, GroupSend.send_at >= start, GroupSend.send_at < end,
            GroupSend.status != "cancelled")):
        for index, group in enumerate(groups):
            if group.id in other.group_ids:
                raise Conflict(f"WeCom takes {SENDS_PER_GROUP_PER_DAY} group send a group a day: group "
                               f"{group.name!r} has one that day already", field=f"group_ids[{index}]")
    owner = groups[0]
    if owner.owner_staff_id is None:
        raise Invalid(f"the owner {owner.owner_userid} is not among the staff, so no one can confirm the send",
                      field="group_ids")
    with wecom.calling(session, actor=actor, config_id=data.config_id, field="group_ids") as client:
        msgid = client.add_group_msg_template(sender=owner.owner_userid, chat_ids=[g.chat_id for g in groups],
                                              text=text)
    record = GroupSend(workspace_id=actor.workspace_id, messaging_config_id=data.config_id,
                       owner_userid=owner.owner_userid, owner_staff_id=owner.owner_staff_id,
                       group_ids=[g.id for g in groups], text=text, send_at=send_at, status="waiting",
                       msgid=msgid, results={str(g.id): "waiting" for g in groups}, by_member_id=actor.member_id)
    session.add(record)
    session.flush()
    task, _ = stores_service.create_task(session, actor=actor, data=TaskIn(
        staff_id=owner.owner_staff_id, title=f"在企业微信确认群发：{text[:40]}", due_at=send_at,
        note=text[:1000], source_key=f"group-send:{record.id}"))
    record.task_id = task.id
    if material is not None:
        library.record_uses(session, actor=actor, material_id=material.id, at=send_at, data=UseIn(
            staff_id=owner.owner_staff_id, group_ids=record.group_ids, channel="group_send"))
    workspaces_service.record(session, actor=actor, action="group_send.created", entity_type="group_send",
                              entity_id=record.id, changes={"groups": len(groups), "send_at": send_at.isoformat()})
    return record


def get_send(session: Session, *, actor: Actor, send_id: int) -> GroupSend:
    """A group send of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, GroupSend, send_id, workspace_id=actor.workspace_id, what="group send",
                            field="group_send_id")


def list_sends(session: Session, *, actor: Actor, limit: int = 100) -> list[GroupSend]:
    """Group sends, the latest first."""
    actor.require(Permission.READ)
    return list(session.scalars(select(GroupSend).where(GroupSend.workspace_id == actor.workspace_id)
                                .order_by(GroupSend.send_at.desc(), GroupSend.id.desc()).limit(limit)))


def sync_send(session: Session, *, actor: Actor, send_id: int) -> GroupSend:
    """Read WeCom's answer: once the owner confirmed (get_groupmsg_task) the send is `sent` and the owner's task is
    done at that time; each group's result from get_groupmsg_send_result."""
    actor.require(Permission.WRITE)
    record = get_send(session, actor=actor, send_id=send_id)
    if record.status != "waiting" and "waiting" not in record.results.values():
        return record
    if record.messaging_config_id is None:
        raise Conflict("this group send's WeCom configuration is gone", field="group_send_id")
    chats = dict(session.execute(select(GroupChat.chat_id, GroupChat.id).where(
        GroupChat.id.in_(record.group_ids))).all())
    with wecom.calling(session, actor=actor, config_id=record.messaging_config_id, field="group_send_id") as client:
        senders = client.send_task(msgid=record.msgid)
        rows = list(client.send_results(msgid=record.msgid, staff_userid=record.owner_userid))
    results = dict(record.results)
    for row in rows:
        group_id = chats.get(row.get("chat_id"))
        if group_id is not None:
            results[str(group_id)] = RESULT.get(int(row.get("status", 0)), "failed")
    record.results = results
    mine = next((s for s in senders if s.get("userid") == record.owner_userid), None)
    if record.status == "waiting" and mine is not None and int(mine.get("status", 0)) == 2:
        at = datetime.fromtimestamp(mine["send_time"], UTC) if mine.get("send_time") else utcnow()
        record.status, record.confirmed_at = "sent", at
        if record.task_id is not None:
            try:
                with session.begin_nested():
                    stores_service.complete_task(session, actor=actor, task_id=record.task_id, now=at)
            except Conflict:
                pass  # checked off (or cancelled) by hand already
    return record
