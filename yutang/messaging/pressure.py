"""Contact pressure, decided per customer before a send (pure rules, no database).

Broadcasts hand every (customer, campaign) candidate with what is known of the customer (time zone, consents,
refusal, what they were sent recently) and get back, per candidate, send or suppressed with the reason:

- duplicate: the same campaign reached the customer through two overlapping audiences (kept once);
- holdout: the customer is in the workspace's global holdout, a stable hashed share that gets no marketing at all,
  against which marketing's incremental revenue is measured (`held_out`; the same hash in SQL, `held_out_sql`);
- consent_withdrawn:<channel> / refuses_personalised: marketing the customer said no to;
- cap:<name>: a frequency cap, global or per channel, over a rolling window, counting what was sent before
  and what this run already let through;
- wecom_monthly_cap: WeCom's own limit on group sends a customer receives per calendar month;
- quiet_hours: local time (customer's zone, else the workspace's) inside the quiet window, decided last: the
  message is not lost but deferred, `retry_at` says when the window ends (UTC), and it counts against the caps.
Competing campaigns are decided highest priority first, so a cap spends itself on the most important one.
Service messages skip the caps and quiet hours (consent still applies to marketing only).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Cap:
    """At most `limit` marketing messages per rolling `window`, on one channel or (channel None) on all."""

    name: str
    limit: int
    window: timedelta
    channel: str | None = None


@dataclass(frozen=True)
class Rules:
    """A workspace's pressure rules."""

    caps: tuple[Cap, ...] = ()
    quiet_start: time | None = None  # e.g. 21:00; with quiet_end 09:00 the window crosses midnight
    quiet_end: time | None = None
    timezone: str = "Asia/Shanghai"
    wecom_group_sends_per_month: int | None = 4
    holdout_bp: int = 0  # the global holdout's share of customers, in basis points


@dataclass(frozen=True)
class Sent:
    """A message the customer already received."""

    at: datetime
    channel: str
    purpose: str = "marketing"
    wecom_group_send: bool = False


@dataclass(frozen=True)
class Customer:
    """What the rules need to know about a customer."""

    id: int
    timezone: str | None = None
    consents: dict[str, str] = field(default_factory=dict)  # channel -> granted / withdrawn (in force)
    refuses_personalised: bool = False
    history: tuple[Sent, ...] = ()
    held_out: bool = False  # in the global holdout (held_out() with the workspace's share)


@dataclass(frozen=True)
class Candidate:
    """One campaign wanting to reach one customer on one channel."""

    customer_id: int
    campaign_id: int
    channel: str
    priority: int = 0
    purpose: str = "marketing"
    wecom_group_send: bool = False


@dataclass(frozen=True)
class Decision:
    """Send, or suppressed with the reason (and when a quiet-hours suppression could go out)."""

    customer_id: int
    campaign_id: int
    send: bool
    reason: str | None = None
    retry_at: datetime | None = None


CONSENT_CHANNEL = {"wecom": "wecom", "wechat_oa": "wechat", "wechat_mp": "wechat", "email": "email", "sms": "sms"}


# Fibonacci hashing modulo the Mersenne prime 2^31 - 1: consecutive ids land about 0.618 of the circle apart, so any
# run of ids (the oldest customers, a day's sign-ups) holds the share; every product stays within 64-bit integers,
# so SQL on DuckDB and PostgreSQL computes the same bits as Python.
_PRIME = 2_147_483_647
_STEP = 1_327_217_884
_SALT = 1_686_629_713  # turns each workspace's circle by a different large step, so workspaces hold different customers


def held_out(workspace_id: int, customer_id: int, share_bp: int) -> bool:
    """Whether a customer is in the workspace's global holdout of `share_bp` basis points (stable for life)."""
    spot = ((customer_id % _PRIME) * _STEP + (workspace_id * _SALT) % _PRIME) % _PRIME
    return spot * 10_000 < share_bp * _PRIME


