"""The referral rules as pure functions: programme checks, attribution, rewards, tiers, fraud flags, the share tree.

The lines this keeps (docs/referral.md): 《禁止传销条例》 forbids pay by number recruited, entry fees (buying goods
to qualify included) and pay on a downline's sales past three levels counting the organiser, so commission depth
is 0, 1 or 2; WeChat forbids rewarding the act of sharing, so a reward follows the invitee's conversion only.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import median

from yutang.commissions.core import BP, DEFAULT_CAP_BP, MAX_DEPTH


class Trigger(StrEnum):
    """What an invitee must do for the inviter's reward: a conversion, never a share."""

    STILL_FRIEND = "still_friend"  # added on WeCom and still a friend after N days
    FIRST_ORDER = "first_order"  # a first paid order at or above a minimum


class RewardState(StrEnum):
    """pending → approved / flagged / voided → issued."""

    PENDING = "pending"
    APPROVED = "approved"
    FLAGGED = "flagged"
    VOIDED = "voided"
    ISSUED = "issued"


SHARING_TRIGGERS = frozenset({"share", "shares", "likes", "assist", "助力", "集赞", "forward"})


@dataclass(frozen=True)
class Violation:
    """A configuration refused: the field at fault, the rule it breaks (a stable code) and why."""

    field: str
    rule: str
    message: str


def check_programme(config: dict) -> list[Violation]:
    """Every rule a programme's configuration breaks (empty when it may be saved)."""
    found = []
    depth = config.get("commission_depth", 0)
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_DEPTH:
        found.append(Violation("commission_depth", "depth-over-two",
                               f"commission depth {depth} is refused: 0, 1 or 2 levels only (《禁止传销条例》: three "
                               "levels counting the organiser is pyramid selling)"))
    if config.get("recruiting_reward_fen") or config.get("recruiting_reward_points"):
        found.append(Violation("recruiting_reward", "no-recruiting-reward",
                               "a reward for recruiting distributors is refused (《禁止传销条例》 forbids pay by "
                               "number recruited)"))
    if config.get("entry_product_fen") or config.get("entry_product_sku"):
        found.append(Violation("entry_product", "no-paid-entry",
                               "a paid entry product is refused (《禁止传销条例》 forbids entry fees, buying goods to "
                               "qualify included)"))
    trigger = (config.get("reward") or {}).get("trigger", Trigger.FIRST_ORDER)
    if trigger in SHARING_TRIGGERS or trigger not in {t.value for t in Trigger}:
        found.append(Violation("reward.trigger", "conversion-only",
                               f"a reward for '{trigger}' is refused: rewards follow the invitee's conversion (still a "
                               "friend after N days, or a first paid order), never sharing"))
    cap = config.get("cap_bp", DEFAULT_CAP_BP)
    if not isinstance(cap, int) or not 0 <= cap <= DEFAULT_CAP_BP:
        found.append(Violation("cap_bp", "cap-per-order",
                               f"the commission cap per order is at most {DEFAULT_CAP_BP} bp (30%)"))
    for level, rate in enumerate(config.get("rates_bp", []), start=1):
        if not isinstance(rate, int) or not 0 <= rate <= BP:
            found.append(Violation(f"rates_bp.{level - 1}", "rate-range", "a rate is between 0 and 10000 bp"))
    if len(config.get("rates_bp", [])) > MAX_DEPTH:
        found.append(Violation("rates_bp", "depth-over-two", "rates for more than two levels are refused"))
    counts = [tier.get("count", 0) for tier in config.get("tiers", [])]
    if any(c <= 0 for c in counts) or counts != sorted(set(counts)):
        found.append(Violation("tiers", "tiers-ascending", "tier counts are positive and strictly ascending"))
    return found


@dataclass(frozen=True)
class Touch:
    """An invitee reached through an inviter's code or link at a time."""

    inviter: int
    at: datetime


def attribute(touches: list[Touch], *, converted_at: datetime, window_days: int,
              referee: int, referee_was_customer: bool) -> int | None:
    """The inviter credited for a referee: the first touch inside the window before conversion wins; none for
    an existing customer or for oneself."""
    if referee_was_customer:
        return None
    start = converted_at - timedelta(days=window_days)
    inside = [t for t in touches if start <= t.at <= converted_at and t.inviter != referee]
    if not inside:
        return None
    return min(inside, key=lambda t: (t.at, t.inviter)).inviter


@dataclass(frozen=True)
class Conversion:
    """What a referee has done so far."""

    added_at: datetime | None = None
    still_friend: bool = False
    first_paid_fen: int | None = None
    refunded: bool = False


