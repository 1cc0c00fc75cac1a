"""Time helpers: everything is stored in UTC; windows are computed in the workspace's zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current instant as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime, *, assume_zone: str) -> datetime:
    """Aware UTC datetime; a naive value is read as wall time in assume_zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(assume_zone))
    return value.astimezone(UTC)


def parse_local(text: str, *, assume_zone: str) -> datetime:
    """Parse an ISO-8601 or 'YYYY-MM-DD HH:MM:SS' timestamp; naive text is wall time in assume_zone."""
    value = datetime.fromisoformat(text.strip().replace("/", "-"))
    return as_utc(value, assume_zone=assume_zone)
