"""Shapes of the archive and of merges."""

from datetime import datetime

from pydantic import BaseModel, Field

from yutang.channels.schemas import ChannelOut
from yutang.customers.schemas import ConsentOut, CustomerOut, MembershipOut, MergeOut, NoteOut
from yutang.groups.schemas import CustomerGroupOut
from yutang.kit.fields import Id
from yutang.lifecycle.schemas import CustomerScoresOut
from yutang.orders.schemas import OrderOut
from yutang.stores.schemas import OwnerOut
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
    owner: OwnerOut = Field(description="the owning guide, their store, protection and the ownership history")
    groups: list[CustomerGroupOut] = Field(default_factory=list, description="the customer groups they are or were in")
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


class ListRowOut(BaseModel):
    """One customer of the sorted list, with what the console's columns show."""

    customer: CustomerOut
    first_channel: str | None
    tags: list[str]
    spend_fen: int = Field(description="paid less refunded over purchases, in fen")
    last_paid_at: datetime | None
    lifecycle_stage: str | None
    tier: str | None


class ListPageOut(BaseModel):
    """A numbered page of the customer list, with the total the search matches."""

    items: list[ListRowOut]
    total: int
    page: int
    pages: int
    per_page: int
