"""Report windows: today / 7 / 30 days / a custom range of local days, the period before, and their UTC instants."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from yutang.kit.errors import Invalid

MAX_DAYS = 366  # the longest custom range (a year, leap day included)


class Period(StrEnum):
    """The ranges the dashboard offers; custom takes start and end."""

    TODAY = "today"
    DAYS_7 = "7d"
    DAYS_30 = "30d"
    CUSTOM = "custom"


LENGTHS = {Period.TODAY: 1, Period.DAYS_7: 7, Period.DAYS_30: 30}


@dataclass(frozen=True)
class Window:
    """Local calendar days first..last (both included) in a zone."""

    first: date
    last: date
    timezone: str

    @property
    def days(self) -> int:
        """How many days the window spans."""
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first day's local midnight, in UTC."""
        return _midnight(self.first, self.timezone)

    @property
    def end(self) -> datetime:
        """The midnight after the last day, in UTC (the window is [start, end))."""
        return _midnight(self.last + timedelta(days=1), self.timezone)

    def previous(self) -> "Window":
        """The window of the same length just before this one."""
        return Window(self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.timezone)

    def trailing(self, days: int) -> tuple[datetime, datetime]:
        """The last `days` local days of the window as [start, end) in UTC (active customers: DAU, WAU, MAU)."""
        return _midnight(self.last - timedelta(days=days - 1), self.timezone), self.end


def _midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def resolve(period: str, *, start: date | None, end: date | None, timezone: str, now: datetime) -> Window:
    """The window a request names: a preset ending today (local), or start..end for custom."""
    try:
        chosen = Period(period)
    except ValueError:
        raise Invalid(f"unknown period {period!r}: one of {', '.join(p.value for p in Period)}",
                      field="period") from None
    today = now.astimezone(ZoneInfo(timezone)).date()
    if chosen is not Period.CUSTOM:
        return Window(today - timedelta(days=LENGTHS[chosen] - 1), today, timezone)
    if start is None:
        raise Invalid("a custom range needs start (a local date)", field="start")
    if end is None:
        raise Invalid("a custom range needs end (a local date)", field="end")
    if end < start:
        raise Invalid("end is before start", field="end")
    if (end - start).days + 1 > MAX_DAYS:
        raise Invalid(f"a range spans at most {MAX_DAYS} days", field="end")
    return Window(start, end, timezone)
