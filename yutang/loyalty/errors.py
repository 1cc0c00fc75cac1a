"""Loyalty errors, each carrying its HTTP status and the field at fault."""

from yutang.kit.errors import Conflict, Invalid


class NotEnoughPoints(Conflict):
    """A redemption asks for more points than the unexpired lots hold."""

    code, title = "not-enough-points", "Not enough points"


class CouponUnavailable(Conflict):
    """The coupon was already redeemed (for another order), expired, or is out of stock / over the limit."""

    code, title = "coupon-unavailable", "Coupon unavailable"


class CouponNotApplicable(Invalid):
    """The order does not meet the coupon's threshold or channel scope."""

    code, title = "coupon-not-applicable", "Coupon not applicable"


class KeyReused(Conflict):
    """An idempotency key was sent again with a different request."""

    code, title = "idempotency-key-reused", "Idempotency key reused"
