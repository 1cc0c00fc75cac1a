"""In/Out shapes for group-buys, items, leaders, pick-up points, joins and their reports."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from yutang.groupbuy.core import DepositKind, LineStatus
from yutang.kit.fields import Id, NonNegative, Patch, Text

# An order's total (line units × price, over the items) stays inside the orders' 32-bit money columns.
MAX_FEN = 10**6
MAX_UNITS = 10**7
MAX_ITEMS = 20
MAX_LINE_UNITS = 100
Fen = Annotated[NonNegative, Field(le=MAX_FEN)]
Units = Annotated[Id, Field(le=MAX_UNITS)]
Line = Annotated[Text, Field(min_length=1, max_length=200)]


class Fulfilment(StrEnum):
    """How buyers receive their goods."""

    PICKUP = "pickup"
    DELIVERY = "delivery"
    EXPRESS = "express"


class Status(StrEnum):
    """Where a group-buy stands."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ItemIn(BaseModel):
    """One SKU on offer."""

    sku: Annotated[Text, Field(min_length=1, max_length=128)]
    name: Line
    price_fen: Annotated[Fen, Field(ge=1)]
    deposit_fen: Fen = Field(default=0, description="per unit; a 定金 is at most 20% of the price")
    cost_fen: Fen = 0
    per_person_limit: Units | None = None
    cap: Units | None = Field(default=None, description="total units on offer")
    minimum: Annotated[NonNegative, Field(le=MAX_UNITS)] = Field(default=0, description="units needed to go ahead")
    fresh: bool = True


class GroupBuyIn(BaseModel):
    """A new group-buy (a draft until published)."""

    title: Line
    description: Annotated[Text, Field(max_length=2000)] | None = None
    deposit_kind: DepositKind = DepositKind.NONE
    fulfilment: Fulfilment = Fulfilment.PICKUP
    starts_at: AwareDatetime
    cutoff_at: AwareDatetime
    production_date: date
    notice_channel_id: Id | None = Field(default=None, description="a messaging channel that tells each buyer the "
                                         "cut-off's result (a service message)")
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _order(self):
        if self.cutoff_at <= self.starts_at:
            raise ValueError("the cut-off comes after the start")
        if len({item.sku for item in self.items}) != len(self.items):
            raise ValueError("each SKU appears once")
        return self


class GroupBuyPatch(Patch):
    """Changes to a group-buy; prices and deposits only while it is a draft."""

    title: Line = Field(None)
    description: Annotated[Text, Field(max_length=2000)] | None = None
    cutoff_at: AwareDatetime = Field(None)
    production_date: date = Field(None)
    notice_channel_id: Id | None = None
    items: list[ItemIn] = Field(None, min_length=1, max_length=MAX_ITEMS)


class ItemOut(BaseModel):
    """An item with what was taken and the cut-off's decision."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    price_fen: int
    deposit_fen: int
    cost_fen: int
    per_person_limit: int | None
    cap: int | None
    minimum: int
    fresh: bool
    taken: int
    decision: str | None


class GroupBuyOut(BaseModel):
    """A group-buy with its items."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str | None
    status: Status
    deposit_kind: DepositKind
    fulfilment: Fulfilment
    starts_at: datetime
    cutoff_at: datetime
    production_date: date
    published_at: datetime | None
    closed_at: datetime | None
    last_number: int
    notice_channel_id: int | None = None
    notified_at: datetime | None = None
    items: list[ItemOut] = []


class JoinLineIn(BaseModel):
    """Units of one item."""

    item_id: Id
    quantity: Annotated[Id, Field(le=MAX_LINE_UNITS)]


class JoinIn(BaseModel):
    """A join (跟团), as a mini program sends it; the request key makes a retry harmless."""

    request_key: Annotated[Text, Field(min_length=1, max_length=128)]
    customer_id: Id
    lines: list[JoinLineIn] = Field(min_length=1, max_length=MAX_ITEMS)
    point_id: Id | None = None
    remark: Annotated[Text, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _distinct(self):
        if len({line.item_id for line in self.lines}) != len(self.lines):
            raise ValueError("each item appears once")
        return self


class EntryLineOut(BaseModel):
    """A line of an entry and its money."""

    model_config = ConfigDict(from_attributes=True)

    item_id: int
    quantity: int
    status: LineStatus
    paid_fen: int
    balance_due_fen: int
    refunded_fen: int
    kept_fen: int


class EntryOut(BaseModel):
    """An entry as its buyer and the shop see it (the code only for them)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: int
    customer_id: int | None
    shown_name: str
    point_id: int | None
    remark: str | None
    code: str
    order_id: int | None
    picked_up_at: datetime | None
    created_at: datetime
    lines: list[EntryLineOut] = []


class PublicEntryOut(BaseModel):
    """A row of the public list: number, masked name and quantities."""

    number: int
    shown_name: str
    quantities: dict[str, int]


class CutoffOut(BaseModel):
    """What a cut-off decided and moved."""

    groupbuy_id: int
    items: dict[str, str] = Field(description="SKU → ahead / cancelled")
    confirmed_lines: int
    cancelled_lines: int
    refund_fen: int
    balance_due_fen: int


class PlanRow(BaseModel):
    """Units to produce of one SKU on one date."""

    production_date: date
    sku: str
    name: str
    quantity: int


class PickRow(BaseModel):
    """Units of one SKU to set out at one pick-up point."""

    point_id: int | None
    point: str | None
    sku: str
    name: str
    quantity: int
    entries: int


class VerifyIn(BaseModel):
    """A pick-up code read at the point."""

    code: Annotated[Text, Field(min_length=1, max_length=16)]


class RefundIn(BaseModel):
    """An after-sales refund of one line; fresh goods are refunded without return."""

    entry_id: Id
    item_id: Id
    refund_fen: Annotated[Fen, Field(ge=1)]
    returned: bool = False


class EndingIn(BaseModel):
    """A line that will not be picked up: a no-show, or the shop's own default."""

    entry_id: Id
    item_id: Id
    ending: Annotated[str, Field(pattern="^(buyer_walked_away|seller_defaulted)$")]


class LeaderIn(BaseModel):
    """A community leader (团长)."""

    name: Line
    commission_bp: Annotated[NonNegative, Field(le=5000)] = Field(default=0, description="basis points, ≤ 50%")
    member_id: Id | None = None


class LeaderOut(BaseModel):
    """A leader."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    commission_bp: int
    member_id: int | None
    active: bool


class PointIn(BaseModel):
    """A pick-up point at a store or a leader's."""

    name: Line
    address: Annotated[Text, Field(max_length=500)] | None = None
    store_id: Id | None = None
    leader_id: Id | None = None


class PointOut(BaseModel):
    """A pick-up point."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    address: str | None
    store_id: int | None
    leader_id: int | None
    active: bool


class AfterSaleOut(BaseModel):
    """A line's honest figures after a refund."""

    revenue_fen: int
    cost_fen: int
    profit_fen: int


class RoundOut(BaseModel):
    """A past round: forecast, actual and their difference (actual − forecast)."""

    production_date: date
    forecast: int
    actual: int
    error: int


class ForecastOut(BaseModel):
    """The suggested quantity of one SKU for its next production date, and how recent forecasts fared."""

    sku: str
    production_date: date
    suggested: int
    rounds: list[RoundOut]
    mean_absolute_percentage: float | None
