"""ORM models for channels and their acquisition cost entries."""

from datetime import date
from typing import Any

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, Json


class Channel(WorkspaceScoped, Base):
    """One touchpoint: what kind it is, its role among the pools, and which domain it belongs to."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("workspace_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(128))
    config: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    active: Mapped[bool] = mapped_column(default=True)


class ChannelCost(WorkspaceScoped, Base):
    """Money spent on a channel over a period (ads, staff, incentives), for CAC."""

    __tablename__ = "channel_costs"

    channel_id: Mapped[int] = mapped_column(Id, ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(500))
