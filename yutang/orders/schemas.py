"""In/Out shapes for orders, line items and import reports."""

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from yutang.customers.schemas import IdentityIn

# Bounds that keep every sum an order makes (lines, totals, refunds) well inside a 64-bit column.
MAX_FEN = 10**15  # ten trillion yuan
MAX_QUANTITY = 10**9

class OrderStatus(StrEnum):
    """Lifecycle of an order, common to every channel."""

    PENDING = "pending"  # placed, not yet paid
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class OrderLineIn(BaseModel):
    """One line item; amount defaults to quantity × unit price."""

    sku: str = Field(min_length=1, max_length=128)
    product_name: str | None = Field(default=None, max_length=300)
    category: str | None = Field(default=None, max_length=128)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    unit_price_fen: int = Field(ge=0, le=MAX_FEN)
    amount_fen: int | None = Field(default=None, ge=0, le=MAX_FEN, description="paid for this line after discounts")
    refunded_fen: int = Field(default=0, ge=0, le=MAX_FEN)

    @model_validator(mode="after")
    def _amount(self):
        if self.amount_fen is None:
            self.amount_fen = self.quantity * self.unit_price_fen
            if self.amount_fen > MAX_FEN:
                raise ValueError(f"quantity × unit price exceeds {MAX_FEN} fen")
        if self.refunded_fen > self.amount_fen:
            raise ValueError("refunded_fen exceeds the line amount")
        return self


class OrderIn(BaseModel):
    """An order from any channel; the buyer is found (or created) by their identities."""

    external_id: str = Field(min_length=1, max_length=128)
    channel: str = Field(description="channel code the order came through")
    status: OrderStatus
    placed_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    total_fen: int | None = Field(default=None, ge=0, le=MAX_FEN, description="default: sum of line amounts")
    paid_fen: int | None = Field(default=None, ge=0, le=MAX_FEN,
                                 description="default: total for paid statuses, else 0")
    refunded_fen: int = Field(default=0, ge=0, le=MAX_FEN)
    customer_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    buyer: list[IdentityIn] = Field(default_factory=list, description="identities of the buyer")
    buyer_name: str | None = None
    source_status: str | None = None
    lines: list[OrderLineIn] = Field(min_length=1)
    raw: dict = Field(default_factory=dict, description="the source record, kept for audit")

    @model_validator(mode="after")
    def _totals(self):
        lines_total = sum(line.amount_fen for line in self.lines)
        if self.total_fen is None:
            if lines_total > MAX_FEN:
                raise ValueError(f"the lines add up to more than {MAX_FEN} fen")
            self.total_fen = lines_total
        if self.paid_fen is None:
            unpaid = {OrderStatus.PENDING, OrderStatus.CANCELLED}
            self.paid_fen = 0 if self.status in unpaid and not self.paid_at else self.total_fen
        if self.refunded_fen > self.paid_fen:
            raise ValueError("refunded_fen exceeds paid_fen")
        if self.customer_id is None and not self.buyer:
            raise ValueError("an order needs customer_id or buyer identities")
        return self


class OrderLineOut(BaseModel):
    """A line item as shown."""

    model_config = ConfigDict(from_attributes=True)
    line_no: int
    sku: str
    product_name: str | None
    category: str | None
    quantity: int
    unit_price_fen: int
    amount_fen: int
    refunded_fen: int


class OrderOut(BaseModel):
    """An order as shown."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    external_id: str
    channel_id: int
    customer_id: int | None
    status: OrderStatus
    currency: str
    total_fen: int
    paid_fen: int
    refunded_fen: int
    placed_at: AwareDatetime
    paid_at: datetime | None
    source_status: str | None
    lines: list[OrderLineOut] = Field(default_factory=list)


class ImportErrorOut(BaseModel):
    """A row that did not import: where it is and which field is at fault."""

    line: int
    field: str
    message: str


class ImportReport(BaseModel):
    """What an import did; a re-import of the same file reports everything unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    customers_created: int = 0
    errors: list[ImportErrorOut] = Field(default_factory=list)
