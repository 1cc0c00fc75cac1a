"""The pure core of the points ledger: lot allocation, expiry dates, reversal plans and an in-memory book.

No database here: the service applies these plans to locked rows, and the property tests drive both.
Points are integers; a lot is what one earn entry added, spent first-expiring-first (FEFO).
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Yutang's own ledger keys (order earnings and refunds, event rules, tasks, expiry, merges) live under this
# prefix, which client keys may not use: no client key can pre-empt or collide with one of Yutang's.
SYSTEM_KEY_PREFIX = "yutang:"


def system_key(*parts: object) -> str:
    """An idempotency key in Yutang's own namespace, e.g. system_key("merge", 3, 7) -> 'yutang:merge:3:7'."""
    return SYSTEM_KEY_PREFIX + ":".join(str(part) for part in parts)


class InsufficientPoints(Exception):
    """The unexpired lots do not hold enough points."""

    def __init__(self, available: int, wanted: int):
        super().__init__(f"only {available} points available, {wanted} wanted")
        self.available = available
        self.wanted = wanted


@dataclass
class Lot:
    """Points one earn entry added: what is left of them and when they expire (None: never)."""

    id: int
    remaining: int
    expires_at: datetime | None
    entry_id: int = 0


def _fefo_key(lot: Lot) -> tuple:
    # First-expiring first; lots that never expire last; ties by age.
    return (lot.expires_at is None, lot.expires_at or datetime.max, lot.id)


def live(lots: list[Lot], *, now: datetime) -> list[Lot]:
    """Lots with points left that have not expired, in spending order."""
    return sorted((lot for lot in lots if lot.remaining > 0 and (lot.expires_at is None or lot.expires_at > now)),
                  key=_fefo_key)


def available(lots: list[Lot], *, now: datetime) -> int:
    """Points that can be spent now."""
    return sum(lot.remaining for lot in live(lots, now=now))


def allocate(lots: list[Lot], points: int, *, now: datetime) -> list[tuple[int, int]]:
    """Which lots a redemption of `points` takes from (lot id, points), first-expiring first."""
    if points <= 0:
        raise ValueError("a redemption takes a positive number of points")
    plan, left = [], points
    for lot in live(lots, now=now):
        take = min(lot.remaining, left)
        plan.append((lot.id, take))
        left -= take
        if left == 0:
            return plan
    raise InsufficientPoints(points - left, points)


def reversal(lots: list[Lot], points: int, *, now: datetime,
             origin_lot_id: int | None) -> tuple[list[tuple[int, int]], int]:
    """Take back `points` an earn added: from its own lot first, then FEFO; returns (plan, shortfall)."""
    if points <= 0:
        raise ValueError("a reversal takes a positive number of points")
    ordered = live(lots, now=now)
    ordered.sort(key=lambda lot: lot.id != origin_lot_id)  # stable: the origin lot first, then FEFO
    plan, left = [], points
    for lot in ordered:
        if left == 0:
            break
        take = min(lot.remaining, left)
        plan.append((lot.id, take))
        left -= take
    return plan, left


def expiring(lots: list[Lot], *, now: datetime) -> list[tuple[int, int]]:
    """Lots whose expiry has passed with points left: (lot id, points to expire)."""
    return [(lot.id, lot.remaining) for lot in sorted(lots, key=_fefo_key)
            if lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= now]


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_for(earned_at: datetime, *, policy: str, months: int, fixed_month_day: str | None,
               zone: str) -> datetime | None:
    """When points earned at `earned_at` expire: end of the local day N months on ('rolling'), end of a
    fixed month-day of the following year ('fixed', e.g. "12-31"), or never ('never')."""
    local = earned_at.astimezone(ZoneInfo(zone)).date()
    if policy == "never":
        return None
    if policy == "rolling":
        last = add_months(local, months)
    elif policy == "fixed":
        month, day = (int(part) for part in (fixed_month_day or "12-31").split("-"))
        year = local.year + 1
        last = date(year, month, min(day, calendar.monthrange(year, month)[1]))
    else:
        raise ValueError(f"unknown expiry policy {policy!r}")
    return datetime.combine(last + timedelta(days=1), time(), tzinfo=ZoneInfo(zone))


def pro_rata(earned: int, *, refunded_fen: int, paid_fen: int) -> int:
    """Points to take back in total when `refunded_fen` of `paid_fen` has been refunded (all of it at 100%)."""
    if paid_fen <= 0 or refunded_fen <= 0:
        return 0
    return earned * min(refunded_fen, paid_fen) // paid_fen


@dataclass
class Entry:
    """One change in the in-memory book."""

    key: str
    kind: str
    points: int
    shortfall: int = 0


@dataclass
class Book:
    """One customer's account in memory, applying the same rules the store does (the property tests' model)."""

    allow_negative: bool = False
    balance: int = 0
    lots: list[Lot] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)
    earn_lots: dict[str, int] = field(default_factory=dict)
    reversed: dict[str, int] = field(default_factory=dict)
    shortfall: int = 0

    def earn(self, key: str, points: int, *, expires_at: datetime | None) -> Entry:
        """Add a lot (or pay back a negative balance first)."""
        if key in self.entries:
            return self.entries[key]
        self.balance += points
        lot = Lot(id=len(self.lots) + 1, remaining=min(points, max(self.balance, 0)), expires_at=expires_at)
        self.lots.append(lot)
        self.earn_lots[key] = lot.id
        self.entries[key] = Entry(key, "earn", points)
        return self.entries[key]

    def redeem(self, key: str, points: int, *, now: datetime) -> Entry:
        """Spend points FEFO; refuses (InsufficientPoints) rather than go negative."""
        if key in self.entries:
            return self.entries[key]
        self.expire(now=now)
        if self.balance < points:
            raise InsufficientPoints(max(self.balance, 0), points)
        self._take(allocate(self.lots, points, now=now))
        self.balance -= points
        self.entries[key] = Entry(key, "redeem", -points)
        return self.entries[key]

    def expire(self, *, now: datetime) -> list[Entry]:
        """Write an expire entry per lot past its date."""
        made = []
        for lot_id, points in expiring(self.lots, now=now):
            key = system_key("expire", lot_id)
            self._take([(lot_id, points)])
            self.balance -= points
            self.entries[key] = Entry(key, "expire", -points)
            made.append(self.entries[key])
        return made

    def reverse(self, key: str, earn_key: str, points: int, *, now: datetime) -> Entry | None:
        """Take back points an earn added, even if spent: negative balance if allowed, else a recorded shortfall."""
        if key in self.entries:
            return self.entries[key]
        points = min(points, self.entries[earn_key].points - self.reversed.get(earn_key, 0))
        if points <= 0:
            return None
        self.reversed[earn_key] = self.reversed.get(earn_key, 0) + points
        self.expire(now=now)
        plan, short = reversal(self.lots, points, now=now, origin_lot_id=self.earn_lots.get(earn_key))
        self._take(plan)
        taken = points - short
        shortfall = 0
        if short and self.allow_negative:
            taken = points
        else:
            shortfall = short
        self.balance -= taken
        self.shortfall += shortfall
        self.entries[key] = Entry(key, "reverse", -taken, shortfall)
        return self.entries[key]

    def _take(self, plan: list[tuple[int, int]]) -> None:
        by_id = {lot.id: lot for lot in self.lots}
        for lot_id, points in plan:
            by_id[lot_id].remaining -= points
