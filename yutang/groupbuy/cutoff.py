"""The cut-off (each item goes ahead or is cancelled by its minimum), the production plan and pick lists."""

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yutang.groupbuy import core, forecast, ordering
from yutang.groupbuy.joining import lines_of, payload
from yutang.groupbuy.models import Entry, EntryLine, GroupBuy, GroupBuyItem, PickupPoint
from yutang.groupbuy.schemas import CutoffOut, ForecastOut, PickRow, PlanRow, RoundOut, Status
from yutang.groupbuy.setup import get_groupbuy, items_of
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict
from yutang.storage import dialect, outbox
from yutang.storage.topics import Topic
from yutang.workspaces.access import Actor, Permission

LIVE = (core.LineStatus.JOINED, core.LineStatus.CONFIRMED, core.LineStatus.PICKED_UP, core.LineStatus.NO_SHOW)


def due(session: Session, *, now: datetime) -> list[tuple[int, int]]:
    """(workspace id, group-buy id) of open group-buys whose cut-off has come."""
    return [tuple(row) for row in session.execute(
        select(GroupBuy.workspace_id, GroupBuy.id).where(GroupBuy.status == Status.OPEN.value,
                                                         GroupBuy.cutoff_at <= now).order_by(GroupBuy.id))]


def cut_off(session: Session, *, actor: Actor, groupbuy_id: int, now: datetime | None = None,
            early: bool = False) -> CutoffOut:
    """Close a group-buy: each item goes ahead or is cancelled by its minimum; cancelled lines are refunded, confirmed
    ones asked for their balance. `early` closes it by hand before its cut-off time."""
    actor.require(Permission.MANAGE)
    get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    now = now or utcnow()
    groupbuy = session.scalar(dialect.of(session).lock(select(GroupBuy).where(GroupBuy.id == groupbuy_id))
                              .execution_options(populate_existing=True))
    if groupbuy.status != Status.OPEN:
        raise Conflict(f"this group-buy is {groupbuy.status}; only an open one is cut off", field="groupbuy_id")
    if groupbuy.cutoff_at > now and not early:
        raise Conflict(f"the cut-off is at {groupbuy.cutoff_at.isoformat()}", field="groupbuy_id")
    groupbuy.status, groupbuy.closed_at = Status.CLOSED.value, now
    groupbuy.cutoff_at = min(groupbuy.cutoff_at, now)
    items = items_of(session, groupbuy_id=groupbuy.id)
    for item in items:
        session.refresh(item)
        item.decision = core.decide(minimum=item.minimum, total=item.taken).value
    session.flush()
    refund = balance = confirmed = cancelled = 0
    for item in items:
        joined = (EntryLine.item_id == item.id, EntryLine.status == core.LineStatus.JOINED.value)
        if item.decision == core.Decision.CANCELLED:
            refund += session.scalar(select(func.coalesce(func.sum(EntryLine.paid_fen), 0)).where(*joined))
            cancelled += session.execute(update(EntryLine).where(*joined).values(
                status=core.LineStatus.CANCELLED.value, refunded_fen=EntryLine.paid_fen)).rowcount
        else:
            due_expr = item.price_fen * EntryLine.quantity - EntryLine.paid_fen
            balance += session.scalar(select(func.coalesce(func.sum(due_expr), 0)).where(*joined))
            confirmed += session.execute(update(EntryLine).where(*joined).values(
                status=core.LineStatus.CONFIRMED.value, balance_due_fen=due_expr)).rowcount
    _tell(session, actor=actor, groupbuy=groupbuy, items=items, now=now)
    return CutoffOut(groupbuy_id=groupbuy.id, items={item.sku: item.decision for item in items},
                     confirmed_lines=confirmed, cancelled_lines=cancelled, refund_fen=refund,
                     balance_due_fen=balance)


def _tell(session: Session, *, actor: Actor, groupbuy: GroupBuy, items: list[GroupBuyItem], now: datetime) -> None:
    """Outbox rows per entry (Confirmed / Cancelled); entries with a cancelled line get their order re-recorded."""
    by_id = {item.id: item for item in items}
    entries = list(session.scalars(select(Entry).where(Entry.groupbuy_id == groupbuy.id).order_by(Entry.number)))
    lines = lines_of(session, entry_ids=[entry.id for entry in entries])
    confirmed, cancelled = [], []
    for entry in entries:
        mine = lines[entry.id]
        ahead = [(by_id[line.item_id].sku, line.quantity) for line in mine if line.status == core.LineStatus.CONFIRMED]
        off = [line for line in mine if line.status == core.LineStatus.CANCELLED]
        if ahead:
            confirmed.append((entry.id, payload(entry, ahead, at=now, amount_fen=sum(
                line.balance_due_fen for line in mine if line.status == core.LineStatus.CONFIRMED))))
        if off:
            cancelled.append((entry.id, payload(entry, [(by_id[line.item_id].sku, line.quantity) for line in off],
                                                at=now, amount_fen=sum(line.refunded_fen for line in off))))
            if entry.customer_id is not None:
                resync(session, actor=actor, entry=entry, lines=mine, items=by_id)
    outbox.emit_many(session, workspace_id=groupbuy.workspace_id, topic=Topic.GROUPBUY_CONFIRMED, changes=confirmed)
    outbox.emit_many(session, workspace_id=groupbuy.workspace_id, topic=Topic.GROUPBUY_CANCELLED, changes=cancelled)


