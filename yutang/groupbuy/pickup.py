"""Pick-up with a code (核销, once), lines that end unpicked (no-show, the shop's default) and after-sales refunds."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yutang.commissions import core as commissions_core
from yutang.commissions import service as commissions
from yutang.groupbuy import core
from yutang.groupbuy.cutoff import resync
from yutang.groupbuy.joining import get_entry, lines_of, payload
from yutang.groupbuy.models import Entry, EntryLine, GroupBuyItem, Leader, PickupPoint
from yutang.groupbuy.schemas import AfterSaleOut, EndingIn, RefundIn
from yutang.groupbuy.setup import get_groupbuy, items_of
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.orders import service as orders_service
from yutang.storage import dialect, outbox
from yutang.storage.topics import Topic
from yutang.workspaces.access import Actor, Permission

SOURCE = "groupbuy"  # the ledger's source of leaders' commissions
AFTER_SALES_DAYS = 7  # a leader's commission waits out fresh goods' after-sales window before it can be paid


def verify(session: Session, *, actor: Actor, groupbuy_id: int, code: str, now: datetime | None = None) -> Entry:
    """Hand over an entry's confirmed lines against its code; the balance is collected now. A second verification
    of the same code is refused (one conditional UPDATE decides, so two counters cannot both hand it over)."""
    actor.require(Permission.WRITE)
    groupbuy = get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    entry = session.scalar(dialect.of(session).lock(
        select(Entry).where(Entry.groupbuy_id == groupbuy.id, Entry.code == code.strip())))
    if entry is None:
        raise NotFound("no entry has this code", field="code")
    entry = get_entry(session, actor=actor, groupbuy_id=groupbuy.id, entry_id=entry.id, field="code")
    now = now or utcnow()
    handed = session.execute(
        update(EntryLine).where(EntryLine.entry_id == entry.id, EntryLine.status == core.LineStatus.CONFIRMED.value)
        .values(status=core.LineStatus.PICKED_UP.value, paid_fen=EntryLine.paid_fen + EntryLine.balance_due_fen,
                balance_due_fen=0).execution_options(synchronize_session=False)).rowcount
    lines = lines_of(session, entry_ids=[entry.id])[entry.id]
    for line in lines:
        session.refresh(line)
    if not handed:
        reasons = [core.verification_problem(core.LineStatus(line.status)) for line in lines]
        raise Conflict(next((reason for reason in reasons if reason), "nothing to hand over"), field="code")
    entry.picked_up_at = now
    items = {item.id: item for item in items_of(session, groupbuy_id=groupbuy.id)}
    if entry.customer_id is not None:
        resync(session, actor=actor, entry=entry, lines=lines, items=items)
    picked = [line for line in lines if line.status == core.LineStatus.PICKED_UP]
    _leader_commission(session, actor=actor, entry=entry, skus={items[line.item_id].sku for line in picked}, now=now)
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.GROUPBUY_PICKED_UP, entity_id=entry.id,
                payload=payload(entry, [(items[line.item_id].sku, line.quantity) for line in picked],
                                amount_fen=sum(line.paid_fen for line in picked), at=now))
    return entry


def _leader_commission(session: Session, *, actor: Actor, entry: Entry, skus: set[str], now: datetime) -> None:
    """The pick-up point's leader earns their rate on the lines handed over (fulfilled sales only), posted to the
    commission ledger and frozen until the after-sales window closes; a later refund reverses exactly its part."""
    point = session.get(PickupPoint, entry.point_id) if entry.point_id is not None else None
    leader = session.get(Leader, point.leader_id) if point is not None and point.leader_id is not None else None
    if leader is None or not leader.commission_bp or entry.order_id is None:
        return
    order = orders_service.get_order(session, actor=actor, order_id=entry.order_id)
    lines = [line for line in _ledger_lines(session, order) if line.sku in skus]
    commissions.post_order(
        session, actor=actor, source=SOURCE, order_id=order.id, status=order.status, paid_fen=order.paid_fen,
        refunded_fen=sum(line.refunded_fen for line in lines), lines=lines,
        chain=[commissions.Beneficiary("leader", leader.id)],
        rates=[commissions_core.Rates(default_bp=leader.commission_bp)], depth=1, cap_bp=10_000, paid_at=now,
        after_sales_days=AFTER_SALES_DAYS, customer_id=entry.customer_id)
    commissions.freeze_order(session, actor=actor, order_id=order.id)


def _ledger_lines(session: Session, order) -> list[commissions_core.Line]:
    (shown,) = orders_service.present(session, orders=[order])
    return [commissions_core.Line(line.line_no, line.sku, line.category, line.amount_fen, line.refunded_fen)
            for line in shown.lines]


def _line(session: Session, *, actor: Actor, groupbuy_id: int, entry_id: int,
          item_id: int) -> tuple[Entry, EntryLine, GroupBuyItem]:
    entry = get_entry(session, actor=actor, groupbuy_id=groupbuy_id, entry_id=entry_id)
    line = session.scalar(dialect.of(session).lock(
        select(EntryLine).where(EntryLine.entry_id == entry.id, EntryLine.item_id == item_id))
        .execution_options(populate_existing=True))
    if line is None:
        raise NotFound("this entry has no line of that item", field="item_id")
    return entry, line, session.get(GroupBuyItem, item_id)


def end_line(session: Session, *, actor: Actor, groupbuy_id: int, data: EndingIn) -> EntryLine:
    """A confirmed line that will not be picked up: the buyer walked away (a 定金 is forfeited) or the shop
    defaulted (a 定金 comes back double)."""
    actor.require(Permission.WRITE)
    entry, line, item = _line(session, actor=actor, groupbuy_id=groupbuy_id, entry_id=data.entry_id,
                              item_id=data.item_id)
    if line.status != core.LineStatus.CONFIRMED:
        raise Conflict(f"this line is {line.status}; only a confirmed line ends this way", field="item_id")
    groupbuy = get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    ending = core.Ending(data.ending)
    result = core.settle(core.DepositKind(groupbuy.deposit_kind), ending, deposit_fen=item.deposit_fen,
                         quantity=line.quantity, paid_fen=line.paid_fen)
    line.refunded_fen, line.kept_fen, line.balance_due_fen = result.refund_fen, result.kept_fen, 0
    line.status = (core.LineStatus.NO_SHOW if ending is core.Ending.BUYER_WALKED_AWAY
                   else core.LineStatus.CANCELLED).value
    session.flush()
    _resync_entry(session, actor=actor, entry=entry)
    return line


def refund(session: Session, *, actor: Actor, groupbuy_id: int, data: RefundIn) -> AfterSaleOut:
    """An after-sales refund of a picked-up line; fresh goods are refunded without return (revenue goes, the cost
    stays). Returns the line's honest figures after it."""
    actor.require(Permission.WRITE)
    entry, line, item = _line(session, actor=actor, groupbuy_id=groupbuy_id, entry_id=data.entry_id,
                              item_id=data.item_id)
    if line.status not in (core.LineStatus.PICKED_UP, core.LineStatus.REFUNDED):
        raise Conflict(f"this line is {line.status}; after-sales refunds follow a pick-up", field="item_id")
    if data.returned and item.fresh:
        raise Invalid("fresh goods are refunded without return", field="returned")
    if line.refunded_fen + data.refund_fen > line.paid_fen:
        raise Invalid(f"at most {line.paid_fen - line.refunded_fen} fen is left to refund", field="refund_fen")
    line.refunded_fen += data.refund_fen
    if line.refunded_fen == line.paid_fen:
        line.status = core.LineStatus.REFUNDED.value
    session.flush()
    _resync_entry(session, actor=actor, entry=entry)
    if entry.order_id is not None:  # the leader's commission on the refunded part goes back (exactly, once)
        order = orders_service.get_order(session, actor=actor, order_id=entry.order_id)
        commissions.reverse_for_refund(session, actor=actor, order_id=order.id, refunded_fen=order.refunded_fen,
                                       lines=_ledger_lines(session, order), customer_id=entry.customer_id)
    figures = core.after_sale(paid_fen=line.paid_fen, cost_fen=item.cost_fen * line.quantity,
                              refund_fen=line.refunded_fen, returned=data.returned)
    return AfterSaleOut(revenue_fen=figures.revenue_fen, cost_fen=figures.cost_fen, profit_fen=figures.profit_fen)


def _resync_entry(session: Session, *, actor: Actor, entry: Entry) -> None:
    if entry.customer_id is None:
        return
    items = {item.id: item for item in items_of(session, groupbuy_id=entry.groupbuy_id)}
    resync(session, actor=actor, entry=entry, lines=lines_of(session, entry_ids=[entry.id])[entry.id], items=items)
