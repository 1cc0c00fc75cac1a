"""In/Out shapes for the points ledger, earn rules, tiers, coupons and point tasks."""

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from yutang.loyalty.ledger import SYSTEM_KEY_PREFIX


def _client_key(key: str) -> str:
    if key.startswith(SYSTEM_KEY_PREFIX):
        raise ValueError(f"keys starting with {SYSTEM_KEY_PREFIX!r} are reserved for Yutang's own entries")
    return key


KEY = Field(min_length=1, max_length=200, description="idempotency key: the same key twice changes nothing; "
                                                      f"keys starting with {SYSTEM_KEY_PREFIX!r} are reserved")
ClientKey = Annotated[str, KEY, AfterValidator(_client_key)]
POINTS = Field(gt=0, le=1_000_000_000)


class SettingsIn(BaseModel):
    """A workspace's loyalty programme settings."""

    expiry_policy: str = Field("rolling", pattern="^(rolling|fixed|never)$")
    expiry_months: int = Field(12, ge=1, le=120)
    expiry_month_day: str | None = Field(None, description="MM-DD the fixed policy expires on, the year after")
    allow_negative: bool = False
    fen_per_100_points: int = Field(100, ge=0, le=1_000_000)
    tier_basis: str = Field("earned", pattern="^(earned|spend)$")
    tier_window_months: int = Field(12, ge=1, le=60)
    tier_grace_days: int = Field(30, ge=0, le=365)

    @field_validator("expiry_month_day")
    @classmethod
    def _month_day(cls, value: str | None) -> str | None:
        if value is not None:
            match = re.fullmatch(r"(\d\d)-(\d\d)", value)
            if not match or not (1 <= int(match[1]) <= 12 and 1 <= int(match[2]) <= 31):
                raise ValueError("expected MM-DD, e.g. 12-31")
        return value

    @model_validator(mode="after")
    def _fixed_needs_day(self):
        if self.expiry_policy == "fixed" and not self.expiry_month_day:
            raise ValueError("the fixed expiry policy needs expiry_month_day")
        return self


class SettingsOut(SettingsIn):
    """Stored settings."""

    model_config = ConfigDict(from_attributes=True)


class EntryKind(StrEnum):
    """Kinds of ledger entries."""

    EARN = "earn"
    REDEEM = "redeem"
    EXPIRE = "expire"
    REVERSE = "reverse"
    ADJUST = "adjust"
    MERGE = "merge"


class EarnIn(BaseModel):
    """Award points (a one-off bonus or an integrator's own rule)."""

    customer_id: int = Field(ge=1)
    points: int = POINTS
    idempotency_key: ClientKey
    reason: str = Field("", max_length=300)
    source_type: str | None = Field(None, max_length=32)
    source_ref: str | None = Field(None, max_length=128)


class RedeemIn(BaseModel):
    """Spend points, first-expiring first."""

    customer_id: int = Field(ge=1)
    points: int = POINTS
    idempotency_key: ClientKey
    reason: str = Field("", max_length=300)
    source_ref: str | None = Field(None, max_length=128)


class ReverseIn(BaseModel):
    """Take back (part of) an earn entry, even if its points were spent."""

    entry_id: int = Field(ge=1)
    points: int | None = Field(None, gt=0, description="default: what is left of the earn to reverse")
    idempotency_key: ClientKey
    reason: str = Field("", max_length=300)


class AdjustIn(BaseModel):
    """An operator's correction, positive or negative."""

    customer_id: int = Field(ge=1)
    points: int = Field(ge=-1_000_000_000, le=1_000_000_000)
    idempotency_key: ClientKey
    reason: str = Field(min_length=1, max_length=300)

    @field_validator("points")
    @classmethod
    def _non_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("an adjustment changes the balance")
        return value


class EntryOut(BaseModel):
    """One ledger entry."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    kind: str
    points: int
    balance_after: int
    shortfall: int
    idempotency_key: str
    reason: str
    source_type: str | None
    source_ref: str | None
    reverses_id: int | None
    occurred_at: datetime
    created_at: datetime
    detail: dict


class LotOut(BaseModel):
    """A lot of earned points."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    entry_id: int
    points: int
    remaining: int
    expires_at: datetime | None


