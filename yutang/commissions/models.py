"""ORM models of the commission ledger: accounts, entries per order line and level, reversals, payout batches."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, UTCDateTime


class CommissionAccount(WorkspaceScoped, Base):
    """A beneficiary's balances by state, each the sum of its entries; the row every change locks first."""

    __tablename__ = "commission_accounts"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "beneficiary_id"),)

    kind: Mapped[str] = mapped_column(String(16))  # distributor | staff | leader
    beneficiary_id: Mapped[int] = mapped_column(Id)  # a distributor, staff member or group-buy leader id
    pending_fen: Mapped[int] = mapped_column(default=0)
    frozen_fen: Mapped[int] = mapped_column(default=0)
    available_fen: Mapped[int] = mapped_column(default=0)
    paid_fen: Mapped[int] = mapped_column(default=0)
    reversed_fen: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CommissionEntry(WorkspaceScoped, Base):
    """What one beneficiary earns on one order line at one level; reversals lower what is open of it."""

    __tablename__ = "commission_entries"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),
                      Index("ix_commission_entries_order", "workspace_id", "order_id"),
                      Index("ix_commission_entries_account", "account_id", "state"),
                      Index("ix_commission_entries_due", "state", "release_at"))

    account_id: Mapped[int] = mapped_column(Id, ForeignKey("commission_accounts.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32))  # referral | guide | groupbuy
    order_id: Mapped[int] = mapped_column(Id)
    line_no: Mapped[int]
    level: Mapped[int]
    line_amount_fen: Mapped[int]  # the line's gross amount, so later refunds on it are measured from posting
    base_fen: Mapped[int]  # what was paid and kept on the line when posted
    rate_bp: Mapped[int]
    amount_fen: Mapped[int]
    reversed_fen: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    release_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the after-sales window closes
    payout_id: Mapped[int | None] = mapped_column(Id, ForeignKey("commission_payouts.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CommissionReversal(WorkspaceScoped, Base):
    """A part of an entry a refund took back; its key applies once."""

    __tablename__ = "commission_reversals"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("commission_entries.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200), default="")


class CommissionBatch(WorkspaceScoped, Base):
    """A payout batch exported for 商家转账 / 分账, with the tax withheld."""

    __tablename__ = "commission_batches"

    withholding_bp: Mapped[int] = mapped_column(default=0)
    count: Mapped[int] = mapped_column(default=0)
    gross_fen: Mapped[int] = mapped_column(default=0)
    tax_fen: Mapped[int] = mapped_column(default=0)
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))


class CommissionPayout(WorkspaceScoped, Base):
    """One account's payout: the available entries it took whole, less the tax withheld."""

    __tablename__ = "commission_payouts"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    batch_id: Mapped[int | None] = mapped_column(Id, ForeignKey("commission_batches.id", ondelete="CASCADE"),
                                                 index=True)
    account_id: Mapped[int] = mapped_column(Id, ForeignKey("commission_accounts.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    gross_fen: Mapped[int]
    tax_fen: Mapped[int]
    net_fen: Mapped[int]
