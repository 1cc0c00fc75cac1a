"""Yutang's own events: the catalogue of their names and the one mapping from an outbox row to them.

The relay records these events in the warehouse (`replica.py`) and webhooks deliver them to subscribers
(`yutang.webhooks`); both read an outbox row through `events_of`, so an event means the same thing in both places.
Later domains add their topics (storage/topics.py) to TOPIC_EVENTS (or, for events they write straight to the warehouse,
their names to DIRECT_EVENTS); CATALOGUE is every name an integrator can subscribe to.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from yutang.storage.topics import Topic

SOURCE = "yutang"

# Outbox topic -> event name (the names are documented in docs/events.md).
TOPIC_EVENTS: dict[str, str] = {
    Topic.ORDER_PAID: "Order Paid",
    Topic.ORDER_REFUNDED: "Order Refunded",
    Topic.TAG_ADDED: "Tag Added",
    Topic.TAG_REMOVED: "Tag Removed",
    Topic.CONSENT_CHANGED: "Consent Changed",
    Topic.CUSTOMER_MERGED: "Customer Merged",
    Topic.MESSAGE_QUEUED: "Message Queued",
    Topic.MESSAGE_SENT: "Message Sent",
    Topic.MESSAGE_DELIVERED: "Message Delivered",
    Topic.MESSAGE_READ: "Message Read",
    Topic.MESSAGE_CLICKED: "Message Clicked",
    Topic.MESSAGE_FAILED: "Message Failed",
    Topic.MESSAGE_SUPPRESSED: "Message Suppressed",
    Topic.MESSAGE_RECEIVED: "Message Received",
    Topic.POINTS_CHANGED: "Points Changed",
    Topic.COUPON_ISSUED: "Coupon Issued",
    Topic.COUPON_REDEEMED: "Coupon Redeemed",
    Topic.COUPON_EXPIRED: "Coupon Expired",
    Topic.TIER_CHANGED: "Tier Changed",
    Topic.OWNER_CHANGED: "Owner Changed",
    Topic.TASK_CREATED: "Task Created",
    Topic.TASK_DONE: "Task Done",
    Topic.JOURNEY_ENTERED: "Journey Entered",
    Topic.JOURNEY_EXITED: "Journey Exited",
    Topic.JOURNEY_CONVERTED: "Journey Converted",
    Topic.COMMISSION_POSTED: "Commission Posted",
    Topic.COMMISSION_REVERSED: "Commission Reversed",
    Topic.COMMISSION_PAID: "Commission Paid",
    Topic.REFERRAL_COMPLETED: "Referral Completed",
    Topic.GROUPBUY_JOINED: "Group-buy Joined",
    Topic.GROUPBUY_CONFIRMED: "Group-buy Confirmed",
    Topic.GROUPBUY_CANCELLED: "Group-buy Cancelled",
    Topic.GROUPBUY_PICKED_UP: "Group-buy Picked Up",
    Topic.EXPERIMENT_EXPOSURE: "Experiment Exposure",
}
# Many messages changing state at once: one outbox row, one `Message <state>` event per message.
BATCH_TOPIC = Topic.MESSAGE_BATCH
# Customers joining or leaving a group: one outbox row per group change, one event per customer.
GROUP_TOPIC = Topic.GROUP_MEMBERS
GROUP_EVENTS: tuple[str, ...] = ("Group Joined", "Group Left")
# Events the warehouse jobs append themselves, with `source = 'yutang'` (no outbox row precedes them).
DIRECT_EVENTS: tuple[str, ...] = ("Segment Entered", "Segment Exited", "Lifecycle Stage Changed")

CATALOGUE: tuple[str, ...] = (*dict.fromkeys(TOPIC_EVENTS.values()), *GROUP_EVENTS, *DIRECT_EVENTS)
TOPICS: frozenset[str] = frozenset({*TOPIC_EVENTS, BATCH_TOPIC, GROUP_TOPIC})


class OutboxChange(Protocol):
    """What events_of reads of an outbox row."""

    id: int
    workspace_id: int
    topic: str
    entity_id: int | None
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class OwnEvent:
    """One of Yutang's own events: its stable id (the warehouse message id), name, customer, properties, when it
    happened and when Yutang recorded it (the outbox row's commit; later than the fact for past facts)."""

    id: str
    workspace_id: int
    name: str
    customer_id: int | None
    properties: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime


def events_of(change: OutboxChange) -> list[OwnEvent]:
    """The events one outbox row stands for (none for topics that only feed replicas)."""
    p = change.payload
    if change.topic == BATCH_TOPIC:
        name = TOPIC_EVENTS[Topic.message(p["state"])]
        shared = {k: p[k] for k in ("channel_config_id", "purpose", "template_id", "broadcast_id") if k in p}
        return [OwnEvent(id=f"{SOURCE}:outbox:{change.id}:{message_id}", workspace_id=change.workspace_id, name=name,
                         customer_id=customer_id,
                         properties={**shared, "message_id": message_id, "customer_id": customer_id,
                                     "status": p["state"], "error_code": error_code,
                                     "thread_id": rest[0] if rest else None},
                         occurred_at=change.created_at, recorded_at=change.created_at)
                for message_id, customer_id, error_code, *rest in p["messages"]]
    if change.topic == GROUP_TOPIC:
        return _group_events(change)
    name = TOPIC_EVENTS.get(change.topic)
    if name is None:
        return []
    # Changes that record a past fact (an order paid last July) carry its time; the rest happen now.
    occurred = p.get("occurred_at")
    return [OwnEvent(id=f"{SOURCE}:outbox:{change.id}", workspace_id=change.workspace_id, name=name,
                     customer_id=p.get("customer_id") or p.get("winner_id") or change.entity_id, properties=p,
                     occurred_at=datetime.fromisoformat(occurred) if occurred else change.created_at,
                     recorded_at=change.created_at)]


def _group_events(change: OutboxChange) -> list[OwnEvent]:
    """Group Joined / Group Left per customer, at the join / leave time WeCom or the sync gave."""
    p = change.payload
    shared = {"group_id": p["group_id"], "owner_userid": p["owner_userid"]}
    joined = [OwnEvent(id=f"{SOURCE}:outbox:{change.id}:joined:{customer_id}", workspace_id=change.workspace_id,
                       name="Group Joined", customer_id=customer_id,
                       properties={**shared, "state": state, "join_scene": scene},
                       occurred_at=datetime.fromisoformat(at), recorded_at=change.created_at)
              for customer_id, at, state, scene in p["joined"]]
    left = [OwnEvent(id=f"{SOURCE}:outbox:{change.id}:left:{customer_id}", workspace_id=change.workspace_id,
                     name="Group Left", customer_id=customer_id, properties=dict(shared),
                     occurred_at=datetime.fromisoformat(at), recorded_at=change.created_at)
            for customer_id, at in p["left"]]
    return joined + left
