"""Customer groups from WeCom: the sync (groupchat/list + get), the callback's change_external_chat, and reads."""

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.customers.schemas import IdentityKind
from yutang.groups.models import GroupChat, GroupMember
from yutang.groups.schemas import CustomerGroupOut, GroupSyncOut
from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid, NotFound
from yutang.messaging import wecom
from yutang.storage import outbox
from yutang.storage.scoped import get_in_workspace
from yutang.storage.topics import Topic
from yutang.stores import service as stores_service
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

# Why someone is in a group, as groupchat/get's join_scene says: 1 invited directly, 2 by link, 3 by QR code.
JOIN_SCENES = {1: "invited", 2: "link", 3: "qr_code"}


def _at(epoch: int | None) -> datetime | None:
    return datetime.fromtimestamp(int(epoch), UTC) if epoch else None


def _customers(session: Session, actor: Actor, external_userids: set[str]) -> dict[str, int]:
    """Customer id by WeCom external user id: found through OneID, created (in bulk) when new."""
    kind = IdentityKind.WECOM_EXTERNAL_USERID
    found = customers_service.lookup_many(session, actor=actor, kind=kind, values=external_userids)
    missing = sorted(external_userids - set(found))
    if missing:
        now = utcnow()
        made = customers_service.create_many(session, actor=actor, people=[([(kind, e)], now) for e in missing])
        found.update({e: c for e, c in zip(missing, made, strict=True) if c is not None})
        rest = {e for e in missing if e not in found}
        if rest:
            found.update(customers_service.lookup_many(session, actor=actor, kind=kind, values=rest))
    return found


def _staff_ids(session: Session, actor: Actor, userids: Iterable[str]) -> dict[str, int]:
    found = {}
    for userid in set(userids):
        staff = stores_service.staff_by_wecom(session, workspace_id=actor.workspace_id, wecom_userid=userid)
        if staff is not None:
            found[userid] = staff.id
    return found


def apply_chat(session: Session, *, actor: Actor, config_id: int, chat: dict, now: datetime,
               staff: dict[str, int] | None = None) -> tuple[GroupChat, int, int]:
    """Write one groupchat/get answer: the group, new members, members gone (left now). Returns (group, joined,
    left)."""
    group = session.scalar(select(GroupChat).where(GroupChat.workspace_id == actor.workspace_id,
                                                   GroupChat.chat_id == chat["chat_id"]))
    members = chat.get("member_list") or []
    staff = staff if staff is not None else _staff_ids(
        session, actor, [chat["owner"], *(m["userid"] for m in members if m.get("type") == 1)])
    if group is None:
        group = GroupChat(workspace_id=actor.workspace_id, messaging_config_id=config_id, chat_id=chat["chat_id"])
        session.add(group)
    moved = group.owner_userid not in (None, chat["owner"])
    group.name = (chat.get("name") or "")[:200]
    group.owner_userid = chat["owner"]
    group.owner_staff_id = staff.get(chat["owner"])
    group.notice = (chat.get("notice") or None) and chat["notice"][:1000]
    group.admin_userids = [a["userid"] for a in chat.get("admin_list") or []]
    group.opened_at = _at(chat.get("create_time"))
    group.synced_at, group.dismissed_at = now, None
    session.flush()
    held = {m.userid: m for m in session.scalars(select(GroupMember).where(GroupMember.group_id == group.id))}
    customers = _customers(session, actor, {m["userid"] for m in members if m.get("type") == 2
                                            and (m["userid"] not in held or held[m["userid"]].left_at)})
    joined = left = 0
    came: list[list] = []
    went: list[list] = []
    present = set()
    for row in members:
        userid = row["userid"]
        present.add(userid)
        member = held.get(userid)
        if member is not None and member.left_at is None:
            continue
        external = row.get("type") == 2
        if member is None:
            member = GroupMember(workspace_id=actor.workspace_id, group_id=group.id, userid=userid)
            session.add(member)
        member.external = external
        member.customer_id = customers.get(userid) if external else None
        member.staff_id = None if external else staff.get(userid)
        member.join_scene, member.state = row.get("join_scene"), (row.get("state") or None)
        member.joined_at, member.left_at = _at(row.get("join_time")) or now, None
        joined += 1
        if member.customer_id is not None:
            came.append([member.customer_id, member.joined_at.isoformat(), member.state, member.join_scene])
    for userid, member in held.items():
        if userid not in present and member.left_at is None:
            member.left_at = now
            left += 1
            if member.customer_id is not None:
                went.append([member.customer_id, now.isoformat()])
    _emit(session, actor.workspace_id, group, came, went, moved=moved)
    return group, joined, left


