"""Guide KPIs over a period, per guide, store or region, ranked: a handful of grouped queries, summed in Python."""

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from yutang.kit.errors import Invalid
from yutang.orders import service as orders_service
from yutang.stores.handovers import LOST, UNSENT
from yutang.stores.models import BehaviorDay, Handover, HandoverItem, Ownership, Staff, StaffTask, Store
from yutang.stores.schemas import KpiGroup, KpiMetric, KpiRow, KpisOut, TaskStatus
from yutang.stores.targets import prorated
from yutang.workspaces.access import Actor, Permission

MAX_DAYS = 366
SUMS = ("owned", "new_adds", "lost", "chats", "reply_weight", "reply_base", "time_weight", "time_base", "gmv_fen",
        "buyers", "repeaters", "tasks_done", "tasks_late", "handed_sent", "handed_lost")


def _bounds(actor: Actor, since: date, until: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(actor.timezone)
    return (datetime.combine(since, datetime.min.time(), tzinfo=zone),
            datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=zone))


def raw(session: Session, *, actor: Actor, since: date, until: date) -> dict[int, Counter]:
    """Per staff id, the sums the figures are made of (numerators and denominators, so groups add up)."""
    start, end = _bounds(actor, since, until)
    w = actor.workspace_id
    staff = {s.id: s for s in session.scalars(select(Staff).where(
        Staff.workspace_id == w, (Staff.left_on.is_(None)) | (Staff.left_on >= since)))}
    by_member = {s.member_id: s.id for s in staff.values() if s.member_id is not None}
    sums: dict[int, Counter] = {staff_id: Counter() for staff_id in staff}

    def add(staff_id, **values):
        if staff_id in sums:
            sums[staff_id].update({k: v or 0 for k, v in values.items()})

    owned = select(Ownership.member_id, Ownership.customer_id).where(Ownership.workspace_id == w,
                                                                      Ownership.member_id.is_not(None)).subquery()
    for member_id, count in session.execute(select(owned.c.member_id, func.count()).group_by(owned.c.member_id)):
        add(by_member.get(member_id), owned=count)
    replied = BehaviorDay.reply_percentage.is_not(None)
    timed = BehaviorDay.avg_reply_minutes.is_not(None)
    for row in session.execute(select(
            BehaviorDay.staff_id, func.sum(BehaviorDay.new_contacts), func.sum(BehaviorDay.lost),
            func.sum(BehaviorDay.chats),
            func.sum(case((replied, BehaviorDay.chats * BehaviorDay.reply_percentage / 100.0), else_=0)),
            func.sum(case((replied, BehaviorDay.chats), else_=0)),
            func.sum(case((timed, BehaviorDay.chats * BehaviorDay.avg_reply_minutes), else_=0)),
            func.sum(case((timed, BehaviorDay.chats), else_=0)))
            .where(BehaviorDay.workspace_id == w, BehaviorDay.day >= since, BehaviorDay.day <= until)
            .group_by(BehaviorDay.staff_id)):
        add(row[0], new_adds=row[1], lost=row[2], chats=row[3], reply_weight=float(row[4] or 0),
            reply_base=row[5], time_weight=float(row[6] or 0), time_base=row[7])
    period = orders_service.purchases(actor, since=start, until=end)
    for member_id, spend in session.execute(select(owned.c.member_id, func.sum(period.c.spend_fen))
                                            .join(period, period.c.customer_id == owned.c.customer_id)
                                            .group_by(owned.c.member_id)):
        add(by_member.get(member_id), gmv_fen=int(spend or 0))
    ever = orders_service.purchases(actor)
    for member_id, buyers, repeaters in session.execute(
            select(owned.c.member_id, func.count(), func.sum(case((ever.c.purchases >= 2, 1), else_=0)))
            .join(ever, ever.c.customer_id == owned.c.customer_id).group_by(owned.c.member_id)):
        add(by_member.get(member_id), buyers=buyers, repeaters=int(repeaters or 0))
    for staff_id, done, late in session.execute(
            select(StaffTask.staff_id, func.count(), func.sum(case((StaffTask.late, 1), else_=0)))
            .where(StaffTask.workspace_id == w, StaffTask.status == TaskStatus.DONE.value,
                   StaffTask.done_at >= start, StaffTask.done_at < end).group_by(StaffTask.staff_id)):
        add(staff_id, tasks_done=done, tasks_late=int(late or 0))
    for staff_id, status, count in session.execute(
            select(Handover.from_staff_id, HandoverItem.status, func.count())
            .join(HandoverItem, HandoverItem.handover_id == Handover.id)
            .where(Handover.workspace_id == w, Handover.created_at >= start, Handover.created_at < end)
            .group_by(Handover.from_staff_id, HandoverItem.status)):
        if status not in UNSENT:
            add(staff_id, handed_sent=count, handed_lost=count if status in LOST else 0)
    return sums


