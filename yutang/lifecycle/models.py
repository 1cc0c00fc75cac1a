"""ORM models for a workspace's lifecycle and RFM settings and its last fitted value model."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.lifecycle.core import Thresholds
from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Json, UTCDateTime

DEFAULTS = Thresholds()


class LifecycleSettings(WorkspaceScoped, Base):
    """Thresholds for stages, the RFM window and the prediction horizon; one row per workspace (defaults if none)."""

    __tablename__ = "lifecycle_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    repeat_orders: Mapped[int] = mapped_column(default=DEFAULTS.repeat_orders)
    loyal_events: Mapped[int] = mapped_column(default=DEFAULTS.loyal_events)
    loyal_event_days: Mapped[int] = mapped_column(default=DEFAULTS.loyal_event_days)
    loyal_referrals: Mapped[int] = mapped_column(default=DEFAULTS.loyal_referrals)
    at_risk_days: Mapped[int] = mapped_column(default=DEFAULTS.at_risk_days)
    dormant_days: Mapped[int] = mapped_column(default=DEFAULTS.dormant_days)
    churned_days: Mapped[int] = mapped_column(default=DEFAULTS.churned_days)
    rfm_window_days: Mapped[int] = mapped_column(default=DEFAULTS.rfm_window_days)
    prediction_days: Mapped[int] = mapped_column(default=DEFAULTS.prediction_days)
    value_purchases: Mapped[str] = mapped_column(String(10), default=DEFAULTS.value_purchases,
                                                 server_default=DEFAULTS.value_purchases)


class LifecycleModel(WorkspaceScoped, Base):
    """The value model fitted by the workspace's last refresh (one row per workspace, replaced by each refresh)."""

    __tablename__ = "lifecycle_models"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    as_of: Mapped[date] = mapped_column(doc="the local day the refresh was computed as of")
    as_of_requested: Mapped[bool] = mapped_column(doc="an explicit as-of date (a back-test), not the day it ran")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, doc="the instant the refresh counted up to")
    purchases: Mapped[str] = mapped_column(String(10), doc="'day' or 'order': what one purchase was")
    buyers: Mapped[int] = mapped_column(doc="customers with a purchase, whom the models were fitted on")
    parameters: Mapped[dict[str, Any] | None] = mapped_column(Json, doc="BG/NBD and Gamma-Gamma, in model units")
    error: Mapped[str | None] = mapped_column(Text, doc="why there is no model, if there is none")
