"""Record orders idempotently (by channel + external id), list them, and move them on merges."""

import hashlib
import json
from datetime import datetime

from sqlalchemy import Select, Subquery, delete, func, select, update
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.channels.service import Channel
from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn, IdentityKind
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.orders import paid
from yutang.orders.models import Order, OrderLine
from yutang.orders.schemas import OrderIn, OrderLineOut, OrderOut, OrderStatus
from yutang.storage import outbox
from yutang.storage.scoped import get_in_workspace
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

PAID_STATUSES = paid.PAID_STATUSES
is_paid = paid.is_paid


def content_hash(data: OrderIn) -> str:
    """Fingerprint of everything that matters in an order, so an identical re-import is a no-op."""
    shape = data.model_dump(mode="json", exclude={"raw", "buyer_name"})
    return hashlib.sha256(json.dumps(shape, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def record_order(session: Session, *, actor: Actor, data: OrderIn,
                 channel: Channel | None = None) -> tuple[Order, str, bool]:
    """Create or update an order; returns (order, 'created'|'updated'|'unchanged', customer_created)."""
    actor.require(Permission.WRITE)
    channel = channel or channels_service.find_channel(session, actor=actor, code=data.channel, field="channel")
    existing = session.scalar(select(Order).where(Order.workspace_id == actor.workspace_id,
                                                  Order.channel_id == channel.id,
                                                  Order.external_id == data.external_id))
    if existing is not None and actor.sees_own_customers_only:
        get_order(session, actor=actor, order_id=existing.id)  # a guide never reads or rewrites another's order
    fingerprint = content_hash(data)
    if existing is not None and existing.content_hash == fingerprint:
        return existing, "unchanged", False
    if existing is not None and data.refunded_fen < existing.refunded_fen:
        # Marketplace syncs deliver stale snapshots late: refunds only grow, so an older figure is refused whole.
        raise Conflict(f"order {data.external_id} has {existing.refunded_fen} fen refunded already; a refund "
                       f"only grows, so {data.refunded_fen} fen is an older state and is not recorded",
                       field="refunded_fen")
    customer, customer_created = _buyer(session, actor=actor, data=data, channel=channel)
    if existing is None:
        order = Order(workspace_id=actor.workspace_id, channel_id=channel.id, external_id=data.external_id)
        session.add(order)
        before = None
    else:
        order = existing
        before = {"status": order.status, "paid_fen": order.paid_fen, "refunded_fen": order.refunded_fen}
        session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
    order.customer_id = customer.id
    order.status = data.status.value
    order.currency = data.currency
    order.total_fen = data.total_fen
    order.paid_fen = data.paid_fen
    order.refunded_fen = data.refunded_fen
    order.placed_at = data.placed_at
    order.paid_at = paid.paid_time(order.status, paid_at=data.paid_at, placed_at=data.placed_at)
    order.source_status = data.source_status
    order.raw = data.raw
    order.content_hash = fingerprint
    order.updated_at = utcnow()
    session.flush()
    for number, line in enumerate(data.lines, start=1):
        session.add(OrderLine(workspace_id=actor.workspace_id, order_id=order.id, line_no=number, **line.model_dump()))
    session.flush()
    customers_service.join_channel(session, actor=actor, customer=customer, channel_id=channel.id,
                                   joined_at=data.placed_at)
    customers_service.seen_at(session, customer=customer, at=data.placed_at)
    action = "created" if before is None else "updated"
    workspaces_service.record(session, actor=actor, action=f"order.{action}", entity_type="order", entity_id=order.id,
                              changes={"before": before, "status": order.status, "paid_fen": order.paid_fen,
                                       "refunded_fen": order.refunded_fen})
    _emit(session, order=order, data=data, before=before)
    return order, action, customer_created


def _buyer(session: Session, *, actor: Actor, data: OrderIn, channel: Channel):
    if data.customer_id is not None:
        customer = customers_service.get_customer(session, actor=actor, customer_id=data.customer_id)
        if customer.status == customers_service.MERGED and customer.merged_into_id:
            customer = customers_service.get_customer(session, actor=actor, customer_id=customer.merged_into_id)
        customers_service.require_active(customer)
        return customer, False
    buyer = [identity.model_copy(update={"namespace": identity.namespace or channel.code})
             if identity.kind is IdentityKind.MARKETPLACE_BUYER else identity for identity in data.buyer]
    return customers_service.resolve_or_create(
        session, actor=actor,
        data=CustomerIn(identities=buyer, name=data.buyer_name, first_channel=channel.code,
                        first_seen_at=data.placed_at))


def _emit(session: Session, *, order: Order, data: OrderIn, before: dict | None) -> None:
    payload = {"id": order.id, "customer_id": order.customer_id, "channel_id": order.channel_id,
               "external_id": order.external_id, "status": order.status, "total_fen": order.total_fen,
               "paid_fen": order.paid_fen, "refunded_fen": order.refunded_fen,
               "placed_at": order.placed_at.isoformat(),
               "paid_at": order.paid_at.isoformat() if order.paid_at else None,
               "lines": [{"sku": line.sku, "category": line.category, "quantity": line.quantity,
                          "amount_fen": line.amount_fen} for line in data.lines]}
    outbox.emit(session, workspace_id=order.workspace_id, topic=Topic.ORDER_CHANGED, entity_id=order.id,
                payload=payload)
    was_paid = before is not None and OrderStatus(before["status"]) in PAID_STATUSES
    if data.status in PAID_STATUSES and not was_paid:
        # A past fact: the warehouse event carries the payment time, not the time it was recorded.
        outbox.emit(session, workspace_id=order.workspace_id, topic=Topic.ORDER_PAID, entity_id=order.id,
                    payload=payload | {"occurred_at": payload["paid_at"]})
    if order.refunded_fen > (before or {}).get("refunded_fen", 0):
        outbox.emit(session, workspace_id=order.workspace_id, topic=Topic.ORDER_REFUNDED, entity_id=order.id,
                    payload=payload | {"refund_delta_fen": order.refunded_fen - (before or {}).get("refunded_fen", 0)})


def get_order(session: Session, *, actor: Actor, order_id: int) -> Order:
    """An order of the workspace the actor may see."""
    actor.require(Permission.READ)
    order = get_in_workspace(session, Order, order_id, workspace_id=actor.workspace_id, what="order",
                             field="order_id")
    if actor.sees_own_customers_only:
        if order.customer_id is None:
            raise NotFound("no such order", field="order_id")
        customers_service.get_customer(session, actor=actor, customer_id=order.customer_id)
    return order


def list_orders(session: Session, *, actor: Actor, customer_id: int | None = None, channel_id: int | None = None,
                status: OrderStatus | None = None, before_id: int | None = None, limit: int = 50) -> list[Order]:
    """Orders newest first, by customer, channel or status."""
    actor.require(Permission.READ)
    query = select(Order).where(Order.workspace_id == actor.workspace_id)
    if actor.sees_own_customers_only:
        query = query.where(Order.customer_id.in_(customers_service.visible_ids(actor)))
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    if channel_id is not None:
        query = query.where(Order.channel_id == channel_id)
    if status is not None:
        query = query.where(Order.status == status.value)
    if before_id is not None:
        query = query.where(Order.id < before_id)
    return list(session.scalars(query.order_by(Order.id.desc()).limit(limit)))


def present(session: Session, *, orders: list[Order]) -> list[OrderOut]:
    """API shapes for orders with their lines (one query for all lines)."""
    lines: dict[int, list[OrderLine]] = {order.id: [] for order in orders}
    if orders:
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id.in_(list(lines)))
                                    .order_by(OrderLine.order_id, OrderLine.line_no)):
            lines[line.order_id].append(line)
    return [OrderOut.model_validate(order).model_copy(
        update={"lines": [OrderLineOut.model_validate(line) for line in lines[order.id]]}) for order in orders]


