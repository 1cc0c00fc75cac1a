"""ORM models for the points ledger, earn rules, tiers, coupons, point tasks and subscriber cursors."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, Json, UTCDateTime

CUSTOMER_FK = "customers.id"


class LoyaltySettings(WorkspaceScoped, Base):
    """A workspace's loyalty programme: expiry policy, negative balances, liability rate, tier window."""

    __tablename__ = "loyalty_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    expiry_policy: Mapped[str] = mapped_column(String(16), default="rolling")  # rolling | fixed | never
    expiry_months: Mapped[int] = mapped_column(default=12)
    expiry_month_day: Mapped[str | None] = mapped_column(String(5))  # "12-31" for the fixed policy
    allow_negative: Mapped[bool] = mapped_column(default=False)
    fen_per_100_points: Mapped[int] = mapped_column(default=100)  # liability valuation
    tier_basis: Mapped[str] = mapped_column(String(16), default="earned")  # earned (points) | spend (fen)
    tier_window_months: Mapped[int] = mapped_column(default=12)
    tier_grace_days: Mapped[int] = mapped_column(default=30)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PointsAccount(WorkspaceScoped, Base):
    """One customer's balance: the sum of their entries; the row every ledger change locks first."""

    __tablename__ = "points_accounts"
    __table_args__ = (UniqueConstraint("workspace_id", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    balance: Mapped[int] = mapped_column(default=0)
    earned_total: Mapped[int] = mapped_column(default=0)
    shortfall: Mapped[int] = mapped_column(default=0)  # reversed points that could not be taken back
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PointsEntry(WorkspaceScoped, Base):
    """One change of a balance (earn, redeem, expire, reverse, adjust, merge); the key applies once."""

    __tablename__ = "points_entries"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),
                      Index("ix_points_entries_customer", "customer_id", "id"),
                      Index("ix_points_entries_source", "workspace_id", "source_type", "source_ref"))

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int]
    balance_after: Mapped[int]
    shortfall: Mapped[int] = mapped_column(default=0)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(300), default="")
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_ref: Mapped[str | None] = mapped_column(String(128))
    rule_id: Mapped[int | None] = mapped_column(Id)
    reverses_id: Mapped[int | None] = mapped_column(Id, ForeignKey("points_entries.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class PointsLot(WorkspaceScoped, Base):
    """Points one earn added, what is left of them and when they expire; never below zero."""

    __tablename__ = "points_lots"
    __table_args__ = (Index("ix_points_lots_customer", "customer_id", "expires_at"),
                      Index("ix_points_lots_due", "expires_at", "remaining"))

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("points_entries.id", ondelete="CASCADE"))
    points: Mapped[int]
    remaining: Mapped[int]
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EarnRule(WorkspaceScoped, Base):
    """How points are earned: per paid order, per event (with caps) or a one-off bonus."""

    __tablename__ = "earn_rules"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # order | event | bonus
    active: Mapped[bool] = mapped_column(default=True)
    points_per_yuan: Mapped[int] = mapped_column(default=0)
    excluded_categories: Mapped[list[str]] = mapped_column(Json, default=list)
    event_name: Mapped[str | None] = mapped_column(String(200))
    points: Mapped[int] = mapped_column(default=0)
    daily_cap: Mapped[int | None]
    total_cap: Mapped[int | None]
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Tier(WorkspaceScoped, Base):
    """A member level reached by points earned or spend in the rolling window, with its benefits."""

    __tablename__ = "tiers"
    __table_args__ = (UniqueConstraint("workspace_id", "rank"),)

    name: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int]
    threshold: Mapped[int]
    multiplier_pct: Mapped[int] = mapped_column(default=100)
    benefits: Mapped[list[str]] = mapped_column(Json, default=list)


class CustomerTier(WorkspaceScoped, Base):
    """The tier a customer holds now and when it is next reviewed for a downgrade."""

    __tablename__ = "customer_tiers"
    __table_args__ = (UniqueConstraint("workspace_id", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    tier_id: Mapped[int | None] = mapped_column(Id, ForeignKey("tiers.id", ondelete="SET NULL"))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    review_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TierChange(WorkspaceScoped, Base):
    """Tier history: every upgrade and downgrade with the qualifying figure."""

    __tablename__ = "tier_changes"
    __table_args__ = (Index("ix_tier_changes_customer", "customer_id", "id"),)

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    from_tier_id: Mapped[int | None] = mapped_column(Id)
    to_tier_id: Mapped[int | None] = mapped_column(Id)
    qualifying: Mapped[int]
    reason: Mapped[str] = mapped_column(String(32))


class CouponTemplate(WorkspaceScoped, Base):
    """What a coupon gives and to whom: kind, value, threshold, validity, stock, limits, channels, tiers."""

    __tablename__ = "coupon_templates"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # fixed | percent | threshold | free_shipping | gift
    value_fen: Mapped[int] = mapped_column(default=0)
    percent_off: Mapped[int] = mapped_column(default=0)
    cap_fen: Mapped[int | None]
    threshold_fen: Mapped[int] = mapped_column(default=0)
    gift_sku: Mapped[str | None] = mapped_column(String(128))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_days: Mapped[int | None]
    total_stock: Mapped[int | None]
    issued_count: Mapped[int] = mapped_column(default=0)
    per_customer_limit: Mapped[int] = mapped_column(default=1)
    channels: Mapped[list[str]] = mapped_column(Json, default=list)
    tier_ids: Mapped[list[int]] = mapped_column(Json, default=list)
    active: Mapped[bool] = mapped_column(default=True)


class Coupon(WorkspaceScoped, Base):
    """One issued coupon; redeemed against one order exactly once."""

    __tablename__ = "coupons"
    __table_args__ = (UniqueConstraint("workspace_id", "code"), UniqueConstraint("workspace_id", "issue_key"),
                      Index("ix_coupons_customer", "customer_id", "template_id"),
                      Index("ix_coupons_template", "template_id", "status"))

    template_id: Mapped[int] = mapped_column(Id, ForeignKey("coupon_templates.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    issue_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="issued")  # issued | redeemed | expired
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    order_ref: Mapped[str | None] = mapped_column(String(128))
    order_amount_fen: Mapped[int | None]
    discount_fen: Mapped[int | None]
    reason: Mapped[str] = mapped_column(String(300), default="")


class PointTask(WorkspaceScoped, Base):
    """A small task a customer proves with an image (e.g. a review screenshot) to earn points."""

    __tablename__ = "point_tasks"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[int]
    per_customer_limit: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)


class TaskSubmission(WorkspaceScoped, Base):
    """A customer's proof for a task, waiting for an operator's review."""

    __tablename__ = "task_submissions"
    __table_args__ = (Index("ix_task_submissions_queue", "workspace_id", "status", "id"),
                      Index("ix_task_submissions_hash", "workspace_id", "image_hash"))

    task_id: Mapped[int] = mapped_column(Id, ForeignKey("point_tasks.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey(CUSTOMER_FK, ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text, default="")
    image_path: Mapped[str | None] = mapped_column(String(300))
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    image_hash: Mapped[str | None] = mapped_column(String(16))  # perceptual hash (pHash, hex)
    duplicate_of_id: Mapped[int | None] = mapped_column(Id, ForeignKey("task_submissions.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    reason: Mapped[str | None] = mapped_column(String(300))
    reviewed_by: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
