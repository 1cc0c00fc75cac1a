"""A customer's presence in acquisition channels: joined, left, and when."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.customers.models import ChannelMembership, Customer
from yutang.customers.profile import jsonable, require_active
from yutang.customers.reading import get_customer
from yutang.kit.clock import utcnow
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


def join_channel(session: Session, *, actor: Actor, customer: Customer, channel_id: int,
                 joined_at: datetime | None = None) -> ChannelMembership | None:
    """Record that the customer is present in a channel; returns the membership if it changed, else None."""
    membership = session.scalar(select(ChannelMembership).where(ChannelMembership.customer_id == customer.id,
                                                                ChannelMembership.channel_id == channel_id))
    if membership is None:
        membership = ChannelMembership(workspace_id=actor.workspace_id, customer_id=customer.id,
                                       channel_id=channel_id, joined_at=joined_at or utcnow())
        session.add(membership)
        session.flush()
        emit_membership(session, membership)
        return membership
    if membership.left_at is not None:
        membership.left_at = None
        emit_membership(session, membership)
        return membership
    return None


def emit_membership(session: Session, membership: ChannelMembership) -> None:
    outbox.emit(session, workspace_id=membership.workspace_id, topic=Topic.MEMBERSHIP_CHANGED,
                entity_id=membership.customer_id,
                payload={"customer_id": membership.customer_id, "channel_id": membership.channel_id,
                         "joined_at": jsonable(membership.joined_at), "left_at": jsonable(membership.left_at)})


def leave_channel(session: Session, *, actor: Actor, customer: Customer, channel_id: int,
                  at: datetime | None = None) -> ChannelMembership | None:
    """Record that the customer left a channel (unfollowed, deleted the contact); the membership if it changed."""
    membership = session.scalar(select(ChannelMembership).where(ChannelMembership.customer_id == customer.id,
                                                                ChannelMembership.channel_id == channel_id))
    if membership is None or membership.left_at is not None:
        return None
    membership.left_at = at or utcnow()
    emit_membership(session, membership)
    return membership


def record_membership(session: Session, *, actor: Actor, customer_id: int, channel_code: str, joined: bool,
                      at: datetime | None = None) -> list[ChannelMembership]:
    """A customer joined (followed, added the contact) or left a channel; returns their memberships."""
    actor.require(Permission.WRITE)
    customer = get_customer(session, actor=actor, customer_id=customer_id)
    require_active(customer)
    channel = channels_service.find_channel(session, actor=actor, code=channel_code, field="channel")
    if joined:
        changed = join_channel(session, actor=actor, customer=customer, channel_id=channel.id, joined_at=at)
    else:
        changed = leave_channel(session, actor=actor, customer=customer, channel_id=channel.id, at=at)
    if changed is not None:
        workspaces_service.record(session, actor=actor, action="customer.joined" if joined else "customer.left",
                                  entity_type="customer", entity_id=customer.id, changes={"channel": channel.code})
    return memberships_of(session, customer_id=customer.id)


def memberships_of(session: Session, *, customer_id: int) -> list[ChannelMembership]:
    """A customer's channel memberships, earliest first."""
    return list(session.scalars(select(ChannelMembership).where(ChannelMembership.customer_id == customer_id)
                                .order_by(ChannelMembership.joined_at, ChannelMembership.id)))