def purchase_totals(actor: Actor) -> Subquery:
    """Per customer of the workspace: spend (fen paid less refunded, over purchases) and the last payment time;
    a subquery with columns customer_id, spend_fen, last_paid_at."""
    return (select(Order.customer_id.label("customer_id"),
                   func.sum(Order.paid_fen - Order.refunded_fen).label("spend_fen"),
                   func.max(Order.paid_at).label("last_paid_at"))
            .where(Order.workspace_id == actor.workspace_id, Order.customer_id.is_not(None),
                   Order.status.in_(sorted(paid.PURCHASE_STATUSES)), Order.paid_fen > Order.refunded_fen)
            .group_by(Order.customer_id).subquery("purchase_totals"))


def purchases(actor: Actor, *, since: datetime | None = None, until: datetime | None = None) -> Subquery:
    """Per customer of the workspace, purchases paid in [since, until) (any time when not given): how many, and
    their spend (fen paid less refunded); a subquery with columns customer_id, purchases, spend_fen."""
    query = (select(Order.customer_id.label("customer_id"), func.count().label("purchases"),
                    func.sum(Order.paid_fen - Order.refunded_fen).label("spend_fen"))
             .where(Order.workspace_id == actor.workspace_id, Order.customer_id.is_not(None),
                    Order.status.in_(sorted(paid.PURCHASE_STATUSES)), Order.paid_fen > Order.refunded_fen))
    if since is not None:
        query = query.where(Order.paid_at >= since)
    if until is not None:
        query = query.where(Order.paid_at < until)
    return query.group_by(Order.customer_id).subquery("purchases")


