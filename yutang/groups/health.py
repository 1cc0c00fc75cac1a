"""Group health: WeCom's per-owner statistics pulled per day, each group's talk recorded per day, and the figures
(members, joins, quits, messages, who spoke in 7 / 30 days, silent groups) in set-based SQL."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, func, insert, select
from sqlalchemy.orm import Session

from yutang.groups.models import GroupChat, GroupDayStat, GroupMember, OwnerDayStat
from yutang.groups.schemas import ActivityIn, HealthOut, OwnerHealthOut, StatsPullOut
from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid
from yutang.messaging import wecom
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces.access import Actor, Permission

STAT_FIELDS = ("chat_total", "chat_has_msg", "new_member_cnt", "member_total", "member_has_msg", "msg_total")
MAX_PULL_DAYS = 90
OWNERS_PER_CALL = 100  # groupchat/statistic's owner_filter limit


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


def pull_statistics(session: Session, *, actor: Actor, config_id: int, start: date, end: date) -> StatsPullOut:
    """The job: WeCom's groupchat/statistic for each owner of this configuration's groups and each day, stored per
    owner and day (a day pulled again replaces its rows)."""
    actor.require(Permission.MANAGE)
    if end < start:
        raise Invalid("end is before start", field="end")
    if (end - start).days + 1 > MAX_PULL_DAYS:
        raise Invalid(f"at most {MAX_PULL_DAYS} days per pull", field="end")
    owners = sorted(session.scalars(select(GroupChat.owner_userid).distinct().where(
        GroupChat.workspace_id == actor.workspace_id, GroupChat.messaging_config_id == config_id)))
    zone = ZoneInfo(actor.timezone)
    rows = []
    with wecom.calling(session, actor=actor, config_id=config_id, field="config_id") as client:
        day = start
        while day <= end:
            epoch = int(_midnight(day, zone).timestamp())
            for index in range(0, len(owners), OWNERS_PER_CALL):
                for item in client.group_statistic(day_begin=epoch, day_end=epoch,
                                                   owners=owners[index:index + OWNERS_PER_CALL]):
                    data = item.get("data") or {}
                    rows.append({"workspace_id": actor.workspace_id, "owner_userid": item["owner"], "day": day,
                                 "created_at": utcnow(), **{f: int(data.get(f) or 0) for f in STAT_FIELDS}})
            day += timedelta(days=1)
    if owners:
        session.execute(delete(OwnerDayStat).where(OwnerDayStat.workspace_id == actor.workspace_id,
                                                   OwnerDayStat.owner_userid.in_(owners),
                                                   OwnerDayStat.day.between(start, end)))
    if rows:
        session.execute(insert(OwnerDayStat), rows)
    return StatsPullOut(owners=len(owners), days=(end - start).days + 1, rows=len(rows))


def record_activity(session: Session, *, actor: Actor, group_id: int, data: ActivityIn) -> GroupDayStat:
    """One group's talk on one day (from the chat archive or an import): messages, and which members spoke."""
    actor.require(Permission.WRITE)
    group = get_in_workspace(session, GroupChat, group_id, workspace_id=actor.workspace_id, what="group",
                             field="group_id")
    members = {m.userid: m for m in session.scalars(select(GroupMember).where(
        GroupMember.group_id == group.id, GroupMember.userid.in_(data.speakers)))}
    for index, userid in enumerate(data.speakers):
        if userid not in members:
            raise Invalid(f"{userid!r} is not a member of this group", field=f"speakers[{index}]")
    spoke = _midnight(data.day, ZoneInfo(actor.timezone)) + timedelta(hours=12)
    for member in members.values():
        if member.last_spoke_at is None or member.last_spoke_at < spoke:
            member.last_spoke_at = spoke
    row = session.scalar(select(GroupDayStat).where(GroupDayStat.group_id == group.id,
                                                    GroupDayStat.day == data.day))
    if row is None:
        row = GroupDayStat(workspace_id=actor.workspace_id, group_id=group.id, day=data.day)
        session.add(row)
    row.messages, row.speakers = data.messages, len(set(data.speakers))
    session.flush()
    return row


def _window(actor: Actor, as_of: date | None) -> tuple[date, datetime, datetime, datetime]:
    zone = ZoneInfo(actor.timezone)
    today = as_of or utcnow().astimezone(zone).date()
    end = _midnight(today + timedelta(days=1), zone)
    return today, end, end - timedelta(days=7), end - timedelta(days=30)


