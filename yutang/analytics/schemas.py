"""In/Out shapes of the analytics reports."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from yutang.kit.fields import Id, Int64, Patch, Text


class Figure(BaseModel):
    """A count or an amount in the range and in the period before it."""

    current: int
    previous: int


class Rate(BaseModel):
    """A ratio or a duration in the range and in the period before it (null: nothing to divide)."""

    current: float | None
    previous: float | None


class Sales(BaseModel):
    """Purchases paid in the range: orders, GMV (paid less refunded, in fen), buyers, average order value."""

    orders: Figure
    gmv_fen: Figure
    buyers: Figure
    aov_fen: Figure


class ChannelSales(Sales):
    """Sales through one channel."""

    channel_id: int
    name: str
    domain: str


class DomainSales(Sales):
    """Sales through the channels of one traffic domain (private, public marketplaces, commercial)."""

    domain: str


class ChannelCustomers(BaseModel):
    """New customers whose first touch was a channel (null: no first channel recorded)."""

    channel_id: int | None
    name: str | None
    domain: str | None
    customers: Figure


class DayCount(BaseModel):
    """Customers active on one local day."""

    day: date
    customers: int


class TierMembers(BaseModel):
    """Members in one tier at the end of the range and of the period before."""

    tier_id: int
    name: str | None
    members: Figure


class Messages(BaseModel):
    """Messages sent, read and clicked in the range (each counted once per state)."""

    sent: Figure
    read: Figure
    clicked: Figure


class Inbox(BaseModel):
    """Threads waiting for an answer at the end of the range; waits begun in it that were answered, and the median
    seconds to the first answer."""

    waiting: Figure
    answered: Figure
    first_response_median_seconds: Rate


class DashboardOut(BaseModel):
    """The home dashboard (数据概览): every figure for the range and the period of equal length before it."""

    period: str
    first_day: date
    last_day: date
    previous_first_day: date
    previous_last_day: date
    timezone: str
    computed_at: datetime
    pool: Figure = Field(description="active customers first seen before the end")
    new_customers: Figure
    new_by_channel: list[ChannelCustomers]
    active: Figure = Field(description="customers with a tracked event, page or screen in the range")
    dau: int = Field(description="active on the last day of the range")
    wau: int = Field(description="active in the range's last 7 days")
    mau: int = Field(description="active in the range's last 30 days")
    active_daily: list[DayCount]
    sales: Sales
    sales_by_channel: list[ChannelSales]
    sales_by_domain: list[DomainSales]
    repeat_buyers: Figure = Field(description="buyers who bought on two or more local days in the range")
    repurchase_rate: Rate = Field(description="repeat buyers ÷ buyers (several orders on one day count once)")
    members: Figure
    members_by_tier: list[TierMembers]
    points_liability: Figure = Field(description="points held by active customers at the end")
    points_holders: Figure
    messages: Messages
    inbox: Inbox


class Metric(BaseModel):
    """Which customers a figure stands for: the metric, its range, and an optional channel or tier."""

    metric: Text = Field(description="pool, new_customers, active, buyers, repeat_buyers, members, points_holders, "
                                    "message_recipients, message_readers, message_clickers, waiting")
    period: Text = "7d"
    start: date | None = None
    end: date | None = None
    channel_id: Id | None = None
    tier_id: Id | None = None


class DrillCustomer(BaseModel):
    """One customer behind a figure."""

    customer_id: int
    first_seen_at: datetime | None
    first_channel_id: int | None
    province: str | None
    city: str | None


class DrillOut(BaseModel):
    """The customers behind a figure, by id, keyset-paged."""

    metric: str
    first_day: date
    last_day: date
    total: int
    items: list[DrillCustomer]
    next_cursor: str | None


class SegmentFromIn(Metric):
    """A static segment holding the customers behind a figure (or who dropped at a funnel step)."""

    name: Text = Field(min_length=1, max_length=100)


class SegmentFromOut(BaseModel):
    """The static segment created."""

    segment_id: int
    name: str
    customers: int


PropertyValue = bool | Int64 | float | Text


class FunnelStep(BaseModel):
    """One step: an event by name (a paid order is `Order Paid`, entering a segment `Segment Entered`) whose
    properties equal the values given."""

    event: Text = Field(min_length=1, max_length=200)
    properties: dict[Text, PropertyValue] = Field(default_factory=dict, max_length=10)


class FunnelIn(BaseModel):
    """A funnel: customers enter at their first step-1 event in the range and convert through the steps within the
    window from that entry; strict order allows no other event of theirs between two steps."""

    steps: list[FunnelStep] = Field(min_length=2, max_length=10)
    window_days: int = Field(default=7, ge=1, le=90)
    order: Literal["loose", "strict"] = "loose"
    breakdown: Text | None = Field(default=None, max_length=100,
                                  description="channel (first channel), or property:<name> of the step-1 event")
    period: Text = "7d"
    start: date | None = None
    end: date | None = None


class StepOut(BaseModel):
    """How many customers reached a step, the conversion to it, who dropped before it, and the median time from the
    step before."""

    step: int
    event: str
    customers: int
    conversion_from_previous: float | None
    conversion_from_first: float | None
    dropped: int = Field(description="reached the step before but not this one")
    median_seconds_from_previous: float | None


class BreakdownOut(BaseModel):
    """The steps' counts for one value of the breakdown (null: no value)."""

    value: str | None
    name: str | None
    customers: list[int]