def _ratio(numerator: float, denominator: float, digits: int = 4) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def kpis(session: Session, *, actor: Actor, since: date, until: date, group_by: KpiGroup = KpiGroup.GUIDE,
         rank_by: KpiMetric = KpiMetric.GMV_FEN) -> KpisOut:
    """The figures of every guide (or store, or region) over local days since..until, best first by `rank_by`."""
    actor.require(Permission.READ)
    if until < since:
        raise Invalid("the period ends before it starts", field="until")
    if (until - since).days >= MAX_DAYS:
        raise Invalid(f"a period is at most {MAX_DAYS} days", field="since")
    sums = raw(session, actor=actor, since=since, until=until)
    targets = prorated(session, workspace_id=actor.workspace_id, since=since, until=until)
    staff = {s.id: s for s in session.scalars(select(Staff).where(Staff.id.in_(list(sums))))} if sums else {}
    stores = {s.id: s for s in session.scalars(select(Store).where(Store.workspace_id == actor.workspace_id))}
    groups: dict[str, Counter] = defaultdict(Counter)
    labels: dict[str, tuple[str, int | None, str | None]] = {}
    members: Counter = Counter()
    aims: dict[str, dict[str, float]] = defaultdict(dict)
    for staff_id, figures in sums.items():
        person = staff[staff_id]
        store = stores.get(person.store_id)
        region = (store.region if store else None) or person.region
        if group_by is KpiGroup.GUIDE:
            key, label = str(staff_id), (person.name, person.store_id, region)
        elif group_by is KpiGroup.STORE:
            if store is None:
                continue
            key, label = str(store.id), (store.name, store.id, region)
        else:
            if region is None:
                continue
            key, label = region, (region, None, region)
        groups[key].update(figures)
        for field, value in targets.get(staff_id, {}).items():
            aims[key][field] = aims[key].get(field, 0.0) + value
        labels[key] = label
        members[key] += 1
    rows = []
    for key, s in groups.items():
        name, store_id, region = labels[key]
        aim_adds, aim_gmv = aims[key].get("new_adds"), aims[key].get("gmv_fen")
        rows.append(KpiRow(
            rank=0, key=key, name=name, store_id=store_id, region=region, guides=members[key],
            owned_customers=s["owned"], new_adds=s["new_adds"], lost_customers=s["lost"], chats=s["chats"],
            reply_rate=_ratio(s["reply_weight"], s["reply_base"]),
            avg_reply_minutes=_ratio(s["time_weight"], s["time_base"], 1), gmv_fen=s["gmv_fen"],
            repurchase_rate=_ratio(s["repeaters"], s["buyers"]), tasks_done=s["tasks_done"],
            tasks_late=s["tasks_late"], handover_loss_rate=_ratio(s["handed_lost"], s["handed_sent"]),
            target_new_adds=round(aim_adds) if aim_adds is not None else None,
            target_gmv_fen=round(aim_gmv) if aim_gmv is not None else None,
            new_adds_attainment=_ratio(s["new_adds"], round(aim_adds)) if aim_adds is not None else None,
            gmv_attainment=_ratio(s["gmv_fen"], round(aim_gmv)) if aim_gmv is not None else None))
    rows.sort(key=lambda r: (-(getattr(r, rank_by.value) or 0), r.name, r.key))
    for place, row in enumerate(rows, start=1):
        row.rank = place
    return KpisOut(since=since, until=until, group_by=group_by, rank_by=rank_by, rows=rows)