def group_health(session: Session, *, actor: Actor, as_of: date | None = None, owner_userid: str | None = None,
                 silent_only: bool = False, group_ids: list[int] | None = None) -> list[HealthOut]:
    """Each live group's health up to the end of as_of (today): members, joins and quits and messages over 30
    days, the share of members who spoke in 7 / 30 days; silent = members but not a message in 7 days."""
    actor.require(Permission.READ)
    today, end, week, month = _window(actor, as_of)
    ws = actor.workspace_id
    live = and_(GroupMember.joined_at < end, (GroupMember.left_at.is_(None)) | (GroupMember.left_at >= end))
    people = (select(GroupMember.group_id,
                     func.sum(case((live, 1), else_=0)).label("members"),
                     func.sum(case((and_(GroupMember.joined_at >= month, GroupMember.joined_at < end), 1),
                                   else_=0)).label("joins"),
                     func.sum(case((and_(GroupMember.left_at >= month, GroupMember.left_at < end), 1),
                                   else_=0)).label("quits"),
                     func.sum(case((and_(live, GroupMember.last_spoke_at >= week), 1), else_=0)).label("spoke7"),
                     func.sum(case((and_(live, GroupMember.last_spoke_at >= month), 1), else_=0)).label("spoke30"))
              .where(GroupMember.workspace_id == ws).group_by(GroupMember.group_id).subquery())
    talk = (select(GroupDayStat.group_id,
                   func.sum(GroupDayStat.messages).label("messages30"),
                   func.sum(case((GroupDayStat.day > today - timedelta(days=7), GroupDayStat.messages),
                                 else_=0)).label("messages7"))
            .where(GroupDayStat.workspace_id == ws, GroupDayStat.day > today - timedelta(days=30),
                   GroupDayStat.day <= today).group_by(GroupDayStat.group_id).subquery())
    query = (select(GroupChat.id, GroupChat.owner_userid, GroupChat.name, people.c.members, people.c.joins,
                    people.c.quits, people.c.spoke7, people.c.spoke30, talk.c.messages30, talk.c.messages7)
             .outerjoin(people, people.c.group_id == GroupChat.id).outerjoin(talk, talk.c.group_id == GroupChat.id)
             .where(GroupChat.workspace_id == ws, GroupChat.dismissed_at.is_(None)))
    if owner_userid:
        query = query.where(GroupChat.owner_userid == owner_userid)
    if group_ids is not None:
        query = query.where(GroupChat.id.in_(group_ids))
    found = []
    for gid, owner, name, members, joins, quits, spoke7, spoke30, messages30, messages7 in session.execute(
            query.order_by(GroupChat.name, GroupChat.id)):
        members = int(members or 0)
        silent = members > 0 and not messages7
        if silent_only and not silent:
            continue
        found.append(HealthOut(group_id=gid, owner_userid=owner, name=name, members=members, joins_30d=int(joins or 0),
                               quits_30d=int(quits or 0), messages_30d=int(messages30 or 0),
                               spoke_7d=round(int(spoke7 or 0) / members, 4) if members else 0.0,
                               spoke_30d=round(int(spoke30 or 0) / members, 4) if members else 0.0, silent=silent))
    return found


def owner_health(session: Session, *, actor: Actor, as_of: date | None = None) -> list[OwnerHealthOut]:
    """Per owner: their groups' health summed, and WeCom's own statistics over the last 30 days."""
    groups = group_health(session, actor=actor, as_of=as_of)
    today = _window(actor, as_of)[0]
    wecom_rows = session.execute(
        select(OwnerDayStat.owner_userid, func.sum(OwnerDayStat.msg_total), func.max(OwnerDayStat.member_total),
               func.avg(OwnerDayStat.member_has_msg))
        .where(OwnerDayStat.workspace_id == actor.workspace_id, OwnerDayStat.day > today - timedelta(days=30),
               OwnerDayStat.day <= today).group_by(OwnerDayStat.owner_userid))
    stats = {owner: (int(m or 0), int(t or 0), float(a or 0)) for owner, m, t, a in wecom_rows}
    owners: dict[str, OwnerHealthOut] = {}
    for g in groups:
        row = owners.setdefault(g.owner_userid, OwnerHealthOut(owner_userid=g.owner_userid))
        row.groups += 1
        row.members += g.members
        row.joins_30d += g.joins_30d
        row.quits_30d += g.quits_30d
        row.silent_groups += g.silent
    for owner, (messages, members, speakers) in stats.items():
        row = owners.setdefault(owner, OwnerHealthOut(owner_userid=owner))
        row.wecom_messages_30d, row.wecom_member_total = messages, members
        row.wecom_speakers_per_day = round(speakers, 2)
    return sorted(owners.values(), key=lambda r: r.owner_userid)