class BalanceOut(BaseModel):
    """A customer's points: balance, lots with points left, the next expiry and any recorded shortfall."""

    customer_id: int
    balance: int
    earned_total: int
    shortfall: int
    lots: list[LotOut]
    next_expiry: datetime | None
    next_expiry_points: int


class LiabilityRow(BaseModel):
    """Outstanding points expiring in one month (workspace time), valued at the configured rate."""

    month: str | None
    points: int
    value_fen: int


class LiabilityOut(BaseModel):
    """The points liability report."""

    rows: list[LiabilityRow]
    total_points: int
    total_value_fen: int
    fen_per_100_points: int


class RuleKind(StrEnum):
    """Kinds of earn rules."""

    ORDER = "order"
    EVENT = "event"


class EarnRuleIn(BaseModel):
    """An earn rule: points per yuan of paid orders, or points per event with daily / total caps."""

    name: str = Field(min_length=1, max_length=200)
    kind: RuleKind
    active: bool = True
    points_per_yuan: int = Field(0, ge=0, le=10_000)
    excluded_categories: list[str] = Field(default_factory=list)
    event_name: str | None = Field(None, max_length=200)
    points: int = Field(0, ge=0, le=1_000_000)
    daily_cap: int | None = Field(None, ge=1, description="most points a customer earns from this rule per day")
    total_cap: int | None = Field(None, ge=1, description="most points a customer ever earns from this rule")

    @model_validator(mode="after")
    def _complete(self):
        if self.kind is RuleKind.ORDER and self.points_per_yuan <= 0:
            raise ValueError("an order rule needs points_per_yuan")
        if self.kind is RuleKind.EVENT and (not self.event_name or self.points <= 0):
            raise ValueError("an event rule needs event_name and points")
        return self


class EarnRuleOut(EarnRuleIn):
    """A stored earn rule."""

    model_config = ConfigDict(from_attributes=True)
    id: int


class Benefit(StrEnum):
    """Services a tier grants besides its multiplier and tier-only coupons."""

    EXCLUSIVE_SERVICE = "exclusive_service"
    FREE_RETURNS = "free_returns"
    NEW_PRODUCT_TRIALS = "new_product_trials"
    FREE_SHIPPING = "free_shipping"
    BIRTHDAY_GIFT = "birthday_gift"


class TierIn(BaseModel):
    """A member level: reached at `threshold` (points earned or spend in fen, per the settings' basis)."""

    name: str = Field(min_length=1, max_length=100)
    rank: int = Field(ge=1, le=100)
    threshold: int = Field(ge=0)
    multiplier_pct: int = Field(100, ge=100, le=1000, description="points multiplier in percent (150 = 1.5x)")
    benefits: list[Benefit] = Field(default_factory=list)


class TierOut(TierIn):
    """A stored tier."""

    model_config = ConfigDict(from_attributes=True)
    id: int


class TierChangeOut(BaseModel):
    """One step of a customer's tier history."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    from_tier_id: int | None
    to_tier_id: int | None
    qualifying: int
    reason: str
    created_at: datetime


class CustomerTierOut(BaseModel):
    """A customer's tier, its benefits, what qualifies them and their history."""

    customer_id: int
    tier: TierOut | None
    since: datetime | None
    review_at: datetime | None
    qualifying: int
    history: list[TierChangeOut]


class CouponKind(StrEnum):
    """Kinds of coupon."""

    FIXED = "fixed"
    PERCENT = "percent"
    THRESHOLD = "threshold"
    FREE_SHIPPING = "free_shipping"
    GIFT = "gift"