class FunnelOut(BaseModel):
    """A funnel's counts, conversions and times per step, and per breakdown value."""

    first_day: date
    last_day: date
    window_days: int
    order: str
    steps: list[StepOut]
    breakdown: list[BreakdownOut]


class FunnelCustomersIn(FunnelIn):
    """The customers who reached a step (`reached`) or reached the step before but not this one (`dropped`)."""

    step: int = Field(ge=1, le=10)
    outcome: Literal["reached", "dropped"] = "dropped"


class FunnelSegmentIn(FunnelCustomersIn):
    """A static segment of a funnel step's customers (一键创建分群)."""

    name: Text = Field(min_length=1, max_length=100)


class RetentionIn(BaseModel):
    """Cohorts of customers by their first event (any, or one named) or first purchase in the range, and whether
    they came back (any event, one named, or a purchase) in each later day, week or month."""

    cohort: Literal["first_event", "first_purchase"] = "first_event"
    cohort_event: Text | None = Field(default=None, max_length=200, description="first_event: this event only")
    returning: Literal["any_event", "event", "purchase"] = "any_event"
    return_event: Text | None = Field(default=None, max_length=200, description="returning=event: its name")
    unit: Literal["day", "week", "month"] = "week"
    periods: int = Field(default=8, ge=1, le=52, description="later periods shown")
    period: Text = "30d"
    start: date | None = None
    end: date | None = None


class CohortRow(BaseModel):
    """One cohort: its first local day, its size, and how many came back in each later period (1, 2, …)."""

    cohort: date
    customers: int
    returned: list[int]
    rates: list[float | None]


class RetentionOut(BaseModel):
    """A retention grid; `overall` weighs each period by the cohorts that have reached it."""

    unit: str
    first_day: date
    last_day: date
    cohorts: list[CohortRow]
    overall: list[float | None]


class RepurchaseIn(BaseModel):
    """Buyers whose first purchase falls in the range, and whether they bought again on a later day within N
    days."""

    days: int = Field(default=30, ge=1, le=730)
    period: Text = "30d"
    start: date | None = None
    end: date | None = None


class GapBucket(BaseModel):
    """Buyers whose second purchase day came within [min_days, max_days] of the first (max null: or later)."""

    min_days: int
    max_days: int | None
    buyers: int


class RepurchaseOut(BaseModel):
    """New buyers, the share who bought again within N days, and the days from first to second purchase."""

    first_day: date
    last_day: date
    days: int
    buyers: int
    repurchased: int
    rate: float | None
    second_purchase_buyers: int = Field(description="new buyers with a second purchase day by now, in any time")
    median_days_to_second: float | None
    days_to_second: list[GapBucket]


class ChannelAcquisition(BaseModel):
    """One channel's spend in the range against the customers it acquired then and what they have paid since."""

    channel_id: int | None
    name: str | None
    domain: str | None
    cost_fen: int = Field(description="cost entries overlapping the range, prorated by the days they share with it")
    new_customers: int
    cac_fen: int | None = Field(description="cost ÷ new customers (null: no customers, or no cost recorded)")
    revenue_fen: int = Field(description="what the acquired customers have paid since (less refunds), to now")
    roi: float | None = Field(description="(revenue - cost) ÷ cost")
    payback_month: int | None = Field(description="months after acquisition (0: the same month) until the "
                                                   "cohort's cumulative revenue reached its cost; null: not yet")
    ltv_fen: int | None = Field(description="realised revenue per customer plus their mean predicted value")
    ltv_to_cac: float | None
    note: Literal["ok", "cost_without_customers", "customers_without_cost"]


class AcquisitionOut(BaseModel):
    """CAC, ROI, payback and LTV : CAC per channel for the customers first seen in the range."""

    first_day: date
    last_day: date
    channels: list[ChannelAcquisition]


