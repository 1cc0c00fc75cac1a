"""In/Out shapes for lifecycle settings, a refresh, the overview and one customer's scores."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

DAYS = {"ge": 1, "le": 3650}


class LifecycleSettingsIn(BaseModel):
    """The whole settings document (PUT replaces it); days are local calendar days in the workspace's zone."""

    model_config = ConfigDict(extra="forbid")
    repeat_orders: int = Field(ge=2, le=1000, description="paid orders that make a repeat customer")
    loyal_events: int = Field(ge=1, le=1_000_000, description="loyal: a repeat customer with this many events …")
    loyal_event_days: int = Field(**DAYS, description="… in the last this many days")
    loyal_referrals: int = Field(ge=1, le=1_000_000, description="or this many 'Referral Completed' events")
    at_risk_days: int = Field(**DAYS, description="days since the last purchase that make a customer at risk")
    dormant_days: int = Field(**DAYS, description="… dormant (more than at_risk_days)")
    churned_days: int = Field(**DAYS, description="… churned (more than dormant_days)")
    rfm_window_days: int = Field(**DAYS, description="RFM scores purchases of the last this many days")
    prediction_days: int = Field(**DAYS, description="predicted value covers the next this many days")


class LifecycleSettingsOut(LifecycleSettingsIn):
    """The settings in force (the defaults until changed)."""


class ComputeOut(BaseModel):
    """What a refresh did."""

    customers: int
    transitions: int = Field(description="'Lifecycle Stage Changed' events recorded")
    baseline: bool = Field(description="the workspace's first refresh: stages set without transition events")
    computed_at: datetime
    model: dict | None = Field(None, description="fitted BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, v)")
    model_error: str | None = Field(None, description="why predicted value is empty, if it is")
    seconds: dict[str, float]


class StageCount(BaseModel):
    """Customers in one lifecycle stage."""

    stage: str
    customers: int


class ClassCount(BaseModel):
    """Customers in one RFM class, and their historic value."""

    rfm_class: str
    customers: int
    historic_value_fen: int


class ValueBucket(BaseModel):
    """Customers whose value falls in [min_fen, max_fen) (max_fen null: no upper end)."""

    min_fen: int
    max_fen: int | None
    historic: int = Field(description="customers with historic value in the bucket")
    predicted: int = Field(description="customers with predicted value in the bucket")


class OverviewOut(BaseModel):
    """Customers per stage, per RFM class, and how value is distributed, as of the last refresh."""

    computed_at: datetime | None
    customers: int
    stages: list[StageCount]
    rfm_classes: list[ClassCount]
    unscored: int = Field(description="customers without RFM scores (no purchase in the RFM window)")
    historic_value_fen: int
    predicted_value_fen: int
    value_buckets: list[ValueBucket]


class CustomerScoresOut(BaseModel):
    """One customer's stage, RFM scores and class, and value, as of the last refresh."""

    lifecycle_stage: str
    rfm_r: int | None
    rfm_f: int | None
    rfm_m: int | None
    rfm_class: str | None
    historic_value_fen: int
    predicted_value_fen: int | None
    computed_at: datetime
