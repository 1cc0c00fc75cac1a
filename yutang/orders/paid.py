"""What a paid order is, defined once for lifecycle, segments, loyalty, tiers, the archive and the warehouse.

- A paid order is one whose status is in PAID_STATUSES (the buyer paid, whatever happened after).
- It was paid at `paid_at`: recording a paid order without a payment time sets `paid_at` to `placed_at`, so
  every paid order carries it, in the OLTP store and in the warehouse replica alike.
- A purchase (what counts for frequency, recency, spend and segment order rules) is a paid order with money
  left in it: not refunded in full (status `refunded`, or refunds reaching what was paid). Its value is
  `paid_fen - refunded_fen`.
"""

from datetime import datetime

from yutang.orders.schemas import OrderStatus

PAID_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED,
                           OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED})
PURCHASE_STATUSES = PAID_STATUSES - {OrderStatus.REFUNDED}


def is_paid(status: str) -> bool:
    """Whether an order in this status has been paid."""
    return status in PAID_STATUSES


def paid_time(status: str, *, paid_at: datetime | None, placed_at: datetime) -> datetime | None:
    """The payment time to record: the source's, else (for a paid order) when it was placed."""
    return paid_at or (placed_at if is_paid(status) else None)


def is_purchase(status: str, *, paid_fen: int, refunded_fen: int) -> bool:
    """Whether a paid order still counts as a purchase (not refunded in full)."""
    return status in PURCHASE_STATUSES and paid_fen > refunded_fen


def purchase_sql(alias: str = "") -> str:
    """The purchase test as SQL over the orders replica (columns status, paid_fen, refunded_fen)."""
    prefix = f"{alias}." if alias else ""
    statuses = ", ".join(f"'{status.value}'" for status in sorted(PURCHASE_STATUSES))
    return f"{prefix}status IN ({statuses}) AND {prefix}paid_fen > {prefix}refunded_fen"
