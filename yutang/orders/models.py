"""ORM models for orders and order lines."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, Json, UTCDateTime


class Order(WorkspaceScoped, Base):
    """An order; (channel, external_id) is unique so re-imports update instead of duplicating."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", "external_id"),
        Index("ix_orders_customer", "customer_id", "placed_at"),
    )

    external_id: Mapped[str] = mapped_column(String(128))
    channel_id: Mapped[int] = mapped_column(Id, ForeignKey("channels.id"))
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    total_fen: Mapped[int]
    paid_fen: Mapped[int] = mapped_column(default=0)
    refunded_fen: Mapped[int] = mapped_column(default=0)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_status: Mapped[str | None] = mapped_column(String(64), doc="the marketplace's own status code")
    raw: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OrderLine(WorkspaceScoped, Base):
    """A line item: SKU, category, quantity and unit price in fen."""

    __tablename__ = "order_lines"

    order_id: Mapped[int] = mapped_column(Id, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int]
    sku: Mapped[str] = mapped_column(String(128))
    product_name: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(128))
    quantity: Mapped[int]
    unit_price_fen: Mapped[int]
    amount_fen: Mapped[int]
    refunded_fen: Mapped[int] = mapped_column(default=0)
