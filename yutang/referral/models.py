"""ORM models of referral programmes, invite codes, attributions, tier awards, distributors and bindings."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, Json, UTCDateTime

CUSTOMER_FK = "customers.id"
PROGRAMME_FK = "referral_programmes.id"


class ReferralProgramme(WorkspaceScoped, Base):
    """A referral (老带新 / 任务宝 / 群裂变) or distribution (分销) programme and its checked configuration."""

    __tablename__ = "referral_programmes"

    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))  # referral | task | group | distribution
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    config: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReferralCode(WorkspaceScoped, Base):
    """A participant's invite code; `state` is what a WeCom contact-way code carries to name the inviter."""

    __tablename__ = "referral_codes"
    __table_args__ = (UniqueConstraint("workspace_id", "code"), UniqueConstraint("workspace_id", "programme_id",
                                                                                 "customer_id"))

    programme_id: Mapped[int] = mapped_column(Id, ForeignKey(PROGRAMME_FK, ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(30))


class ReferralAttribution(WorkspaceScoped, Base):
    """An invitee credited to an inviter (first touch in the window) and the inviter's reward for them."""

    __tablename__ = "referral_attributions"
    __table_args__ = (UniqueConstraint("workspace_id", "programme_id", "customer_id"),
                      Index("ix_referral_attributions_inviter", "workspace_id", "inviter_id", "touched_at"),
                      Index("ix_referral_attributions_state", "workspace_id", "state"))

    programme_id: Mapped[int] = mapped_column(Id, ForeignKey(PROGRAMME_FK, ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))  # the invitee
    inviter_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    code_id: Mapped[int | None] = mapped_column(Id, ForeignKey("referral_codes.id", ondelete="SET NULL"))
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    device: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    flags: Mapped[list[Any]] = mapped_column(Json, default=list)
    order_id: Mapped[int | None] = mapped_column(Id)  # the converting order
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reward: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    reason: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReferralTierAward(WorkspaceScoped, Base):
    """A reward tier (3 friends → coupon, 10 → gift) an inviter reached; awarded once."""

    __tablename__ = "referral_tier_awards"
    __table_args__ = (UniqueConstraint("workspace_id", "programme_id", "customer_id", "count"),)

    programme_id: Mapped[int] = mapped_column(Id, ForeignKey(PROGRAMME_FK, ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    count: Mapped[int]
    reward: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class Distributor(WorkspaceScoped, Base):
    """A KOC who applied to distribute (分销); earns on bound customers' orders once approved."""

    __tablename__ = "referral_distributors"
    __table_args__ = (UniqueConstraint("workspace_id", "customer_id"), UniqueConstraint("workspace_id", "code"))

    programme_id: Mapped[int] = mapped_column(Id, ForeignKey(PROGRAMME_FK, ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="applied")  # applied | approved | suspended
    parent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("referral_distributors.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DistributorBinding(WorkspaceScoped, Base):
    """A customer bound to a distributor through their link or code, until it expires."""

    __tablename__ = "referral_bindings"
    __table_args__ = (UniqueConstraint("workspace_id", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    distributor_id: Mapped[int] = mapped_column(Id, ForeignKey("referral_distributors.id", ondelete="CASCADE"),
                                                index=True)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
