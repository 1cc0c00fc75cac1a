"""Telling each buyer the cut-off's result: a service message per entry on the group-buy's notice channel, in
batches after the cut-off commits, keyed per entry so a batch run twice queues nothing twice."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.groupbuy import core
from yutang.groupbuy.joining import lines_of
from yutang.groupbuy.models import Entry, EntryLine, GroupBuy
from yutang.groupbuy.setup import get_groupbuy, items_of
from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid
from yutang.kit.money import fen_to_yuan_text
from yutang.messaging import service as messaging_service
from yutang.messaging.schemas import MessageIn, Purpose
from yutang.storage import dialect
from yutang.workspaces.access import Actor, Permission

BATCH = 500


def text(title: str, code: str, lines: list[tuple[str, int, str, int, int]]) -> str:
    """The buyer's notice from their lines (item name, quantity, status, balance due fen, refunded fen)."""
    ahead = [(name, q, due) for name, q, status, due, _ in lines if status == core.LineStatus.CONFIRMED]
    off = [(name, q, back) for name, q, status, _, back in lines if status == core.LineStatus.CANCELLED]
    parts = [f"【{title}】已截单。"]
    if ahead:
        parts.append("成团：" + "、".join(f"{name}×{q}" for name, q, _ in ahead) + "，"
                     + (f"待付尾款 ¥{fen_to_yuan_text(sum(d for *_, d in ahead))}，" if any(d for *_, d in ahead)
                        else "") + f"取货码 {code}。")
    if off:
        parts.append("未成团已取消：" + "、".join(f"{name}×{q}" for name, q, _ in off)
                     + (f"，已退 ¥{fen_to_yuan_text(sum(b for *_, b in off))}" if any(b for *_, b in off) else "")
                     + "。")
    return "".join(parts)


def pending(session: Session) -> list[tuple[int, int]]:
    """(workspace id, group-buy id) of closed group-buys with a notice channel whose buyers are not all told."""
    return [(w, g) for w, g in session.execute(
        select(GroupBuy.workspace_id, GroupBuy.id).where(GroupBuy.status == "closed",
                                                         GroupBuy.notice_channel_id.is_not(None),
                                                         GroupBuy.notified_at.is_(None)).order_by(GroupBuy.id))]


def notify(session: Session, *, actor: Actor, groupbuy_id: int, batch: int = BATCH,
           now: datetime | None = None) -> int:
    """Queue the next batch of notices (in 跟团号 order) and return how many entries it covered; 0 once every buyer
    was told. Service messages: contact caps do not hold them back; an erased buyer's is recorded as suppressed by
    messaging, a buyer with no address on the channel is passed over."""
    actor.require(Permission.WRITE)
    get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id)
    groupbuy = session.scalar(dialect.of(session).lock(select(GroupBuy).where(GroupBuy.id == groupbuy_id))
                              .execution_options(populate_existing=True))
    if groupbuy.status != "closed" or groupbuy.notice_channel_id is None or groupbuy.notified_at is not None:
        return 0
    entries = list(session.scalars(select(Entry).where(Entry.groupbuy_id == groupbuy.id,
                                                       Entry.number > groupbuy.notified_through)
                                   .order_by(Entry.number).limit(batch)))
    if not entries:
        groupbuy.notified_at = now or utcnow()
        return 0
    names = {item.id: item.name for item in items_of(session, groupbuy_id=groupbuy.id)}
    lines: dict[int, list[EntryLine]] = lines_of(session, entry_ids=[entry.id for entry in entries])
    for entry in entries:
        if entry.customer_id is None:
            continue
        body = text(groupbuy.title, entry.code, [(names[line.item_id], line.quantity, line.status,
                                                  line.balance_due_fen, line.refunded_fen)
                                                 for line in lines[entry.id]])
        try:
            messaging_service.enqueue(session, actor=actor, data=MessageIn(
                channel_id=groupbuy.notice_channel_id, customer_id=entry.customer_id, body=body,
                purpose=Purpose.SERVICE, track_links=False,
                idempotency_key=f"groupbuy:{groupbuy.id}:cutoff:{entry.id}"))
        except Invalid:
            continue  # no address on this channel (messaging checks before writing anything): the list shows it
    groupbuy.notified_through = entries[-1].number
    return len(entries)