def _emit(session: Session, workspace_id: int, group: GroupChat, came: list[list], went: list[list], *,
          moved: bool = False) -> None:
    """Customers joining or leaving reach the warehouse (segments, timelines) as Group Joined / Group Left; a new
    owner reaches the replica too."""
    if came or went or moved:
        outbox.emit_now(session, workspace_id=workspace_id, topic=Topic.GROUP_MEMBERS, entity_id=group.id,
                        payload={"group_id": group.id, "owner_userid": group.owner_userid, "joined": came,
                                 "left": went})


def record_chat(session: Session, *, actor: Actor, config_id: int, chat: dict) -> GroupChat:
    """Write a group as groupchat/get describes it, without asking WeCom (the demo brand; config_id is the
    caller's own WeCom configuration)."""
    actor.require(Permission.BULK)
    return apply_chat(session, actor=actor, config_id=config_id, chat=chat, now=utcnow())[0]


def sync_groups(session: Session, *, actor: Actor, config_id: int, page_size: int = 1000) -> GroupSyncOut:
    """Pull every customer group (groupchat/list by cursor, then groupchat/get each) with owners, admins, notice and
    members; external members become customers through OneID, staff members are linked to staff."""
    actor.require(Permission.BULK)
    now = utcnow()
    groups = joined = left = 0
    staff = {s.wecom_userid: s.id for s in stores_service.list_staff(session, actor=actor) if s.wecom_userid}
    with wecom.calling(session, actor=actor, config_id=config_id, field="config_id") as client:
        for chat_id in client.group_chat_ids(limit=page_size):
            chat = client.group_chat(chat_id=chat_id)
            _, came, went = apply_chat(session, actor=actor, config_id=config_id, chat=chat, now=now, staff=staff)
            groups, joined, left = groups + 1, joined + came, left + went
    workspaces_service.record(session, actor=actor, action="groups.synced", entity_type="channel_config",
                              entity_id=config_id, changes={"groups": groups, "joined": joined, "left": left})
    return GroupSyncOut(groups=groups, joined=joined, left=left)


def chat_changed(session: Session, *, actor: Actor, config, fields: dict[str, str], at: datetime) -> str:
    """The WeCom callback's change_external_chat: create / update (member join or quit, owner, name, notice) read
    the group again; dismiss closes it and its memberships."""
    chat_id, change = fields.get("ChatId", ""), fields.get("ChangeType", "")
    if not chat_id:
        raise Invalid("the event names no ChatId", field="ChatId")
    if change == "dismiss":
        group = session.scalar(select(GroupChat).where(GroupChat.workspace_id == actor.workspace_id,
                                                       GroupChat.chat_id == chat_id))
        if group is not None and group.dismissed_at is None:
            group.dismissed_at = at
            gone = session.scalars(select(GroupMember.customer_id).where(
                GroupMember.group_id == group.id, GroupMember.left_at.is_(None), GroupMember.customer_id.is_not(None)))
            went = [[customer_id, at.isoformat()] for customer_id in gone]
            session.execute(update(GroupMember).where(GroupMember.group_id == group.id, GroupMember.left_at.is_(None))
                            .values(left_at=at))
            _emit(session, actor.workspace_id, group, [], went)
        return "dismiss"
    if change not in ("create", "update"):
        return "ignored"
    with wecom.calling(session, actor=actor, config_id=config.id, field="ChatId") as client:
        chat = client.group_chat(chat_id=chat_id)
    apply_chat(session, actor=actor, config_id=config.id, chat=chat, now=at)
    return change


