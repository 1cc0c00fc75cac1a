"""ORM models for customers and everything that hangs directly off a customer."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, Json, UTCDateTime


class Customer(WorkspaceScoped, Base):
    """A person in the brand's pool; merged and erased customers stay as tombstones."""

    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_workspace_name", "workspace_id", "name"),)

    status: Mapped[str] = mapped_column(String(16), default="active")
    name: Mapped[str | None] = mapped_column(String(200))
    gender: Mapped[str | None] = mapped_column(String(16))
    birthday: Mapped[date | None] = mapped_column(Date)
    province: Mapped[str | None] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    first_channel_id: Mapped[int | None] = mapped_column(Id, ForeignKey("channels.id", ondelete="SET NULL"))
    source_campaign: Mapped[str | None] = mapped_column(String(200))
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_member_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("members.id", ondelete="SET NULL"), index=True)
    refuses_personalised: Mapped[bool] = mapped_column(default=False)
    merged_into_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id"))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CustomerIdentity(WorkspaceScoped, Base):
    """One way to recognise a customer; (kind, namespace, lookup) is unique in a workspace."""

    __tablename__ = "customer_identities"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "namespace", "lookup"),
        Index("ix_customer_identities_customer", "customer_id"),
    )

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    namespace: Mapped[str] = mapped_column(String(128), default="")
    value: Mapped[str] = mapped_column(String(320))
    lookup: Mapped[str] = mapped_column(String(320))


class ChannelMembership(WorkspaceScoped, Base):
    """A customer's presence in one channel (followed the account, added the WeCom contact, joined a group …)."""

    __tablename__ = "channel_memberships"
    __table_args__ = (UniqueConstraint("customer_id", "channel_id"),)

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(Id, ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsentEntry(WorkspaceScoped, Base):
    """Append-only consent ledger: the latest entry per (customer, channel) is in force."""

    __tablename__ = "consent_entries"
    __table_args__ = (Index("ix_consent_entries_customer", "customer_id", "channel", "id"),)

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))


class CustomerNote(WorkspaceScoped, Base):
    """A free-text note by staff on a customer."""

    __tablename__ = "customer_notes"

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)


class MergeRecord(WorkspaceScoped, Base):
    """A merge of one customer into another, with what was moved and the loser's prior profile."""

    __tablename__ = "customer_merges"

    winner_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id"), index=True)
    loser_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    moved: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    loser_snapshot: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
