"""Referral use cases of whole units of work: the outbox subscriber on orders and friendships, the nightly settle."""

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from yutang.commissions import service as commissions
from yutang.referral import service
from yutang.storage.engine import unit_of_work
from yutang.storage.topics import Topic
from yutang.warehouse.replica import Change
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, system_actor

SUBSCRIPTION = "referral.orders"
TOPICS = frozenset({Topic.ORDER_PAID, Topic.ORDER_REFUNDED, Topic.MEMBERSHIP_CHANGED})


def _actor(session: Session, workspace_id: int) -> Actor:
    zone = workspaces_service.get_workspace(session, workspace_id=workspace_id).timezone
    return system_actor(workspace_id, timezone=zone)


def on_change(session: Session, change: Change) -> None:
    """Outbox subscriber: a paid order posts commissions and may convert a referral; a refund reverses exactly
    the entries it touches and voids held rewards; a lost friendship voids held rewards (delete_invalid).
    Idempotent: entries are keyed per line and level, reversals are measured against what is reversed already."""
    payload = change.payload
    actor = _actor(session, change.workspace_id)
    if change.topic == Topic.ORDER_PAID:
        service.commission_order(session, actor=actor, order_id=payload["id"])
        if payload.get("customer_id"):
            service.convert(session, actor=actor, customer_id=payload["customer_id"], order_id=payload["id"],
                            paid_fen=payload["paid_fen"] - payload["refunded_fen"],
                            at=datetime.fromisoformat(payload["paid_at"] or payload["placed_at"]))
    elif change.topic == Topic.ORDER_REFUNDED:
        service.refund_order(session, actor=actor, order_id=payload["id"])
    elif change.topic == Topic.MEMBERSHIP_CHANGED and payload.get("left_at"):
        service.void_for(session, actor=actor, customer_id=payload["customer_id"], reason="delete_invalid")


def nightly(factory: sessionmaker[Session], *, actor: Actor, now: datetime) -> dict:
    """End the freezes whose after-sales window closed, then issue the rewards whose hold is over."""
    with unit_of_work(factory) as session:
        released = commissions.release_due(session, actor=actor, now=now)
    with unit_of_work(factory) as session:
        issued = service.settle(session, actor=actor, now=now)
    return {"released": released, "issued": issued}
