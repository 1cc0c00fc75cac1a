"""Outbox topics and the shape of each one's payload: the contract between the domains that emit changes and
the warehouse replica and jobs that read them.

Payloads are stored as JSON exactly as these dicts are (TypedDicts are plain dicts at run time), so rows
written before the types existed still relay. Timestamps are ISO 8601 strings, money integer fen.

A new domain adds its topics here: a `Topic` member per change, a TypedDict for its payload and an entry in
`PAYLOADS`; then a handler in warehouse/replica.py if the warehouse keeps a replica of it, and an event name
there (and in docs/events.md) if the change is an event.
"""

from enum import StrEnum
from typing import NotRequired, TypedDict


class Topic(StrEnum):
    """Every outbox topic."""

    CUSTOMER_CHANGED = "customer.changed"
    CUSTOMER_MERGED = "customer.merged"
    CUSTOMER_ERASED = "customer.erased"
    MEMBERSHIP_CHANGED = "membership.changed"
    CONSENT_CHANGED = "consent.changed"
    TAG_ADDED = "tag.added"
    TAG_REMOVED = "tag.removed"
    ORDER_CHANGED = "order.changed"
    ORDER_PAID = "order.paid"
    ORDER_REFUNDED = "order.refunded"
    MESSAGE_QUEUED = "message.queued"
    MESSAGE_SENT = "message.sent"
    MESSAGE_DELIVERED = "message.delivered"
    MESSAGE_READ = "message.read"
    MESSAGE_CLICKED = "message.clicked"
    MESSAGE_FAILED = "message.failed"
    MESSAGE_SUPPRESSED = "message.suppressed"
    MESSAGE_RECEIVED = "message.received"
    MESSAGE_BATCH = "message.batch"
    POINTS_CHANGED = "points.changed"
    COUPON_ISSUED = "coupon.issued"
    COUPON_REDEEMED = "coupon.redeemed"
    COUPON_EXPIRED = "coupon.expired"
    TIER_CHANGED = "tier.changed"
    OWNER_CHANGED = "owner.changed"
    TASK_CREATED = "task.created"
    TASK_DONE = "task.done"
    GROUP_MEMBERS = "group.members"
    JOURNEY_ENTERED = "journey.entered"
    JOURNEY_EXITED = "journey.exited"
    JOURNEY_CONVERTED = "journey.converted"
    COMMISSION_POSTED = "commission.posted"
    COMMISSION_REVERSED = "commission.reversed"
    COMMISSION_PAID = "commission.paid"
    REFERRAL_COMPLETED = "referral.completed"
    GROUPBUY_JOINED = "groupbuy.joined"
    GROUPBUY_CONFIRMED = "groupbuy.confirmed"
    GROUPBUY_CANCELLED = "groupbuy.cancelled"
    GROUPBUY_PICKED_UP = "groupbuy.picked_up"
    EXPERIMENT_EXPOSURE = "journey.experiment_exposure"

    @classmethod
    def message(cls, state: str) -> "Topic":
        """The topic of a message reaching a state (message.<state>)."""
        return cls(f"message.{state}")


# ---- customers ---------------------------------------------------------------------------------------------


class IdentityKind(TypedDict):
    """An identity's kind and namespace (never its value)."""

    kind: str
    namespace: str


class CustomerChanged(TypedDict):
    """A customer's new state as the replica holds it: no names, no identity values."""

    id: int
    status: str
    gender: str | None
    birthday: str | None
    province: str | None
    city: str | None
    first_channel_id: int | None
    source_campaign: str | None
    merged_into_id: int | None
    refuses_personalised: bool
    assigned_member_id: int | None
    first_seen_at: str | None
    identities: list[IdentityKind]


class CustomerMerged(TypedDict):
    """The loser's rows now belong to the winner."""

    winner_id: int
    loser_id: int
    reason: str


class CustomerErased(TypedDict):
    """What identifies the customer is gone."""

    id: int


class MembershipChanged(TypedDict):
    """A customer joined or left an acquisition channel."""

    customer_id: int
    channel_id: int
    joined_at: str
    left_at: str | None


class ConsentChanged(TypedDict):
    """A consent decision appended to the ledger."""

    customer_id: int
    channel: str
    status: str
    occurred_at: str


# ---- tags --------------------------------------------------------------------------------------------------


