"""The commission rules as pure functions: shares per order line and level, the cap per order, refunds, payouts.

Money is integer fen and rates are basis points (1 bp = 0.01%). A share is paid only on what the buyer paid and
has not had back: the line's amount less its refunds. A refund reverses, on the lines it touches only, the share
of each entry that the refunded part of the line's base carried; a whole refund reverses the entry exactly.
"""

from dataclasses import dataclass
from enum import StrEnum

BP = 10_000
MAX_DEPTH = 2  # 《禁止传销条例》: three levels counting the organiser is the line; 0, 1 or 2 commission levels
DEFAULT_CAP_BP = 3_000  # at most 30% of an order's paid amount goes to commissions


class State(StrEnum):
    """An entry's state: pending at payment, frozen in the after-sales window, then available, then paid."""

    PENDING = "pending"
    FROZEN = "frozen"
    AVAILABLE = "available"
    PAID = "paid"
    REVERSED = "reversed"


OPEN_STATES = frozenset({State.PENDING, State.FROZEN, State.AVAILABLE})  # a refund may still reverse these


@dataclass(frozen=True)
class Line:
    """One order line as the ledger sees it: its number, what it sold, its amount and what was refunded on it."""

    line_no: int
    sku: str
    category: str | None
    amount_fen: int
    refunded_fen: int = 0

    @property
    def base_fen(self) -> int:
        """What was paid and is still kept on this line."""
        return max(self.amount_fen - self.refunded_fen, 0)


@dataclass(frozen=True)
class Rates:
    """Commission rates in bp for one level: by SKU first, then category, then the default."""

    default_bp: int = 0
    by_sku: tuple[tuple[str, int], ...] = ()
    by_category: tuple[tuple[str, int], ...] = ()

    def for_line(self, line: Line) -> int:
        """The rate that applies to a line."""
        sku = dict(self.by_sku)
        if line.sku in sku:
            return sku[line.sku]
        category = dict(self.by_category)
        if line.category is not None and line.category in category:
            return category[line.category]
        return self.default_bp


@dataclass(frozen=True)
class Share:
    """What one beneficiary earns on one order line at one level."""

    line_no: int
    level: int
    beneficiary: int
    base_fen: int
    rate_bp: int
    amount_fen: int


def attribute_refunds(lines: list[Line], *, order_refunded_fen: int) -> list[Line]:
    """Lines with the order's refund that no line names spread over them pro rata (largest remainder), so an
    order-level refund touches the lines it must and their refunds add up to the order's."""
    named = sum(line.refunded_fen for line in lines)
    rest = max(order_refunded_fen - named, 0)
    room = [line.amount_fen - line.refunded_fen for line in lines]
    total_room = sum(room)
    if rest == 0 or total_room == 0:
        return list(lines)
    rest = min(rest, total_room)
    exact = [rest * r for r in room]
    parts = [e // total_room for e in exact]
    order = sorted(range(len(lines)), key=lambda i: (-(exact[i] % total_room), i))
    for i in order[: rest - sum(parts)]:
        parts[i] += 1
    return [Line(line.line_no, line.sku, line.category, line.amount_fen, line.refunded_fen + part)
            for line, part in zip(lines, parts, strict=True)]


def cap_shares(shares: list[Share], *, cap_fen: int) -> list[Share]:
    """Scale shares down so their sum is at most cap_fen (largest remainder, stable); unchanged when under."""
    total = sum(s.amount_fen for s in shares)
    if total <= cap_fen:
        return list(shares)
    exact = [s.amount_fen * cap_fen for s in shares]
    parts = [e // total for e in exact]
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] % total), i))
    for i in order[: cap_fen - sum(parts)]:
        parts[i] += 1
    return [Share(s.line_no, s.level, s.beneficiary, s.base_fen, s.rate_bp, part)
            for s, part in zip(shares, parts, strict=True)]


def compute(lines: list[Line], *, chain: list[int], rates: list[Rates], depth: int, paid_fen: int,
            cap_bp: int = DEFAULT_CAP_BP) -> list[Share]:
    """The shares an order pays: one per line and level for the first `depth` beneficiaries of `chain`
    (level 1 first), on each line's paid, non-refunded amount, capped at cap_bp of the order's kept amount."""
    if not 0 <= depth <= MAX_DEPTH:
        raise ValueError(f"commission depth {depth} is not 0, 1 or 2")
    shares = []
    for level, beneficiary in enumerate(chain[:depth], start=1):
        level_rates = rates[level - 1] if level - 1 < len(rates) else Rates()
        for line in lines:
            rate = level_rates.for_line(line)
            amount = line.base_fen * rate // BP
            if amount > 0:
                shares.append(Share(line.line_no, level, beneficiary, line.base_fen, rate, amount))
    kept = max(paid_fen - sum(line.refunded_fen for line in lines), 0)
    return [s for s in cap_shares(shares, cap_fen=kept * cap_bp // BP) if s.amount_fen > 0]


def reversal_target(*, amount_fen: int, base_fen: int, refunded_since_fen: int) -> int:
    """How much of an entry a refund of `refunded_since_fen` on its line (since the entry was posted) takes back
    in all: the refunded part of the base's share, rounded up so a whole refund takes all of it."""
    if base_fen <= 0:
        return amount_fen
    refunded = min(max(refunded_since_fen, 0), base_fen)
    return -(-amount_fen * refunded // base_fen)


def reversal_due(*, amount_fen: int, base_fen: int, refunded_since_fen: int, reversed_fen: int) -> int:
    """What is still to reverse on an entry after earlier reversals (never negative, never past the amount)."""
    target = reversal_target(amount_fen=amount_fen, base_fen=base_fen, refunded_since_fen=refunded_since_fen)
    return max(min(target, amount_fen) - reversed_fen, 0)


def state_after_reversal(state: State, *, amount_fen: int, reversed_fen: int) -> State:
    """An entry reversed in full is `reversed`; a partly reversed one keeps its state."""
    return State.REVERSED if reversed_fen >= amount_fen else state


def payout_pick(entries: list[tuple[int, int]], *, limit_fen: int | None) -> list[int]:
    """Ids of the available entries (id, open fen; oldest first) a payout takes whole, up to limit_fen."""
    taken, total = [], 0
    for entry_id, open_fen in entries:
        if open_fen <= 0:
            continue
        if limit_fen is not None and total + open_fen > limit_fen:
            continue
        taken.append(entry_id)
        total += open_fen
    return taken


def withholding(amount_fen: int, *, rate_bp: int) -> int:
    """Tax withheld on a payout (rounded down to the fen)."""
    return amount_fen * rate_bp // BP