def resync(session: Session, *, actor: Actor, entry: Entry, lines: list[EntryLine],
           items: dict[int, GroupBuyItem]) -> None:
    """Record an entry's order again from its lines as they stand."""
    ordering.sync(session, actor=actor, groupbuy_id=entry.groupbuy_id, request_key=entry.request_key,
                  customer_id=entry.customer_id, placed_at=entry.created_at,
                  lines=[(items[line.item_id], line.quantity, line.status, line.paid_fen, line.refunded_fen)
                         for line in lines])


def production_plan(session: Session, *, actor: Actor, since: date | None = None,
                    until: date | None = None) -> list[PlanRow]:
    """Units to make per SKU per production date, over items not cancelled and lines still live."""
    actor.require(Permission.READ)
    units = func.sum(EntryLine.quantity)
    query = (select(GroupBuy.production_date, GroupBuyItem.sku, func.max(GroupBuyItem.name), units)
             .join(GroupBuyItem, GroupBuyItem.id == EntryLine.item_id)
             .join(GroupBuy, GroupBuy.id == GroupBuyItem.groupbuy_id)
             .where(GroupBuy.workspace_id == actor.workspace_id, EntryLine.status.in_([s.value for s in LIVE]))
             .group_by(GroupBuy.production_date, GroupBuyItem.sku)
             .order_by(GroupBuy.production_date, GroupBuyItem.sku))
    if since is not None:
        query = query.where(GroupBuy.production_date >= since)
    if until is not None:
        query = query.where(GroupBuy.production_date <= until)
    return [PlanRow(production_date=day, sku=sku, name=name, quantity=int(quantity))
            for day, sku, name, quantity in session.execute(query)]


def pick_lists(session: Session, *, actor: Actor, groupbuy_id: int) -> list[PickRow]:
    """Per pick-up point and SKU: the units to set out and for how many entries (confirmed lines, or joined ones
    before the cut-off)."""
    groupbuy = get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    wanted = [core.LineStatus.CONFIRMED.value, core.LineStatus.JOINED.value]
    rows = session.execute(
        select(Entry.point_id, PickupPoint.name, GroupBuyItem.sku, GroupBuyItem.name, func.sum(EntryLine.quantity),
               func.count(Entry.id))
        .join(EntryLine, EntryLine.entry_id == Entry.id).join(GroupBuyItem, GroupBuyItem.id == EntryLine.item_id)
        .outerjoin(PickupPoint, PickupPoint.id == Entry.point_id)
        .where(Entry.groupbuy_id == groupbuy.id, EntryLine.status.in_(wanted))
        .group_by(Entry.point_id, PickupPoint.name, GroupBuyItem.sku, GroupBuyItem.name)
        .order_by(Entry.point_id, GroupBuyItem.sku))
    return [PickRow(point_id=point_id, point=point, sku=sku, name=name, quantity=int(units), entries=int(entries))
            for point_id, point, sku, name, units, entries in rows]


def plan_by_sku(rows: list[PlanRow]) -> dict[str, dict[date, int]]:
    """Plan rows as SKU → date → units."""
    found: dict[str, dict[date, int]] = defaultdict(dict)
    for row in rows:
        found[row.sku][row.production_date] = row.quantity
    return dict(found)


def forecasts(session: Session, *, actor: Actor, today: date, sku: str | None = None) -> list[ForecastOut]:
    """Per SKU: the suggested quantity for the next production date from its history (units sold on live lines
    per production date), and the forecast error of its recent rounds."""
    history: dict[str, dict[date, int]] = defaultdict(dict)
    for row in production_plan(session, actor=actor, until=today):
        if sku is None or row.sku == sku:
            history[row.sku][row.production_date] = row.quantity
    found = []
    for code, days in sorted(history.items()):
        day = forecast.next_day(days, today)
        past = forecast.rounds(days)
        found.append(ForecastOut(sku=code, production_date=day, suggested=forecast.suggest(days, day),
                                 rounds=[RoundOut(production_date=r.day, forecast=r.forecast, actual=r.actual,
                                                  error=r.error) for r in past],
                                 mean_absolute_percentage=forecast.mean_absolute_percentage(past)))
    return found