def held_out_sql(column: str, workspace: str, share: str) -> str:
    """The same test in SQL for a customer id column and two parameter names (workspace id, share in bp)."""
    # mod(), not %: the warehouse's statements take %(name)s parameters.
    return (f"mod(mod({column}, {_PRIME}) * {_STEP} + mod(CAST(%({workspace})s AS BIGINT) * {_SALT}, {_PRIME}), "
            f"{_PRIME}) * 10000 < CAST(%({share})s AS BIGINT) * {_PRIME}")


def _quiet_until(rules: Rules, zone: str, now: datetime) -> datetime | None:
    """When the quiet window around `now` ends (UTC), or None when now is not quiet."""
    if rules.quiet_start is None or rules.quiet_end is None or rules.quiet_start == rules.quiet_end:
        return None
    local = now.astimezone(ZoneInfo(zone))
    clock = local.time().replace(tzinfo=None)
    start, end = rules.quiet_start, rules.quiet_end
    crosses = start > end
    quiet = (clock >= start or clock < end) if crosses else (start <= clock < end)
    if not quiet:
        return None
    end_day = local.date() + timedelta(days=1) if crosses and clock >= start else local.date()
    return datetime.combine(end_day, end, tzinfo=local.tzinfo).astimezone(now.tzinfo)


def _month_of(at: datetime, zone: str) -> tuple[int, int]:
    local = at.astimezone(ZoneInfo(zone))
    return local.year, local.month


def decide(candidates: list[Candidate], customers: dict[int, Customer], rules: Rules,
           now: datetime) -> list[Decision]:
    """A decision for every candidate, in the order given."""
    by_customer: dict[int, list[int]] = defaultdict(list)
    for index, candidate in enumerate(candidates):
        by_customer[candidate.customer_id].append(index)
    decisions: dict[int, Decision] = {}
    for customer_id, indexes in by_customer.items():
        customer = customers.get(customer_id) or Customer(id=customer_id)
        zone = customer.timezone or rules.timezone
        accepted: list[Sent] = []
        seen: set[int] = set()
        order = sorted(indexes, key=lambda i: (-candidates[i].priority, candidates[i].campaign_id, i))
        for index in order:
            c = candidates[index]

            def suppress(reason: str, retry_at: datetime | None = None, c=c, index=index) -> None:
                decisions[index] = Decision(c.customer_id, c.campaign_id, False, reason, retry_at)

            if c.campaign_id in seen:
                suppress("duplicate")
                continue
            seen.add(c.campaign_id)
            marketing = c.purpose == "marketing"
            if marketing and customer.held_out:
                suppress("holdout")
                continue
            if marketing and customer.refuses_personalised:
                suppress("refuses_personalised")
                continue
            consent = CONSENT_CHANNEL.get(c.channel, c.channel)
            if marketing and customer.consents.get(consent) == "withdrawn":
                suppress(f"consent_withdrawn:{consent}")
                continue
            if not marketing:
                decisions[index] = Decision(c.customer_id, c.campaign_id, True)
                continue
            sent = [s for s in customer.history if s.purpose == "marketing"] + accepted
            over = next((cap for cap in rules.caps
                         if (cap.channel is None or cap.channel == c.channel)
                         and sum(1 for s in sent if now - cap.window < s.at <= now
                                 and (cap.channel is None or s.channel == cap.channel)) >= cap.limit), None)
            if over is not None:
                suppress(f"cap:{over.name}")
                continue
            if c.wecom_group_send and rules.wecom_group_sends_per_month is not None:
                month = _month_of(now, zone)
                this_month = sum(1 for s in list(customer.history) + accepted
                                 if s.wecom_group_send and _month_of(s.at, zone) == month)
                if this_month >= rules.wecom_group_sends_per_month:
                    suppress("wecom_monthly_cap")
                    continue
            # A message held by the quiet hours still goes out (when they end), so it counts against the caps.
            accepted.append(Sent(at=now, channel=c.channel, wecom_group_send=c.wecom_group_send))
            until = _quiet_until(rules, zone, now)
            if until is not None:
                suppress("quiet_hours", until)
                continue
            decisions[index] = Decision(c.customer_id, c.campaign_id, True)
    return [decisions[i] for i in range(len(candidates))]