class CouponTemplateIn(BaseModel):
    """A coupon template."""

    name: str = Field(min_length=1, max_length=200)
    kind: CouponKind
    value_fen: int = Field(0, ge=0)
    percent_off: int = Field(0, ge=0, le=100)
    cap_fen: int | None = Field(None, ge=1)
    threshold_fen: int = Field(0, ge=0)
    gift_sku: str | None = Field(None, max_length=128)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = Field(None, ge=1, le=3650)
    total_stock: int | None = Field(None, ge=0)
    per_customer_limit: int = Field(1, ge=1, le=1000)
    channels: list[str] = Field(default_factory=list, description="channel codes; empty: every channel")
    tier_ids: list[int] = Field(default_factory=list, description="tier-only coupon: tiers allowed; empty: all")
    active: bool = True

    @model_validator(mode="after")
    def _complete(self):
        if self.kind in (CouponKind.FIXED, CouponKind.THRESHOLD) and self.value_fen <= 0:
            raise ValueError(f"a {self.kind.value} coupon needs value_fen")
        if self.kind is CouponKind.THRESHOLD and self.threshold_fen <= self.value_fen:
            raise ValueError("a threshold (满减) coupon needs threshold_fen above value_fen")
        if self.kind is CouponKind.PERCENT and not 0 < self.percent_off < 100:
            raise ValueError("a percent coupon needs percent_off between 1 and 99")
        if self.kind is CouponKind.GIFT and not self.gift_sku:
            raise ValueError("a gift coupon needs gift_sku")
        if self.valid_until is None and self.valid_days is None:
            raise ValueError("give valid_until (fixed dates) or valid_days (from issue)")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class CouponTemplateOut(CouponTemplateIn):
    """A stored template."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    issued_count: int


class TemplateStats(BaseModel):
    """Per-template statistics."""

    template_id: int
    issued: int
    redeemed: int
    expired: int
    redemption_rate: float
    gmv_fen: int
    discount_fen: int


class IssueIn(BaseModel):
    """Issue a coupon to one customer."""

    customer_id: int = Field(ge=1)
    idempotency_key: ClientKey
    reason: str = Field("", max_length=300)


class BulkIssueIn(BaseModel):
    """Issue a coupon to many customers: a list of ids, everyone carrying a tag, or a segment's members (one key
    per batch)."""

    customer_ids: list[int] = Field(default_factory=list, max_length=100_000)
    tag_id: int | None = Field(None, ge=1)
    segment_id: int | None = Field(None, ge=1, le=2**63 - 1)
    idempotency_key: ClientKey
    reason: str = Field("", max_length=300)

    @model_validator(mode="after")
    def _one_audience(self):
        if [bool(self.customer_ids), self.tag_id is not None, self.segment_id is not None].count(True) != 1:
            raise ValueError("give one of customer_ids, tag_id or segment_id")
        return self


class BulkIssueOut(BaseModel):
    """What a bulk issue did."""

    issued: int
    already: int
    skipped: dict[str, int]


class CouponOut(BaseModel):
    """An issued coupon."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    template_id: int
    customer_id: int
    code: str
    status: str
    valid_from: datetime
    expires_at: datetime | None
    redeemed_at: datetime | None
    order_ref: str | None
    order_amount_fen: int | None
    discount_fen: int | None


class CouponRedeemIn(BaseModel):
    """Redeem a coupon against an order."""

    order_ref: str = Field(min_length=1, max_length=128, description="the order's id in the selling channel")
    order_amount_fen: int = Field(ge=0)
    shipping_fen: int = Field(0, ge=0)
    channel: str | None = Field(None, max_length=64)


class PointTaskIn(BaseModel):
    """A point task customers prove with an image."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    points: int = POINTS
    per_customer_limit: int = Field(1, ge=1, le=1000)
    active: bool = True


class PointTaskOut(PointTaskIn):
    """A stored task."""

    model_config = ConfigDict(from_attributes=True)
    id: int


class SubmissionOut(BaseModel):
    """A submission in the review queue."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    task_id: int
    customer_id: int
    note: str
    image_hash: str | None
    duplicate_of_id: int | None
    status: str
    reason: str | None
    reviewed_at: datetime | None
    created_at: datetime


class ReviewIn(BaseModel):
    """An operator's decision on a submission."""

    approve: bool
    reason: str | None = Field(None, max_length=300)

    @model_validator(mode="after")
    def _reason_for_rejection(self):
        if not self.approve and not (self.reason or "").strip():
            raise ValueError("a rejection needs a reason")
        return self