class TagChanged(TypedDict):
    """A tag put on or taken off a customer (tag.added, tag.removed)."""

    customer_id: int
    tag_id: int


# ---- orders ------------------------------------------------------------------------------------------------


class OrderLine(TypedDict):
    """One line of an order."""

    sku: str
    category: str | None
    quantity: int
    amount_fen: int


class OrderChanged(TypedDict):
    """An order's new state (order.changed, order.paid; order.refunded adds refund_delta_fen)."""

    id: int
    customer_id: int
    channel_id: int
    external_id: str
    status: str
    total_fen: int
    paid_fen: int
    refunded_fen: int
    placed_at: str
    paid_at: str | None
    lines: list[OrderLine]
    refund_delta_fen: NotRequired[int]
    occurred_at: NotRequired[str | None]  # order.paid: when it was paid, the time its event carries


# ---- messaging ---------------------------------------------------------------------------------------------


class MessageState(TypedDict):
    """One message reached a state (message.<state>)."""

    customer_id: int | None
    message_id: int
    channel_config_id: int
    purpose: str
    template_id: int | None
    thread_id: int | None
    status: str
    error_code: str | None
    attempts: int


# One message of a batch: [message id, customer id, error code] and, in rows written since threads, the thread id.
BatchedMessage = list[int | str | None]


class MessageBatch(TypedDict):
    """Many messages reached one state at once; the replica records one event per message."""

    state: str
    channel_config_id: int
    purpose: str
    template_id: NotRequired[int]
    messages: list[BatchedMessage]


# ---- loyalty -----------------------------------------------------------------------------------------------


class PointsChanged(TypedDict):
    """A points ledger entry."""

    entry_id: int
    customer_id: int
    kind: str
    points: int
    balance_after: int
    shortfall: int
    reason: str
    source_type: str | None
    source_ref: str | None
    rule_id: int | None
    occurred_at: str


class CouponIssued(TypedDict):
    """A coupon issued to a customer."""

    coupon_id: int
    template_id: int
    customer_id: int
    kind: str
    reason: str
    expires_at: str | None


class CouponRedeemed(TypedDict):
    """A coupon used on an order."""

    coupon_id: int
    template_id: int
    customer_id: int
    order_ref: str
    order_amount_fen: int
    discount_fen: int
    channel: str | None


class CouponExpired(TypedDict):
    """A coupon passed its end unused."""

    coupon_id: int
    template_id: int
    customer_id: int


class TierChanged(TypedDict):
    """A customer moved between tiers (to none: dropped out)."""

    customer_id: int
    from_tier_id: int | None
    to_tier_id: int | None
    tier_name: str | None
    qualifying: int
    reason: str


class OwnerChanged(TypedDict):
    """A customer's owning guide changed (to none: released)."""

    customer_id: int
    from_member_id: int | None
    to_member_id: int | None
    store_id: int | None
    reason: str


class TaskChanged(TypedDict):
    """A staff task was created or done (a group send: confirmed in WeCom); late when done after it was due."""

    task_id: int
    staff_id: int
    member_id: int | None
    customer_id: int | None
    kind: str
    due_at: str
    done_at: str | None
    late: bool
    source_key: str | None


# ---- groups ------------------------------------------------------------------------------------------------


class GroupMembers(TypedDict):
    """Customers who joined or left one WeCom customer group (a sync, a callback, a dismissal): one row per
    change of the group, one `Group Joined` / `Group Left` event per customer."""

    group_id: int
    owner_userid: str
    # [customer_id, joined_at, state, join_scene] each
    joined: list[list]
    # [customer_id, left_at] each
    left: list[list]


# ---- journeys ----------------------------------------------------------------------------------------------


class JourneyChanged(TypedDict):
    """A customer entered a journey, left it (status done / exited / failed, with the reason) or reached its goal."""

    journey_id: int
    enrolment_id: int
    version_id: int
    customer_id: int
    step: str | None
    status: str
    reason: str | None
    occurred_at: str


class CommissionChanged(TypedDict):
    """A commission entry posted for an order line and level, or part of it reversed by a refund."""

    entry_id: int
    customer_id: int | None  # the buyer
    account_kind: str
    beneficiary_id: int
    source: str
    order_id: int
    line_no: int
    level: int
    amount_fen: int
    state: str
    occurred_at: str


