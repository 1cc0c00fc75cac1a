"""Shapes of the archive and of merges."""

from datetime import datetime

from pydantic import BaseModel, Field

from yutang.channels.schemas import ChannelOut
from yutang.customers.schemas import ConsentOut, CustomerOut, MembershipOut, MergeOut, NoteOut
from yutang.kit.fields import Id
from yutang.lifecycle.schemas import CustomerScoresOut
from yutang.orders.schemas import OrderOut
from yutang.tags.schemas import CustomerTagOut


class OrderSummary(BaseModel):
    """Purchase totals over the customer's orders."""

    orders: int
    paid_orders: int
    paid_fen: int
    refunded_fen: int
    first_paid_at: datetime | None
    last_paid_at: datetime | None


class ArchiveOut(BaseModel):
    """Everything about one customer in one response."""

    customer: CustomerOut
    first_channel: ChannelOut | None
    channels: list[MembershipOut]
    channel_names: dict[int, str]
    tags: list[CustomerTagOut]
    notes: list[NoteOut]
    orders: list[OrderOut]
    order_summary: OrderSummary
    consents: list[ConsentOut]
    consent_in_force: dict[str, str]
    merges: list[MergeOut]
    scores: CustomerScoresOut | None = Field(
        None, description="lifecycle stage, RFM and value as of the last refresh (none before it reached them)")


class MergeIn(BaseModel):
    """Merge `loser_id` into the customer in the path."""

    loser_id: Id
    reason: str = Field(default="manual merge", min_length=1, max_length=200)


class UpsertOut(BaseModel):
    """Result of an upsert: the customer, whether it was new, and who was merged into it."""

    customer: CustomerOut
    outcome: str = Field(description="created, updated or unchanged")
    merged_ids: list[int]
