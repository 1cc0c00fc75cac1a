"""Pick-up with a code (核销, once), lines that end unpicked (no-show, the shop's default) and after-sales refunds."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yutang.groupbuy import core
from yutang.groupbuy.cutoff import resync
from yutang.groupbuy.joining import get_entry, lines_of, payload
from yutang.groupbuy.models import Entry, EntryLine, GroupBuyItem
from yutang.groupbuy.schemas import AfterSaleOut, EndingIn, RefundIn
from yutang.groupbuy.setup import get_groupbuy, items_of
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.storage import dialect, outbox
from yutang.storage.topics import Topic
from yutang.workspaces.access import Actor, Permission


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
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.GROUPBUY_PICKED_UP, entity_id=entry.id,
                payload=payload(entry, [(items[line.item_id].sku, line.quantity) for line in picked],
                                amount_fen=sum(line.paid_fen for line in picked), at=now))
    return entry


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
    figures = core.after_sale(paid_fen=line.paid_fen, cost_fen=item.cost_fen * line.quantity,
                              refund_fen=line.refunded_fen, returned=data.returned)
    return AfterSaleOut(revenue_fen=figures.revenue_fen, cost_fen=figures.cost_fen, profit_fen=figures.profit_fen)


def _resync_entry(session: Session, *, actor: Actor, entry: Entry) -> None:
    if entry.customer_id is None:
        return
    items = {item.id: item for item in items_of(session, groupbuy_id=entry.groupbuy_id)}
    resync(session, actor=actor, entry=entry, lines=lines_of(session, entry_ids=[entry.id])[entry.id], items=items)
