"""The pure rules of lifecycle stages and RFM classes: from a customer's facts to a stage, from scores to a class.

The warehouse computes the same rules set-based (`lifecycle/warehouse.py`); tests hold the two to each other.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The order operators read them in; stored values are these strings (the contract with segments).
VALUE_PURCHASES = ("day", "order")
STAGES = ("prospect", "new", "repeat", "loyal", "at_risk", "dormant", "churned")
RFM_CLASSES = ("important_value", "important_development", "important_retention", "important_recovery",
               "general_value", "general_development", "general_retention", "general_recovery")
# (R high, F high, M high) -> class: M decides important / general, then R and F the kind.
_CLASS_OF = {
    (True, True, True): "important_value", (True, False, True): "important_development",
    (False, True, True): "important_retention", (False, False, True): "important_recovery",
    (True, True, False): "general_value", (True, False, False): "general_development",
    (False, True, False): "general_retention", (False, False, False): "general_recovery",
}
HIGH_SCORE = 3  # a score of 3, 4 or 5 (of 1..5) counts as high
SCORES = 5


@dataclass(frozen=True)
class Thresholds:
    """A workspace's lifecycle and RFM settings (defaults are the settings a new workspace starts with)."""

    repeat_orders: int = 2  # paid orders that make a repeat customer
    loyal_events: int = 20  # engagement: this many events …
    loyal_event_days: int = 30  # … in the last this many days
    loyal_referrals: int = 1  # or this many completed referrals
    at_risk_days: int = 90  # days since the last purchase
    dormant_days: int = 180
    churned_days: int = 365
    rfm_window_days: int = 365  # RFM looks at purchases in the last this many days
    prediction_days: int = 365  # predicted value covers the next this many days
    # What the value models count as one purchase: "day" (a customer's paid orders on one local day are one
    # transaction, as the BG/NBD and Gamma-Gamma papers count) or "order" (each paid order).
    value_purchases: str = "day"


@dataclass(frozen=True)
class Facts:
    """What the stage depends on: paid orders, days since the last one, recent events, referrals."""

    orders: int
    days_since_last_purchase: int | None
    recent_events: int
    referrals: int


def stage(facts: Facts, thresholds: Thresholds) -> str:
    """The customer's lifecycle stage; lapsing (at risk → dormant → churned) outranks loyalty."""
    if facts.orders == 0 or facts.days_since_last_purchase is None:
        return "prospect"
    days = facts.days_since_last_purchase
    if days >= thresholds.churned_days:
        return "churned"
    if days >= thresholds.dormant_days:
        return "dormant"
    if days >= thresholds.at_risk_days:
        return "at_risk"
    if facts.orders >= thresholds.repeat_orders:
        engaged = facts.recent_events >= thresholds.loyal_events
        if engaged or facts.referrals >= thresholds.loyal_referrals:
            return "loyal"
        return "repeat"
    return "new"


def score(percent_rank: float) -> int:
    """A quintile score 1..5 from a percent rank (ties share a rank, hence a score): 1 + ⌊5·rank⌋, at most 5."""
    return min(SCORES, 1 + int(SCORES * percent_rank))


def rfm_class(r: int, f: int, m: int) -> str:
    """One of the eight classic RFM classes; a score is high from HIGH_SCORE up."""
    return _CLASS_OF[(r >= HIGH_SCORE, f >= HIGH_SCORE, m >= HIGH_SCORE)]


def local_day_start(day: date, zone: str) -> datetime:
    """The instant a local calendar day begins in the zone (as an aware datetime)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


def days_since(then: datetime, now: datetime, zone: str) -> int:
    """Whole local calendar days between two instants in the zone (0 on the same local day)."""
    tz = ZoneInfo(zone)
    return (now.astimezone(tz).date() - then.astimezone(tz).date()).days


def window_start(now: datetime, days: int, zone: str) -> datetime:
    """The start of "the last N days" in the zone (today and the N-1 local days before it); an instant before it
    is at least N local days old, so it is also where days_since ≥ N begins."""
    today = now.astimezone(ZoneInfo(zone)).date()
    return local_day_start(today - timedelta(days=days - 1), zone)
