"""ORM model for a workspace's lifecycle and RFM settings."""

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.lifecycle.core import Thresholds
from yutang.storage.base import Base, WorkspaceScoped

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
