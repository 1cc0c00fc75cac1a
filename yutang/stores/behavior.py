"""WeCom's contact statistics per guide and day (get_user_behavior_data): one call per guide per day, stored."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid
from yutang.messaging import wecom
from yutang.messaging.adapters.base import ChannelError
from yutang.stores.models import BehaviorDay, Staff
from yutang.stores.schemas import BehaviorSyncOut
from yutang.workspaces.access import Actor, Permission


def fetch_day(session: Session, *, actor: Actor, config_id: int, day: date, refresh: bool = False) -> BehaviorSyncOut:
    """Fetch one local day's statistics of every current staff member with a WeCom user id who has none stored
    for it (all of them when `refresh`); a guide WeCom refuses is reported and the others still stored."""
    actor.require(Permission.MANAGE)
    zone = ZoneInfo(actor.timezone)
    if day >= utcnow().astimezone(zone).date():
        raise Invalid("WeCom has statistics for past days only", field="day")
    staff = list(session.scalars(select(Staff).where(Staff.workspace_id == actor.workspace_id,
                                                     Staff.wecom_userid.is_not(None),
                                                     (Staff.left_on.is_(None)) | (Staff.left_on >= day))
                                 .order_by(Staff.id)))
    stored = {row.staff_id: row for row in session.scalars(select(BehaviorDay).where(
        BehaviorDay.workspace_id == actor.workspace_id, BehaviorDay.day == day))}
    start = int(datetime.combine(day, datetime.min.time(), tzinfo=zone).timestamp())
    fetched, skipped, failed = 0, 0, {}
    client = wecom.client_for(session, actor=actor, config_id=config_id)
    try:
        for member in staff:
            if member.id in stored and not refresh:
                skipped += 1
                continue
            try:
                rows = client.behavior(userids=[member.wecom_userid], start=start, end=start)
            except ChannelError as exc:
                failed[member.wecom_userid] = str(exc.code)
                continue
            figures = next((r for r in rows if int(r.get("stat_time", 0)) == start), rows[0] if rows else {})
            store_day(session, workspace_id=actor.workspace_id, staff_id=member.id, day=day, figures=figures,
                      row=stored.get(member.id))
            fetched += 1
    finally:
        client.close()
    session.flush()
    return BehaviorSyncOut(day=day, fetched=fetched, skipped=skipped, failed=failed)


def store_day(session: Session, *, workspace_id: int, staff_id: int, day: date, figures: dict,
              row: BehaviorDay | None = None) -> BehaviorDay:
    """Keep one staff member's day as WeCom reports it (get_user_behavior_data's field names)."""
    row = row or BehaviorDay(workspace_id=workspace_id, staff_id=staff_id, day=day)
    row.new_contacts = int(figures.get("new_contact_cnt") or 0)
    row.new_applies = int(figures.get("new_apply_cnt") or 0)
    row.lost = int(figures.get("negative_feedback_cnt") or 0)
    row.chats = int(figures.get("chat_cnt") or 0)
    row.messages = int(figures.get("message_cnt") or 0)
    row.reply_percentage = figures.get("reply_percentage")
    row.avg_reply_minutes = figures.get("avg_reply_time")
    row.fetched_at = utcnow()
    session.add(row)
    return row


def store_days(session: Session, *, actor: Actor, days: list[tuple[int, date, dict]]) -> int:
    """Keep many (staff id, day, WeCom figures) at once, as a fetch would, for imports, the demo and benches."""
    actor.require(Permission.MANAGE)
    now = utcnow()
    rows = [{"workspace_id": actor.workspace_id, "staff_id": staff_id, "day": day, "created_at": now,
             "new_contacts": int(f.get("new_contact_cnt") or 0), "new_applies": int(f.get("new_apply_cnt") or 0),
             "lost": int(f.get("negative_feedback_cnt") or 0), "chats": int(f.get("chat_cnt") or 0),
             "messages": int(f.get("message_cnt") or 0), "reply_percentage": f.get("reply_percentage"),
             "avg_reply_minutes": f.get("avg_reply_time"), "fetched_at": now} for staff_id, day, f in days]
    for start in range(0, len(rows), 1000):
        session.execute(insert(BehaviorDay.__table__), rows[start:start + 1000])
    return len(rows)


def yesterday(actor: Actor, now: datetime | None = None) -> date:
    """The actor's local yesterday."""
    return (now or utcnow()).astimezone(ZoneInfo(actor.timezone)).date() - timedelta(days=1)
