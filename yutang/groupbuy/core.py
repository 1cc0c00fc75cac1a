"""The group-buy rules as a pure core (no database, no clock): deposits, joining limits, the cut-off decision,
what is refunded or asked for, no-shows, after-sales money and masked names."""

from dataclasses import dataclass
from enum import StrEnum

# 民法典 Art. 586: a 定金 above 20% of the contract has no 定金 effect, so we refuse it outright.
EARNEST_MAX_NUMERATOR, EARNEST_MAX_DENOMINATOR = 1, 5


class DepositKind(StrEnum):
    """What the buyer pays on joining, shown to them before they join."""

    NONE = "none"              # pay everything at pick-up / after cut-off
    EARNEST = "earnest"        # 定金: ≤ 20%, forfeited by a buyer who walks away, doubled back by a defaulting seller
    ADVANCE = "advance"        # 订金: a refundable advance
    FULL = "full"              # full prepayment


class Decision(StrEnum):
    """What the cut-off decides for one item."""

    AHEAD = "ahead"
    CANCELLED = "cancelled"


class Ending(StrEnum):
    """How a confirmed or cancelled line ends."""

    CANCELLED_BY_MINIMUM = "cancelled_by_minimum"  # the item missed its minimum: nobody's fault
    PICKED_UP = "picked_up"
    BUYER_WALKED_AWAY = "buyer_walked_away"        # a no-show, or a buyer who refuses the balance
    SELLER_DEFAULTED = "seller_defaulted"          # confirmed, then the shop could not deliver


@dataclass(frozen=True)
class Settlement:
    """Money that moves when a line ends, in fen: back to the buyer, kept by the shop, still to be paid."""

    refund_fen: int = 0
    kept_fen: int = 0
    balance_due_fen: int = 0


def deposit_problem(kind: DepositKind, *, price_fen: int, deposit_fen: int) -> str | None:
    """Why a deposit does not fit its kind and the item's price, or None when it does."""
    if deposit_fen < 0:
        return "a deposit cannot be negative"
    if kind is DepositKind.NONE and deposit_fen:
        return "no deposit is taken, so the deposit must be 0"
    if kind is DepositKind.FULL and deposit_fen not in (0, price_fen):
        return "a full prepayment is the whole price"
    if kind is DepositKind.EARNEST:
        if deposit_fen == 0:
            return "a 定金 must be more than 0"
        if deposit_fen * EARNEST_MAX_DENOMINATOR > price_fen * EARNEST_MAX_NUMERATOR:
            return f"a 定金 is at most 20% of the price ({price_fen // 5} fen of {price_fen})"
    if kind is DepositKind.ADVANCE and not 0 < deposit_fen <= price_fen:
        return "an 订金 is more than 0 and at most the price"
    return None


def upfront_fen(kind: DepositKind, *, price_fen: int, deposit_fen: int, quantity: int) -> int:
    """What the buyer pays on joining for `quantity` units."""
    if kind is DepositKind.NONE:
        return 0
    if kind is DepositKind.FULL:
        return price_fen * quantity
    return deposit_fen * quantity


def join_problem(*, quantity: int, per_person_limit: int | None, already_mine: int,
                 remaining: int | None) -> str | None:
    """Why `quantity` more units cannot be taken by this buyer, or None when they can."""
    if quantity <= 0:
        return "the quantity must be at least 1"
    if per_person_limit is not None and already_mine + quantity > per_person_limit:
        left = max(per_person_limit - already_mine, 0)
        return f"at most {per_person_limit} per person; {left} left for this buyer"
    if remaining is not None and quantity > remaining:
        return f"only {max(remaining, 0)} left of this item's cap"
    return None


def decide(*, minimum: int, total: int) -> Decision:
    """An item goes ahead when its joined total reaches its minimum, else it is cancelled."""
    return Decision.AHEAD if total >= minimum else Decision.CANCELLED


def at_cutoff(decision: Decision, *, price_fen: int, quantity: int, paid_fen: int) -> Settlement:
    """What a line's cut-off asks for: the balance of a confirmed line, the refund of a cancelled one."""
    if decision is Decision.CANCELLED:
        return Settlement(refund_fen=paid_fen)
    return Settlement(balance_due_fen=max(price_fen * quantity - paid_fen, 0))


def settle(kind: DepositKind, ending: Ending, *, deposit_fen: int, quantity: int, paid_fen: int) -> Settlement:
    """The money of a line that ends in `ending`, after whatever it paid (`paid_fen`)."""
    if ending is Ending.PICKED_UP:
        return Settlement(kept_fen=paid_fen)
    if ending is Ending.CANCELLED_BY_MINIMUM:
        return Settlement(refund_fen=paid_fen)
    earnest = deposit_fen * quantity if kind is DepositKind.EARNEST else 0
    if ending is Ending.SELLER_DEFAULTED:
        # 民法典 Art. 587: the party who received the 定金 and defaults returns it double.
        return Settlement(refund_fen=paid_fen + min(earnest, paid_fen))
    # The buyer walked away: a 定金 is forfeited, everything else they paid goes back.
    if kind is DepositKind.FULL:
        return Settlement(kept_fen=paid_fen)  # the goods were made for them and wait at the point
    kept = min(earnest, paid_fen)
    return Settlement(refund_fen=paid_fen - kept, kept_fen=kept)


@dataclass(frozen=True)
class AfterSale:
    """A line's honest figures after after-sales: revenue kept, cost borne, their difference."""

    revenue_fen: int
    cost_fen: int

    @property
    def profit_fen(self) -> int:
        """Revenue less cost (negative when a fresh refund is given without return)."""
        return self.revenue_fen - self.cost_fen


def after_sale(*, paid_fen: int, cost_fen: int, refund_fen: int, returned: bool) -> AfterSale:
    """Revenue and cost after a refund: a refund without return (fresh goods) keeps the cost; a return gives the
    goods back, so the refunded share of the cost goes too."""
    if not 0 <= refund_fen <= paid_fen:
        raise ValueError("a refund is between 0 and what was paid")
    revenue = paid_fen - refund_fen
    if not returned or paid_fen == 0:
        return AfterSale(revenue_fen=revenue, cost_fen=cost_fen)
    return AfterSale(revenue_fen=revenue, cost_fen=cost_fen - cost_fen * refund_fen // paid_fen)


def masked(name: str | None) -> str:
    """A buyer's name on the public list: the first character and one star (王*), or * when unknown."""
    name = (name or "").strip()
    return f"{name[0]}*" if name else "*"


class LineStatus(StrEnum):
    """Where a joined line stands."""

    JOINED = "joined"          # before the cut-off
    CONFIRMED = "confirmed"    # its item went ahead; waiting for pick-up
    CANCELLED = "cancelled"    # its item missed the minimum
    PICKED_UP = "picked_up"    # verified at the point (核销)
    NO_SHOW = "no_show"        # not collected by the end of pick-up
    REFUNDED = "refunded"      # refunded after sale


def verification_problem(status: LineStatus) -> str | None:
    """Why a pick-up code cannot be verified now, or None when it can (each code verifies once)."""
    return {
        LineStatus.JOINED: "the group-buy has not been cut off yet",
        LineStatus.CANCELLED: "this item was cancelled at the cut-off",
        LineStatus.PICKED_UP: "this code was verified already",
        LineStatus.NO_SHOW: "this line was marked as not collected",
        LineStatus.REFUNDED: "this line was refunded",
    }.get(status)
