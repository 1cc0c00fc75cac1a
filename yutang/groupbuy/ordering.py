"""Group-buy entries as real orders on their own channel, so segments, lifecycle and analytics see them."""

from datetime import datetime

from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.channels.schemas import ChannelIn, ChannelKind
from yutang.groupbuy.core import LineStatus
from yutang.groupbuy.models import GroupBuyItem
from yutang.kit.errors import NotFound
from yutang.orders import service as orders_service
from yutang.orders.schemas import OrderIn, OrderLineIn, OrderStatus
from yutang.workspaces.access import Actor

CHANNEL = "groupbuy"


def channel(session: Session, *, actor: Actor):
    """The workspace's group-buy channel, made on first use."""
    try:
        return channels_service.find_channel(session, actor=actor, code=CHANNEL)
    except NotFound:
        return channels_service.create_channel(session, actor=actor, data=ChannelIn(
            code=CHANNEL, name="Group-buy 接龙", kind=ChannelKind.MINI_PROGRAM))


def external_id(groupbuy_id: int, request_key: str) -> str:
    """The order's id on the group-buy channel: one order per join request."""
    return f"gb{groupbuy_id}:{request_key}"


def _status(statuses: set[str], *, total: int, paid: int, refunded: int) -> OrderStatus:
    if statuses <= {LineStatus.CANCELLED}:
        return OrderStatus.CANCELLED
    if refunded and refunded >= paid:
        return OrderStatus.REFUNDED
    if refunded:
        return OrderStatus.PARTIALLY_REFUNDED
    if statuses <= {LineStatus.PICKED_UP, LineStatus.CANCELLED}:
        return OrderStatus.COMPLETED
    return OrderStatus.PAID if paid >= total else OrderStatus.PENDING


def sync(session: Session, *, actor: Actor, groupbuy_id: int, request_key: str, customer_id: int, placed_at: datetime,
         lines: list[tuple[GroupBuyItem, int, str, int, int]], paid_at: datetime | None = None):
    """Record the entry's order from its lines (item, quantity, status, paid fen, refunded fen); returns the order.

    The order's total is what the live lines are worth; a cancelled line's price leaves it, its deposit stays
    paid and comes back as a refund. A doubled 定金 returns more than was paid: the order shows what was paid
    back of the buyer's own money, the rest is the shop's cost of defaulting."""
    order_lines, paid, refunded, statuses = [], 0, 0, set()
    for item, quantity, status, line_paid, line_refunded in lines:
        live = status != LineStatus.CANCELLED
        amount = item.price_fen * quantity if live else 0
        order_lines.append(OrderLineIn(sku=item.sku, product_name=item.name, quantity=quantity,
                                       unit_price_fen=item.price_fen, amount_fen=max(amount, line_paid),
                                       refunded_fen=min(line_refunded, line_paid)))
        paid += line_paid
        refunded += min(line_refunded, line_paid)
        statuses.add(status)
    total = sum(line.amount_fen for line in order_lines)
    status = _status(statuses, total=total, paid=paid, refunded=refunded)
    if status in orders_service.PAID_STATUSES and paid_at is None:
        paid_at = placed_at
    order, _, _ = orders_service.record_order(session, actor=actor, channel=channel(session, actor=actor), data=OrderIn(
        external_id=external_id(groupbuy_id, request_key), channel=CHANNEL, status=status, placed_at=placed_at,
        paid_at=paid_at, total_fen=total, paid_fen=paid, refunded_fen=refunded, customer_id=customer_id,
        lines=order_lines, raw={"groupbuy_id": groupbuy_id}))
    return order
