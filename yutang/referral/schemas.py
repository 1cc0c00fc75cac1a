"""Referral and distribution input and output shapes."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from yutang.kit.fields import Bool, Id, Int64, NonNegative, Text

Days = Annotated[int, Field(ge=0, le=3650)]


class ProgrammeKind(StrEnum):
    """老带新, 任务宝, 群裂变, or 分销."""

    REFERRAL = "referral"
    TASK = "task"
    GROUP = "group"
    DISTRIBUTION = "distribution"


class RewardIn(BaseModel):
    """The inviter's reward for one invitee's conversion."""

    model_config = ConfigDict(extra="forbid")

    trigger: Annotated[Text, Field(max_length=32)] = "first_order"
    days: Days = 7
    min_order_fen: NonNegative = 0
    points: NonNegative = 0
    coupon_template_id: Id | None = None


class TierIn(BaseModel):
    """A reward once an inviter has this many valid invitees."""

    model_config = ConfigDict(extra="forbid")

    count: Int64
    points: NonNegative = 0
    coupon_template_id: Id | None = None


class ConfigIn(BaseModel):
    """A programme's rules. The recruiting and entry fields exist only to be refused by name."""

    model_config = ConfigDict(extra="forbid")

    window_days: Days = 7
    hold_days: Days = 7
    reward: RewardIn = RewardIn()
    tiers: Annotated[list[TierIn], Field(max_length=10)] = []
    commission_depth: Int64 = 0
    rates_bp: Annotated[list[Int64], Field(max_length=5)] = []
    rates_by_sku: Annotated[dict[Annotated[Text, Field(max_length=128)], NonNegative], Field(max_length=500)] = {}
    rates_by_category: Annotated[dict[Annotated[Text, Field(max_length=128)], NonNegative],
                                 Field(max_length=200)] = {}
    cap_bp: Int64 = 3_000
    after_sales_days: Days = 7
    binding_days: Days = 30
    self_rebate: Bool = False
    velocity_limit: Annotated[int, Field(ge=1, le=10_000)] = 20
    cluster_limit: Annotated[int, Field(ge=1, le=10_000)] = 3
    recruiting_reward_fen: NonNegative = 0
    recruiting_reward_points: NonNegative = 0
    entry_product_fen: NonNegative = 0
    entry_product_sku: Annotated[Text, Field(max_length=128)] | None = None


class ProgrammeIn(BaseModel):
    """A new programme."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(min_length=1, max_length=120)]
    kind: ProgrammeKind = ProgrammeKind.REFERRAL
    config: ConfigIn = ConfigIn()


class ProgrammeOut(BaseModel):
    """A programme."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    status: str
    config: dict[str, Any]
    created_at: datetime


class CodeIn(BaseModel):
    """An invite code for a participant."""

    model_config = ConfigDict(extra="forbid")

    customer_id: Id


class CodeOut(BaseModel):
    """An invite code, its link path and the WeCom `state` naming the inviter."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    customer_id: int
    code: str
    state: str


class TouchIn(BaseModel):
    """An invitee arriving through a code or link."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[Text, Field(min_length=1, max_length=32)]
    customer_id: Id
    at: datetime | None = None
    device: Annotated[Text, Field(max_length=128)] | None = None


class AttributionOut(BaseModel):
    """An invitee credited to an inviter, and the reward's state and flags."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    customer_id: int
    inviter_id: int
    touched_at: datetime
    state: str
    flags: list[dict[str, Any]]
    order_id: int | None
    converted_at: datetime | None
    hold_until: datetime | None
    reward: dict[str, Any]
    reason: str | None


class Decision(StrEnum):
    """A reviewer's decision on a flagged referral."""

    APPROVE = "approve"
    VOID = "void"


class ReviewIn(BaseModel):
    """A review of a flagged referral."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision
    reason: Annotated[Text, Field(max_length=200)] = ""


class DistributorIn(BaseModel):
    """A customer applying to distribute, optionally under the distributor who brought them (for level 2)."""

    model_config = ConfigDict(extra="forbid")

    programme_id: Id
    customer_id: Id
    parent_code: Annotated[Text, Field(max_length=32)] | None = None


class DistributorStatus(StrEnum):
    """What an operator may set a distributor to."""

    APPROVED = "approved"
    SUSPENDED = "suspended"


class DistributorPatch(BaseModel):
    """Approve or suspend a distributor."""

    model_config = ConfigDict(extra="forbid")

    status: DistributorStatus


class DistributorOut(BaseModel):
    """A distributor."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    customer_id: int
    code: str
    status: str
    parent_id: int | None
    created_at: datetime


class BindIn(BaseModel):
    """A customer arriving through a distributor's link or code."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[Text, Field(min_length=1, max_length=32)]
    customer_id: Id
    at: datetime | None = None


class BindingOut(BaseModel):
    """A customer's binding to a distributor."""

    model_config = ConfigDict(from_attributes=True)

    customer_id: int
    distributor_id: int
    bound_at: datetime
    expires_at: datetime


class TreeOut(BaseModel):
    """A programme's share tree: edges and figures."""

    edges: list[dict[str, Any]]
    participants: int
    invitees: int
    valid: int
    k_factor: float
    cycle_hours: float | None
    cost_per_valid_fen: int | None
    flag_rate: float
    depth: int