class HoldoutGroup(BaseModel):
    """One side of the holdout comparison over the range."""

    customers: int
    buyers: int
    revenue_fen: int
    revenue_per_customer_fen: float | None


class HoldoutOut(BaseModel):
    """Marketing's incremental revenue against the global holdout over a range."""

    first_day: date
    last_day: date
    holdout_bp: int = Field(description="the holdout's share in force (basis points); 0: no holdout")
    marketed: HoldoutGroup
    held_out: HoldoutGroup
    incremental_revenue_fen: int | None = Field(description="(revenue per marketed customer - per held-out "
                                                "customer) x marketed customers")
    lift: float | None = Field(description="revenue per marketed customer over per held-out customer, less 1")
    p_value: float | None = Field(description="Welch's t-test on revenue per customer, two-sided")
    readable: bool = Field(description="enough held-out customers (100) for the comparison to mean something")


class PondHealthIn(BaseModel):
    """Pond health over the last complete local weeks: harm within N days after the week a customer was touched."""

    weeks: int = Field(default=8, ge=1, le=26, description="complete local weeks (Monday first), newest last")
    days_after: int = Field(default=7, ge=1, le=30, description="harm counted during the week and N days after")
    threshold_pp: float = Field(default=2.0, ge=0, le=100,
                                description="excess harm (percentage points) a suggested cap allows")


class Harm(BaseModel):
    """A group of customer-weeks and the harm seen in it, against matched untouched customer-weeks."""

    customers: int = Field(description="customer-weeks in the group")
    left: int = Field(description="unfollowed or deleted the staff member (left a channel)")
    withdrew: int = Field(description="withdrew a consent")
    quiet: int = Field(description="active in the 30 days before the week, no activity in it or N days after")
    harmed: int = Field(description="any of the three")
    rate: float | None
    matched_rate: float | None = Field(description="the untouched customers' rate, weighted to this group's mix of "
                                                   "week, recent activity and purchase history")
    excess: float | None = Field(description="rate - matched_rate")
    unmatched: int = Field(default=0, description="customer-weeks in strata without untouched customers (left out)")


class TouchKindHealth(Harm):
    """Harm after one kind of touch: a channel, a purpose, and broadcast or single send."""

    channel_config_id: int | None
    channel_name: str | None
    channel_kind: str | None
    purpose: str
    origin: Literal["broadcast", "single"]


class FatiguePoint(Harm):
    """Customers with this many marketing messages in a week (5 means five or more)."""

    touches: int


class CapInForce(BaseModel):
    """A contact-pressure cap in force, as marketing messages per 7 days."""

    name: str
    limit: int
    window_days: int
    channel_kind: str | None
    per_week: float


class PondHealthOut(BaseModel):
    """Harm after each kind of touch and by touches per week, and the weekly cap the curve suggests."""

    first_day: date
    last_day: date
    days_after: int
    untouched: Harm
    kinds: list[TouchKindHealth]
    fatigue: list[FatiguePoint]
    suggested_weekly_cap: int | None = Field(description="the most marketing messages a week whose excess harm stays "
                                                         "within threshold_pp (null: not enough customers to say)")
    evidence_up_to: int = Field(description="the highest touches-per-week with enough customers (30) to judge")
    threshold_pp: float
    caps_in_force: list[CapInForce]


ReportKind = Literal["funnel", "retention", "repurchase", "acquisition", "pond_health"]


class SavedReportIn(BaseModel):
    """A report saved under a name with its settings (the kind's own input: a funnel's steps, a grid's cohorts …)."""

    name: Text = Field(min_length=1, max_length=100)
    kind: ReportKind
    params: dict = Field(default_factory=dict, description="the kind's input, as its report endpoint takes it")
    pinned: bool = False


class SavedReportPatch(Patch):
    """Rename, pin to or unpin from the overview."""

    name: Text = Field(None, min_length=1, max_length=100)
    pinned: bool = Field(None)


class SavedReportOut(BaseModel):
    """A saved report."""

    id: int
    name: str
    kind: str
    params: dict
    pinned: bool
    created_at: datetime


class Headline(BaseModel):
    """A pinned report's headline figure, computed now: a rate (0–1), a count or an amount in fen."""

    report: SavedReportOut
    figure: float | int | None
    unit: Literal["rate", "count", "fen"]
    label: str = Field(description="what the figure is, as a code: conversion, first_period_rate, repurchase_rate, "
                                   "cac_fen, suggested_weekly_cap")