def purchases_after(actor: Actor, starts: Subquery) -> Select:
    """Per customer of `starts` (columns customer_id, since): purchases paid at or after their `since` — columns
    customer_id, purchases, spend_fen (fen paid less refunded)."""
    return (select(starts.c.customer_id, func.count(Order.id).label("purchases"),
                   func.sum(Order.paid_fen - Order.refunded_fen).label("spend_fen"))
            .join(Order, (Order.customer_id == starts.c.customer_id) & (Order.paid_at >= starts.c.since))
            .where(Order.workspace_id == actor.workspace_id, Order.status.in_(sorted(paid.PURCHASE_STATUSES)),
                   Order.paid_fen > Order.refunded_fen)
            .group_by(starts.c.customer_id))


def paid_times(session: Session, *, actor: Actor, customer_ids: list[int], since: datetime,
               until: datetime) -> dict[int, list[tuple[datetime, int]]]:
    """Purchases of these customers paid in [since, until): (paid at, fen paid less refunded), oldest first."""
    found: dict[int, list[tuple[datetime, int]]] = {}
    for start in range(0, len(customer_ids), 1000):
        for customer_id, at, fen in session.execute(
                select(Order.customer_id, Order.paid_at, Order.paid_fen - Order.refunded_fen)
                .where(Order.workspace_id == actor.workspace_id, Order.status.in_(sorted(paid.PURCHASE_STATUSES)),
                       Order.paid_fen > Order.refunded_fen, Order.customer_id.in_(customer_ids[start:start + 1000]),
                       Order.paid_at >= since, Order.paid_at < until).order_by(Order.paid_at)):
            found.setdefault(customer_id, []).append((at, int(fen)))
    return found


def purchase_totals_of(session: Session, *, actor: Actor, customer_ids: list[int]) -> dict[int, tuple[int, datetime]]:
    """(spend in fen, last payment time) of those of these customers who bought."""
    totals = purchase_totals(actor)
    found: dict[int, tuple[int, datetime]] = {}
    for start in range(0, len(customer_ids), 1000):
        for customer_id, spend, last in session.execute(select(totals).where(
                totals.c.customer_id.in_(customer_ids[start:start + 1000]))):
            found[customer_id] = (int(spend), last)
    return found


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Point a merged customer's orders at the winner; returns how many moved."""
    result = session.execute(update(Order).where(Order.customer_id == from_id).values(customer_id=to_id))
    return result.rowcount or 0


def export(session: Session, *, customer_id: int) -> list[dict]:
    """A customer's orders for a data-subject export."""
    orders = list(session.scalars(select(Order).where(Order.customer_id == customer_id).order_by(Order.placed_at)))
    return [o.model_dump(mode="json") for o in present(session, orders=orders)]


def erase(session: Session, *, customer_id: int) -> None:
    """Strip personal data from a customer's orders (the raw source record); amounts and items stay."""
    session.execute(update(Order).where(Order.customer_id == customer_id).values(raw={}))


def require_known_status(text: str, *, field: str) -> OrderStatus:
    """Parse an order status or name the field at fault."""
    try:
        return OrderStatus(text.strip().lower())
    except ValueError as exc:
        raise Invalid(f"unknown order status {text!r}", field=field) from exc
