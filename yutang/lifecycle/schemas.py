"""In/Out shapes for lifecycle settings, a refresh, the overview and one customer's scores."""

from datetime import date, datetime
from typing import Literal

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
    value_purchases: Literal["day", "order"] = Field(
        "day", description="what the value models count as one purchase: 'day' (all of a customer's paid orders on "
                           "one local day, as the BG/NBD and Gamma-Gamma papers count; the default) or 'order'")


class LifecycleSettingsOut(LifecycleSettingsIn):
    """The settings in force (the defaults until changed)."""


class ComputeIn(BaseModel):
    """A refresh request: as of today (the default), or as of the end of an earlier local day (a back-test)."""

    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(None, description="count orders and events up to the end of this local day, and "
                                                 "compute stages, RFM and value relative to it; not after today")


class ComputeOut(BaseModel):
    """What a refresh did."""

    customers: int
    transitions: int = Field(description="'Lifecycle Stage Changed' events recorded")
    baseline: bool = Field(description="stages set without transition events: the workspace's first refresh, an "
                                       "as-of refresh, or the first refresh after one")
    as_of: date = Field(description="the local day the refresh counted up to (its end)")
    computed_at: datetime = Field(description="the instant the refresh counted up to")
    model: dict | None = Field(None, description="fitted BG/NBD (r, alpha in weeks, a, b) and Gamma-Gamma "
                                                 "(p, q, v in fen); GET /v1/lifecycle/model describes them")
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


class BgNbdOut(BaseModel):
    """BG/NBD (Fader, Hardie & Lee 2005): purchase rates ~ Gamma(r, alpha), drop-out probability ~ Beta(a, b)."""

    r: float = Field(description="shape of the purchase-rate distribution (no unit)")
    alpha: float = Field(description="scale of the purchase-rate distribution, in weeks (the papers' unit; "
                                     "the mean rate is r / alpha purchases a week)")
    alpha_unit: Literal["week"] = "week"
    a: float = Field(description="drop-out Beta distribution, first shape (no unit)")
    b: float = Field(description="drop-out Beta distribution, second shape (no unit)")


class GammaGammaOut(BaseModel):
    """Gamma-Gamma (Fader & Hardie 2013): a purchase's value ~ Gamma(p, nu), nu ~ Gamma(q, v) per customer."""

    p: float = Field(description="shape of a purchase's value around the customer's mean (no unit)")
    q: float = Field(description="shape of the customers' mean values (no unit)")
    v: float = Field(description="scale of the customers' mean values, in fen (the population mean value per "
                                 "purchase is p·v / (q − 1) fen)")
    v_unit: Literal["fen"] = "fen"


class ModelOut(BaseModel):
    """The value model fitted by the last refresh, with the inputs' definitions."""

    as_of: date = Field(description="the local day the refresh counted up to (its end)")
    as_of_requested: bool = Field(description="the day was asked for (a back-test), not the day it ran")
    computed_at: datetime = Field(description="the instant the refresh counted up to")
    purchases: Literal["day", "order"] = Field(description="what one purchase was: a customer-day or an order")
    buyers: int = Field(description="customers with a purchase, whom the models were fitted on")
    fitted_on: str | None = Field(None, description="'exact' histories, or 'weeks and yuan' (rounded, above "
                                                    "100,000 buyers)")
    bgnbd: BgNbdOut | None
    gamma_gamma: GammaGammaOut | None
    error: str | None = Field(None, description="why there is no model, if there is none")