class CrossSellIn(BaseModel):
    """Association rules A → B between two categories or SKUs bought in one basket: an order, or a customer's
    purchases in the range."""

    level: Literal["category", "sku"] = "category"
    basket: Literal["order", "customer"] = "order"
    min_support: float = Field(default=0.01, ge=0, le=1, description="share of baskets holding both A and B")
    min_confidence: float = Field(default=0.0, ge=0, le=1, description="share of baskets with A that hold B")
    min_lift: float = Field(default=1.0, ge=0, le=1_000_000, description="confidence ÷ share of baskets with B")
    top: int = Field(default=50, ge=1, le=1000, description="the rules kept, highest lift first")
    period: Text = "30d"
    start: date | None = None
    end: date | None = None


class RuleOut(BaseModel):
    """One rule A → B: baskets holding both, A, B; support, confidence and lift."""

    antecedent: str
    consequent: str
    baskets: int
    antecedent_baskets: int
    consequent_baskets: int
    support: float
    confidence: float
    lift: float


class CrossSellOut(BaseModel):
    """The rules meeting the thresholds, highest lift first, and the baskets they were drawn from."""

    first_day: date
    last_day: date
    level: str
    basket: str
    baskets: int
    rules: list[RuleOut]


class CrossSellSegmentIn(BaseModel):
    """A static segment of the customers who bought A in the range and have never bought B (买了 A、还没买 B)."""

    level: Literal["category", "sku"] = "category"
    antecedent: Text = Field(min_length=1, max_length=128)
    consequent: Text = Field(min_length=1, max_length=128)
    name: Text = Field(min_length=1, max_length=100)
    period: Text = "30d"
    start: date | None = None
    end: date | None = None


class CategoryFitIn(BaseModel):
    """The range, and split points to use instead of the medians across categories."""

    frequency_split_days: float | None = Field(default=None, gt=0, le=3650, description="at most this many median "
                                               "days between purchases is high frequency")
    interaction_split: float | None = Field(default=None, ge=0, le=1_000_000, description="at least this many "
                                            "interactions per buyer is high interaction")
    period: Text = "30d"
    start: date | None = None
    end: date | None = None


class CategoryFit(BaseModel):
    """One category's purchase frequency and interaction, and its quadrant."""

    category: str
    buyers: int
    repeat_buyers: int = Field(description="buyers with two or more purchase days of the category in the range")
    median_days_between: float | None = Field(description="median days between a repeat buyer's consecutive "
                                                          "purchase days of the category (null: no repeat buyer)")
    messages: int = Field(description="messages the buyers wrote to the brand in the range")
    replies: int = Field(description="staff replies to the buyers in the range")
    events: int = Field(description="events the buyers were tracked doing in the range")
    interaction_per_buyer: float
    high_frequency: bool
    high_interaction: bool
    quadrant: Literal["community", "repurchase_reminders", "content_seeding", "lead_nurturing"] = Field(
        description="community (社群运营), repurchase_reminders (复购提醒), content_seeding (内容/KOC 种草), "
                    "lead_nurturing (线索培育)")


class CategoryFitOut(BaseModel):
    """Every category bought in the range placed in seed 000's quadrant of frequency × interaction."""

    first_day: date
    last_day: date
    split: Literal["median", "set"]
    frequency_split_days: float | None
    interaction_split: float | None
    categories: list[CategoryFit]


class RetentionCell(RetentionIn):
    """A retention grid's cohort (k = 0) or those of it who came back in its k-th later period."""

    report: Literal["retention"]
    cohort_start: date = Field(description="the cohort's first day (a Monday for weeks, the 1st for months)")
    k: int = Field(ge=0, le=52, description="0: the cohort; n: who came back in its n-th later period")


class HealthCell(PondHealthIn):
    """A point of the pond-health fatigue curve: customers with this many marketing messages in a week."""

    report: Literal["pond_health"]
    touches: int = Field(ge=0, le=5, description="marketing messages in the week (5: five or more)")
    harm: Literal["harmed", "left", "withdrew", "quiet", "all"] = Field(
        default="harmed", description="which of them: harmed (any harm), left, withdrew, quiet, or all")


class CategoryCell(CategoryFitIn):
    """A category's buyers in the range, or those who bought it on two days or more."""

    report: Literal["category_fit"]
    category: Text = Field(min_length=1, max_length=128)
    outcome: Literal["buyers", "repeat_buyers"] = "buyers"


Cell = Annotated[RetentionCell | HealthCell | CategoryCell, Field(discriminator="report")]


class CellSegmentIn(BaseModel):
    """A static segment of the customers behind a report's cell (一键创建分群)."""

    cell: Cell
    name: Text = Field(min_length=1, max_length=100)
