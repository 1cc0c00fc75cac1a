"""Commission ledger input and output shapes (money in fen, rates in basis points)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from yutang.kit.fields import Int64, NonNegative


class AccountOut(BaseModel):
    """An account's balances by state."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    beneficiary_id: int
    pending_fen: int
    frozen_fen: int
    available_fen: int
    paid_fen: int
    reversed_fen: int


class EntryOut(BaseModel):
    """One entry: an order line at a level, what it earns and what was reversed of it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    source: str
    order_id: int
    line_no: int
    level: int
    base_fen: int
    rate_bp: int
    amount_fen: int
    reversed_fen: int
    state: str
    release_at: datetime
    payout_id: int | None
    occurred_at: datetime


class PayoutIn(BaseModel):
    """Pay an account; amount_fen caps what it takes (whole entries), refused above what is available."""

    model_config = ConfigDict(extra="forbid")

    amount_fen: NonNegative | None = None
    withholding_bp: Annotated[int, Field(ge=0, le=10_000)] = 0
    idempotency_key: Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9:._-]+$")]


class PayoutOut(BaseModel):
    """A payout."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    batch_id: int | None
    account_id: int
    gross_fen: int
    tax_fen: int
    net_fen: int
    created_at: datetime


class BatchIn(BaseModel):
    """A payout batch for every account with at least min_fen available."""

    model_config = ConfigDict(extra="forbid")

    withholding_bp: Int64 = 0
    min_fen: Annotated[int, Field(ge=1, le=2**63 - 1)] = 1


class BatchOut(BaseModel):
    """A payout batch's totals."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    withholding_bp: int
    count: int
    gross_fen: int
    tax_fen: int
    created_at: datetime


class BatchDetailOut(BatchOut):
    """A batch with its payouts."""

    payouts: list[PayoutOut]


class ReleaseOut(BaseModel):
    """How many entries became available."""

    released: int