def get_group(session: Session, *, actor: Actor, group_id: int) -> GroupChat:
    """A group of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, GroupChat, group_id, workspace_id=actor.workspace_id, what="group",
                            field="group_id")


def group_with_count(session: Session, *, actor: Actor, group_id: int) -> tuple[GroupChat, int]:
    """A group and its current member count."""
    group = get_group(session, actor=actor, group_id=group_id)
    count = session.scalar(select(func.count()).where(GroupMember.group_id == group.id, GroupMember.left_at.is_(None)))
    return group, count


def list_groups(session: Session, *, actor: Actor, owner_userid: str | None = None,
                include_dismissed: bool = False) -> list[tuple[GroupChat, int]]:
    """Groups with their current member count, by name."""
    actor.require(Permission.READ)
    count = (select(GroupMember.group_id, func.count().label("n")).where(
        GroupMember.workspace_id == actor.workspace_id, GroupMember.left_at.is_(None))
        .group_by(GroupMember.group_id).subquery())
    query = (select(GroupChat, func.coalesce(count.c.n, 0)).outerjoin(count, count.c.group_id == GroupChat.id)
             .where(GroupChat.workspace_id == actor.workspace_id))
    if owner_userid:
        query = query.where(GroupChat.owner_userid == owner_userid)
    if not include_dismissed:
        query = query.where(GroupChat.dismissed_at.is_(None))
    return [(g, n) for g, n in session.execute(query.order_by(GroupChat.name, GroupChat.id))]


def members_of(session: Session, *, actor: Actor, group_id: int, current: bool = True) -> list[GroupMember]:
    """A group's members (current ones unless asked), by join time; a guide or manager sees the members of their
    own or their team's groups only."""
    group = get_group(session, actor=actor, group_id=group_id)
    if actor.sees_own_customers_only:
        owner = stores_service.get_staff(session, actor=actor, staff_id=group.owner_staff_id) \
            if group.owner_staff_id else None
        if owner is None or owner.member_id not in stores_service.with_team(session, actor=actor).owners_seen:
            raise NotFound("no such group among your groups", field="group_id")
    query = select(GroupMember).where(GroupMember.group_id == group.id)
    if current:
        query = query.where(GroupMember.left_at.is_(None))
    return list(session.scalars(query.order_by(GroupMember.joined_at, GroupMember.id)))


def group_names(session: Session, *, actor: Actor, ids: set[int]) -> dict[int, str]:
    """Names of the workspace's groups by id (for timelines and sentences)."""
    actor.require(Permission.READ)
    if not ids:
        return {}
    return dict(session.execute(select(GroupChat.id, GroupChat.name).where(
        GroupChat.workspace_id == actor.workspace_id, GroupChat.id.in_(sorted(ids)))).all())


def groups_of_customer(session: Session, *, actor: Actor, customer_id: int) -> list[tuple[GroupChat, GroupMember]]:
    """The groups a customer is or was in, newest join first (for the archive)."""
    customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    rows = session.execute(select(GroupChat, GroupMember).join(GroupMember, GroupMember.group_id == GroupChat.id)
                           .where(GroupMember.workspace_id == actor.workspace_id,
                                  GroupMember.customer_id == customer_id)
                           .order_by(GroupMember.joined_at.desc(), GroupMember.id.desc()))
    return [(g, m) for g, m in rows]


def customer_groups(session: Session, *, actor: Actor, customer_id: int) -> list[CustomerGroupOut]:
    """A customer's groups as the archive shows them."""
    return [CustomerGroupOut(group_id=g.id, name=g.name, joined_at=m.joined_at, left_at=m.left_at)
            for g, m in groups_of_customer(session, actor=actor, customer_id=customer_id)]


def move_members(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: group memberships follow the customer."""
    return session.execute(update(GroupMember).where(GroupMember.customer_id == from_id)
                           .values(customer_id=to_id)).rowcount


def export_members(session: Session, *, customer_id: int) -> list[dict]:
    """The groups a customer is or was in."""
    rows = session.execute(select(GroupChat.name, GroupMember).join(GroupMember, GroupMember.group_id == GroupChat.id)
                           .where(GroupMember.customer_id == customer_id).order_by(GroupMember.id))
    return [{"group": name, "joined_at": m.joined_at.isoformat() if m.joined_at else None,
             "left_at": m.left_at.isoformat() if m.left_at else None} for name, m in rows]


def erase_members(session: Session, *, customer_id: int) -> None:
    """Blank the WeCom external user id of an erased customer's memberships (the counts stay)."""
    for member in session.scalars(select(GroupMember).where(GroupMember.customer_id == customer_id)):
        member.userid = f"(erased {member.id})"