class CommissionPaid(TypedDict):
    """An account was paid its available entries, less the tax withheld."""

    payout_id: int
    account_kind: str
    beneficiary_id: int
    gross_fen: int
    tax_fen: int
    occurred_at: str


class ReferralCompleted(TypedDict):
    """An invitee converted and the inviter's reward was approved (customer_id is the inviter)."""

    programme_id: int
    attribution_id: int
    customer_id: int
    referee_id: int
# ---- group-buys ---------------------------------------------------------------------------------------------


class GroupBuyLine(TypedDict):
    """Units of one SKU in an entry."""

    sku: str
    quantity: int


class GroupBuyEntryChanged(TypedDict):
    """An entry joined a group-buy, was confirmed or cancelled at its cut-off (by its lines' items), or picked up."""

    groupbuy_id: int
    entry_id: int
    number: int
    customer_id: int | None
    order_id: int | None
    lines: list[GroupBuyLine]
    amount_fen: int
class ExperimentExposure(TypedDict):
    """A customer reached a journey's experiment step and got a variant."""

    journey_id: int
    enrolment_id: int
    customer_id: int
    experiment: str
    variant: str
    occurred_at: str


Payload = (CustomerChanged | CustomerMerged | CustomerErased | MembershipChanged | ConsentChanged | TagChanged
           | OrderChanged | MessageState | MessageBatch | PointsChanged | CouponIssued | CouponRedeemed
           | CouponExpired | TierChanged | OwnerChanged | TaskChanged | GroupMembers
           | JourneyChanged | CommissionChanged | CommissionPaid | ReferralCompleted | GroupBuyEntryChanged
           | ExperimentExposure)

PAYLOADS: dict[Topic, type] = {
    Topic.CUSTOMER_CHANGED: CustomerChanged,
    Topic.CUSTOMER_MERGED: CustomerMerged,
    Topic.CUSTOMER_ERASED: CustomerErased,
    Topic.MEMBERSHIP_CHANGED: MembershipChanged,
    Topic.CONSENT_CHANGED: ConsentChanged,
    Topic.TAG_ADDED: TagChanged,
    Topic.TAG_REMOVED: TagChanged,
    Topic.ORDER_CHANGED: OrderChanged,
    Topic.ORDER_PAID: OrderChanged,
    Topic.ORDER_REFUNDED: OrderChanged,
    **{topic: MessageState for topic in Topic if topic.startswith("message.") and topic != "message.batch"},
    Topic.MESSAGE_BATCH: MessageBatch,
    Topic.POINTS_CHANGED: PointsChanged,
    Topic.COUPON_ISSUED: CouponIssued,
    Topic.COUPON_REDEEMED: CouponRedeemed,
    Topic.COUPON_EXPIRED: CouponExpired,
    Topic.TIER_CHANGED: TierChanged,
    Topic.OWNER_CHANGED: OwnerChanged,
    Topic.TASK_CREATED: TaskChanged,
    Topic.TASK_DONE: TaskChanged,
    Topic.GROUP_MEMBERS: GroupMembers,
    Topic.JOURNEY_ENTERED: JourneyChanged,
    Topic.JOURNEY_EXITED: JourneyChanged,
    Topic.JOURNEY_CONVERTED: JourneyChanged,
    Topic.COMMISSION_POSTED: CommissionChanged,
    Topic.COMMISSION_REVERSED: CommissionChanged,
    Topic.COMMISSION_PAID: CommissionPaid,
    Topic.REFERRAL_COMPLETED: ReferralCompleted,
    Topic.GROUPBUY_JOINED: GroupBuyEntryChanged,
    Topic.GROUPBUY_CONFIRMED: GroupBuyEntryChanged,
    Topic.GROUPBUY_CANCELLED: GroupBuyEntryChanged,
    Topic.GROUPBUY_PICKED_UP: GroupBuyEntryChanged,
    Topic.EXPERIMENT_EXPOSURE: ExperimentExposure,
}


def check(topic: Topic, payload: dict) -> None:
    """Refuse a payload missing a key its topic's shape requires (a typo here would reach the warehouse)."""
    missing = PAYLOADS[topic].__required_keys__ - payload.keys()  # type: ignore[attr-defined]
    if missing:
        raise ValueError(f"{topic} payload lacks {sorted(missing)}")
