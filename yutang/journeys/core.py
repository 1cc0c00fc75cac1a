"""The step semantics as pure functions (no database, no clock): when a wait falls due, which way a branch goes,
whether an event passes filters, whether a customer may enter again, how long a failed step waits to retry."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yutang.journeys.graph import (
    Branch,
    EventHappened,
    InSegment,
    Op,
    PropertyFilter,
    Reentry,
    Variant,
    Wait,
    WaitFor,
    WaitUntil,
)

MAX_ATTEMPTS = 5  # a step that fails this many times parks the enrolment as failed, with the reason


def due_at(wait: Wait, *, now: datetime, zone: str) -> datetime:
    """When a wait reached at `now` ends: after its duration, or at its local time of day `days` calendar days on
    (today's if still ahead when `days` is 0, else tomorrow's), in the workspace's zone, never UTC's."""
    if wait.at is None:
        return now + wait.duration
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    hour, minute = (int(part) for part in wait.at.split(":"))
    day = local.date() + timedelta(days=wait.days)
    # Through UTC and back, so a time the clocks skip (DST) lands on the real instant after the gap.
    target = datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(ZoneInfo("UTC"))
    if target <= now:
        target = datetime.combine(day + timedelta(days=1), time(hour, minute), tzinfo=tz).astimezone(ZoneInfo("UTC"))
    return target


def _lookup(properties: dict[str, Any], path: str) -> tuple[bool, Any]:
    value: Any = properties
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _compare(op: Op, actual: Any, expected: Any) -> bool:
    if op is Op.EQ:
        return actual == expected or (actual is not None and str(actual) == str(expected))
    if op is Op.NE:
        return not _compare(Op.EQ, actual, expected)
    try:
        left, right = float(actual), float(expected)
    except (TypeError, ValueError):
        return False
    return {Op.GT: left > right, Op.GTE: left >= right, Op.LT: left < right, Op.LTE: left <= right}[op]


def passes(filters: list[PropertyFilter], properties: dict[str, Any]) -> bool:
    """True when the event's properties pass every filter."""
    for item in filters:
        found, actual = _lookup(properties or {}, item.property)
        if item.op is Op.EXISTS:
            if found != (item.value is not False):
                return False
        elif not found or not _compare(item.op, actual, item.value):
            return False
    return True


@dataclass(frozen=True)
class Facts:
    """What a branch may ask about the customer: the segments they are in now, the last time of each event."""

    segments: frozenset[int] = frozenset()
    last_seen: dict[str, datetime] = field(default_factory=dict)
    since: datetime | None = None  # when the last wait began (or the enrolment entered)


def holds(condition: InSegment | EventHappened, facts: Facts) -> bool:
    """Whether a branch's condition holds for the customer."""
    if isinstance(condition, InSegment):
        return condition.segment_id in facts.segments
    at = facts.last_seen.get(condition.event)
    return at is not None and (facts.since is None or at >= facts.since)


def choose(branch: Branch, facts: Facts) -> str | None:
    """The step a branch leads to (None: the journey ends)."""
    return branch.yes if holds(branch.condition, facts) else branch.no


def may_enter(policy: Reentry, *, days: int | None, last_entered: datetime | None, active: bool,
              now: datetime) -> bool:
    """Whether a customer may start an enrolment: never while one is active; again per the re-entry policy."""
    if active:
        return False
    if last_entered is None or policy is Reentry.ALWAYS:
        return True
    if policy is Reentry.NEVER:
        return False
    return now >= last_entered + timedelta(days=days or 0)


def backoff(attempts: int) -> timedelta:
    """How long a step that failed `attempts` times waits before its next try (1, 4, 16, 64 minutes)."""
    return timedelta(minutes=4 ** max(attempts - 1, 0))


def bucket(salt: str, customer_id: int) -> float:
    """A customer's stable place in [0, 1) for a salt: the first 8 bytes of SHA-256 of `salt:customer`."""
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(salt: str, customer_id: int, variants: list[Variant]) -> Variant:
    """The variant a customer gets: their bucket falls in the variant's share of the weights (same salt and
    customer, same variant; a new salt reshuffles)."""
    point = bucket(salt, customer_id) * sum(variant.weight for variant in variants)
    for variant in variants:
        if point < variant.weight:
            return variant
        point -= variant.weight
    return variants[-1]


def first_due(step: object, *, now: datetime, zone: str) -> datetime:
    """When a step reached at `now` is first due: a wait when it ends, waiting for an event at its timeout, any
    other step (a condition's first check included) now."""
    if isinstance(step, Wait):
        return due_at(step, now=now, zone=zone)
    if isinstance(step, WaitFor):
        return now + step.limit
    return now


def waited_for(step: WaitFor, facts: Facts) -> str | None:
    """Where waiting for an event leads once due or woken: `next` if the event happened since the wait began, else
    `timeout`."""
    return step.next if holds(EventHappened(kind="event", event=step.event), facts) else step.timeout


@dataclass(frozen=True)
class Recheck:
    """The condition does not hold yet: look again at `at`."""

    at: datetime


def waited_until(step: WaitUntil, facts: Facts, *, now: datetime) -> str | None | Recheck:
    """Where waiting for a condition leads at a check: `next` when it holds, `timeout` once `max_days` since the
    wait began have passed, else a later check (never after the maximum)."""
    if holds(step.condition, facts):
        return step.next
    limit = (facts.since or now) + timedelta(days=step.max_days)
    if now >= limit:
        return step.timeout
    return Recheck(at=min(now + timedelta(minutes=step.check_minutes), limit))
