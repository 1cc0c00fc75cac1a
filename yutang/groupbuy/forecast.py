"""Sell-then-produce forecasting: a suggested quantity per SKU for the next production date from its history by
weekday, and the actual-versus-forecast error of each past round. Pure (no database, no clock)."""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

SEASON = 7  # days: a bakery's week
MIN_SEASONAL = 2 * SEASON  # Holt-Winters needs two full weeks of daily rounds


@dataclass(frozen=True)
class Round:
    """One past round: what the forecast said, what was sold, and the error (actual − forecast)."""

    day: date
    forecast: int
    actual: int

    @property
    def error(self) -> int:
        """Units sold above (positive) or below (negative) the forecast."""
        return self.actual - self.forecast


def _daily(history: dict[date, int], until: date) -> list[int] | None:
    """The history as a contiguous daily series ending the day before `until`, or None when a day is missing."""
    days = sorted(day for day in history if day < until)
    if not days or (until - days[0]).days != len(days):
        return None
    return [history[day] for day in days]


def suggest(history: dict[date, int], day: date) -> int:
    """Units to make on `day`: Holt-Winters with a weekly season (statsmodels) over two weeks or more of daily
    rounds; otherwise the mean of earlier rounds on the same weekday; otherwise the mean of all; 0 without history."""
    series = _daily(history, day)
    if series is not None and len(series) >= MIN_SEASONAL and max(series) > 0:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing  # heavy; only when there is enough history

        fitted = ExponentialSmoothing(np.asarray(series, dtype=float), trend=None, seasonal="add",
                                      seasonal_periods=SEASON, initialization_method="estimated").fit()
        return max(int(round(float(fitted.forecast(1)[0]))), 0)
    before = {d: units for d, units in history.items() if d < day}
    same = [units for d, units in before.items() if d.weekday() == day.weekday()]
    pool = same or list(before.values())
    return int(round(sum(pool) / len(pool))) if pool else 0


def rounds(history: dict[date, int], *, last: int = 14) -> list[Round]:
    """The last rounds, each forecast from the history before it, with what was actually sold."""
    days = sorted(history)[-last:]
    return [Round(day=day, forecast=suggest(history, day), actual=history[day]) for day in days]


def next_day(history: dict[date, int], today: date) -> date:
    """The next production date: the day after the latest round, or tomorrow."""
    return max(max(history, default=today), today) + timedelta(days=1)


def mean_absolute_percentage(errors: list[Round]) -> float | None:
    """Mean of |error| / actual over rounds that sold something (None when none did)."""
    scored = [abs(r.error) / r.actual for r in errors if r.actual]
    return sum(scored) / len(scored) if scored else None
