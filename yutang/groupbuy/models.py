"""ORM models for group-buys (接龙): the buy, its items, leaders and pick-up points, entries and their lines."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, UTCDateTime


class GroupBuy(WorkspaceScoped, Base):
    """A group-buy: draft → open (published, prices frozen) → closed at the cut-off."""

    __tablename__ = "groupbuys"

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    deposit_kind: Mapped[str] = mapped_column(String(16))
    fulfilment: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cutoff_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    production_date: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_number: Mapped[int] = mapped_column(default=0, doc="the last 跟团号 given")
    notice_channel_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("messaging_channels.id", ondelete="SET NULL"), doc="where buyers are told the cut-off")
    notified_through: Mapped[int] = mapped_column(default=0, doc="the last 跟团号 told the cut-off")
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, doc="when every buyer had been told")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GroupBuyItem(WorkspaceScoped, Base):
    """One SKU on offer: its price (frozen once published), deposit, limits and minimum, and what was taken."""

    __tablename__ = "groupbuy_items"
    __table_args__ = (UniqueConstraint("groupbuy_id", "sku"),)

    groupbuy_id: Mapped[int] = mapped_column(Id, ForeignKey("groupbuys.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    price_fen: Mapped[int]
    deposit_fen: Mapped[int] = mapped_column(default=0)
    cost_fen: Mapped[int] = mapped_column(default=0)
    per_person_limit: Mapped[int | None]
    cap: Mapped[int | None]
    minimum: Mapped[int] = mapped_column(default=0)
    fresh: Mapped[bool] = mapped_column(default=True, doc="refunded without return (perishable)")
    taken: Mapped[int] = mapped_column(default=0, doc="units joined; never above the cap (conditional UPDATE)")
    decision: Mapped[str | None] = mapped_column(String(16))


class Leader(WorkspaceScoped, Base):
    """A community leader (团长) who runs pick-up points and earns a commission rate on fulfilled sales."""

    __tablename__ = "groupbuy_leaders"

    name: Mapped[str] = mapped_column(String(200))
    commission_bp: Mapped[int] = mapped_column(default=0, doc="commission in basis points of fulfilled sales")
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)


class PickupPoint(WorkspaceScoped, Base):
    """Where buyers collect: a store or a leader's point."""

    __tablename__ = "groupbuy_points"

    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    store_id: Mapped[int | None] = mapped_column(Id, ForeignKey("stores.id", ondelete="SET NULL"))
    leader_id: Mapped[int | None] = mapped_column(Id, ForeignKey("groupbuy_leaders.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)


class Entry(WorkspaceScoped, Base):
    """One join (跟团): its sequence number, buyer, pick-up point, pick-up code and the order it became."""

    __tablename__ = "groupbuy_entries"
    __table_args__ = (
        UniqueConstraint("groupbuy_id", "number"),
        UniqueConstraint("groupbuy_id", "request_key"),
        UniqueConstraint("groupbuy_id", "code"),
        Index("ix_groupbuy_entries_customer", "customer_id"),
    )

    groupbuy_id: Mapped[int] = mapped_column(Id, ForeignKey("groupbuys.id", ondelete="CASCADE"))
    number: Mapped[int]
    request_key: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id", ondelete="SET NULL"))
    shown_name: Mapped[str] = mapped_column(String(8), doc="the masked name on the public list (王*)")
    point_id: Mapped[int | None] = mapped_column(Id, ForeignKey("groupbuy_points.id", ondelete="SET NULL"))
    remark: Mapped[str | None] = mapped_column(String(500))
    code: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[int | None] = mapped_column(Id, ForeignKey("orders.id", ondelete="SET NULL"))
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EntryLine(WorkspaceScoped, Base):
    """A quantity of one item in an entry, with its status and the money it moved (fen)."""

    __tablename__ = "groupbuy_lines"
    __table_args__ = (UniqueConstraint("entry_id", "item_id"), Index("ix_groupbuy_lines_item", "item_id", "status"))

    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("groupbuy_entries.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(Id, ForeignKey("groupbuy_items.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="joined")
    paid_fen: Mapped[int] = mapped_column(default=0)
    balance_due_fen: Mapped[int] = mapped_column(default=0)
    refunded_fen: Mapped[int] = mapped_column(default=0)
    kept_fen: Mapped[int] = mapped_column(default=0)


class Take(WorkspaceScoped, Base):
    """Units one customer holds of one item, kept so a per-person limit holds under concurrent joins."""

    __tablename__ = "groupbuy_takes"
    __table_args__ = (UniqueConstraint("item_id", "customer_id"),)

    item_id: Mapped[int] = mapped_column(Id, ForeignKey("groupbuy_items.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(default=0)