def reward_earned(reward: dict, facts: Conversion, *, now: datetime) -> bool:
    """Whether the referee's conversion earns the inviter's reward (refunds and lost friends never do)."""
    if facts.refunded:
        return False
    trigger = reward.get("trigger", Trigger.FIRST_ORDER)
    if trigger == Trigger.STILL_FRIEND:
        days = reward.get("days", 7)
        return (facts.added_at is not None and facts.still_friend
                and now >= facts.added_at + timedelta(days=days))
    if trigger == Trigger.FIRST_ORDER:
        return facts.first_paid_fen is not None and facts.first_paid_fen >= reward.get("min_order_fen", 0)
    return False


def hold_over(*, earned_at: datetime, hold_days: int, now: datetime) -> bool:
    """Whether the refund window (the hold) has closed, so an approved reward may be issued."""
    return now >= earned_at + timedelta(days=hold_days)


def tiers_reached(tiers: list[dict], *, valid: int, issued: set[int]) -> list[dict]:
    """Tiers (ascending counts) the inviter's valid invitees reach that were not issued yet."""
    return [tier for tier in tiers if tier["count"] <= valid and tier["count"] not in issued]


@dataclass(frozen=True)
class Person:
    """What fraud checks know of someone: hashed identities and the devices / networks / payers seen."""

    id: int
    phone: str | None = None
    unionid: str | None = None
    devices: frozenset[str] = frozenset()
    networks: frozenset[str] = frozenset()
    payers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Flag:
    """A fraud flag and why."""

    code: str
    reason: str


@dataclass
class Context:
    """The inviter's recent activity: referrals in the velocity window, referees' devices, the invite tree."""

    recent_invites: int = 0
    velocity_limit: int = 20
    referee_devices: dict[str, int] = field(default_factory=dict)  # device → invitees of this inviter on it
    cluster_limit: int = 3
    ancestors: frozenset[int] = frozenset()  # who invited the inviter, up the tree
    coupons_from_referees: int = 0


def fraud_flags(inviter: Person, referee: Person, context: Context) -> list[Flag]:
    """Every reason to hold a referral for review, each saying why."""
    flags = []
    for what, mine, theirs in (("phone", inviter.phone, referee.phone), ("unionid", inviter.unionid, referee.unionid)):
        if mine and mine == theirs:
            flags.append(Flag("self-referral", f"inviter and invitee share a {what}"))
    for what, mine, theirs in (("device", inviter.devices, referee.devices), ("payment identity", inviter.payers,
                                                                               referee.payers)):
        if mine & theirs:
            flags.append(Flag("self-referral", f"inviter and invitee share a {what}"))
    if referee.id == inviter.id or referee.id in context.ancestors:
        flags.append(Flag("circular", "the invitee is the inviter or invited them, up the tree"))
    if context.recent_invites + 1 > context.velocity_limit:
        flags.append(Flag("velocity", f"more than {context.velocity_limit} invitees for this inviter in the window"))
    for device in sorted(referee.devices):
        if context.referee_devices.get(device, 0) + 1 > context.cluster_limit:
            flags.append(Flag("cluster", f"more than {context.cluster_limit} invitees of this inviter on one device"))
            break
    if context.coupons_from_referees >= 3:
        flags.append(Flag("coupon-cycling", "the inviter keeps redeeming coupons their invitees were given"))
    return flags


@dataclass(frozen=True)
class Edge:
    """One referral in the tree: who invited whom, when each joined, whether it counted and its cost."""

    inviter: int
    referee: int
    at: datetime
    valid: bool
    flagged: bool = False
    cost_fen: int = 0


@dataclass(frozen=True)
class TreeFigures:
    """A programme's share tree in figures."""

    participants: int
    invitees: int
    valid: int
    k_factor: float
    cycle_hours: float | None
    cost_per_valid_fen: int | None
    flag_rate: float
    depth: int


def tree_figures(edges: list[Edge], *, seeds: set[int]) -> TreeFigures:
    """K-factor (valid invitees per inviter who took part), cycle time (median hours from an inviter's own
    arrival to their invitees'), cost per valid invitee, flag rate and the tree's depth."""
    inviters = {e.inviter for e in edges}
    valid = [e for e in edges if e.valid]
    joined = {e.referee: e.at for e in edges}
    cycles = [(e.at - joined[e.inviter]).total_seconds() / 3600 for e in edges if e.inviter in joined]
    parent = {e.referee: e.inviter for e in edges}
    depth = 0
    for node in parent:
        steps, seen = 0, set()
        while node in parent and node not in seen:
            seen.add(node)
            node = parent[node]
            steps += 1
        depth = max(depth, steps)
    return TreeFigures(
        participants=len(inviters | seeds), invitees=len(edges), valid=len(valid),
        k_factor=round(len(valid) / len(inviters | seeds), 3) if inviters | seeds else 0.0,
        cycle_hours=round(median(cycles), 1) if cycles else None,
        cost_per_valid_fen=sum(e.cost_fen for e in edges) // len(valid) if valid else None,
        flag_rate=round(sum(e.flagged for e in edges) / len(edges), 3) if edges else 0.0, depth=depth)
