"""Planning broadcasts in the warehouse: one set-based query gathers every campaign's audience with what the
contact-pressure rules need, then the pure rule core (`pressure.decide`) decides per customer.

The query reads segment membership (dynamic: `segment_members`; static lists are passed in from the OLTP store),
active customers and their refusal of personalised marketing (`customers`), consents withdrawn (`consents`), and
the marketing messages each audience member was queued or sent over the longest cap window or since the start
of the local month (WeCom's cap) — `Message Queued` / `Message Sent` events counted once per message. Customers
whose inputs are identical (most of an audience: nothing sent recently, nothing withdrawn) share one decision,
so the rule core runs once per distinct situation rather than once per person.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yutang.messaging import pressure
from yutang.segments import dialect as dialects

SENT_EVENTS = ("Message Queued", "Message Sent")
REFUSAL_CONSENT = "personalised_marketing"  # a withdrawn consent here is a refusal of personalised marketing


@dataclass(frozen=True)
class Campaign:
    """One broadcast to plan: its audience (dynamic segment ids, static members) and what it sends."""

    id: int
    channel_kind: str
    priority: int = 0
    purpose: str = "marketing"
    dynamic_segments: tuple[int, ...] = ()
    static_members: dict[int, list[int]] = field(default_factory=dict)  # segment id -> customer ids


@dataclass
class CampaignPlan:
    """The decisions for one campaign, as groups of customers in the same situation sharing one decision (its
    customer_id is not meaningful), and how many candidates and duplicates there were."""

    candidates: int = 0
    duplicates: int = 0
    groups: list[tuple[list[int], pressure.Decision]] = field(default_factory=list)

    def decisions(self) -> dict[int, pressure.Decision]:
        """Customer id → decision."""
        return {cid: decision for ids, decision in self.groups for cid in ids}

    def customer_ids(self) -> list[int]:
        """Everyone decided (sent or suppressed), ascending."""
        return sorted(cid for ids, _ in self.groups for cid in ids)

    def reasons(self) -> dict[int, str]:
        """The suppressed customers and why (not those only waiting for the quiet hours to end)."""
        return {cid: decision.reason or "unknown" for ids, decision in self.groups
                if not decision.send and not _deferred(decision) for cid in ids}

    def deferrals(self) -> dict[int, datetime]:
        """The customers held only by the quiet hours, and when those end (UTC)."""
        return {cid: decision.retry_at for ids, decision in self.groups if _deferred(decision) for cid in ids}

    def first_recipient(self) -> int | None:
        """The lowest customer id who would receive the message (now or after the quiet hours)."""
        ids = [cid for ids, decision in self.groups if decision.send or _deferred(decision) for cid in ids]
        return min(ids) if ids else None

    def counts(self) -> dict[str, Any]:
        """Send now / deferred past the quiet hours / suppressed by reason (duplicates, kept once, counted apart)."""
        by_reason: dict[str, int] = defaultdict(int)
        sending = deferred = audience = 0
        until: datetime | None = None
        for ids, decision in self.groups:
            audience += len(ids)
            if decision.send:
                sending += len(ids)
            elif _deferred(decision):
                deferred += len(ids)
                until = decision.retry_at if until is None else min(until, decision.retry_at)
            else:
                by_reason[decision.reason or "unknown"] += len(ids)
        counts = {"candidates": self.candidates, "duplicates": self.duplicates, "audience": audience,
                  "send": sending, "deferred": deferred, "suppressed": audience - sending - deferred,
                  "by_reason": dict(by_reason)}
        if until is not None:
            counts["deferred_until"] = until
        return counts


def _deferred(decision: pressure.Decision) -> bool:
    return decision.reason == "quiet_hours" and decision.retry_at is not None


def history_since(rules: pressure.Rules, now: datetime) -> datetime:
    """How far back sends matter: the longest cap window, and the start of the local month."""
    local = now.astimezone(ZoneInfo(rules.timezone))
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    longest = max((cap.window for cap in rules.caps), default=timedelta(0))
    return min(now - longest, month_start)


def query(warehouse_dialect: str, campaigns: list[Campaign]) -> tuple[str, dict]:
    """The one statement: tagged rows g (the ids of customers with nothing withdrawn or sent, by refusal and the
    campaigns wanting them), m (such a customer who has), c (a consent withdrawn), h (a message sent)."""
    params: dict = {}
    parts: list[str] = []
    for n, campaign in enumerate(campaigns):
        if campaign.dynamic_segments:
            params[f"d{n}"] = list(campaign.dynamic_segments)
            params[f"k{n}"] = campaign.id
            parts.append(f"SELECT CAST(%(k{n})s AS BIGINT) AS campaign, customer_id FROM segment_members "
                         f"WHERE workspace_id = %(w)s AND segment_id = ANY(%(d{n})s)")
    static = [(c.id, cid) for c in campaigns for ids in c.static_members.values() for cid in ids]
    if static:
        params["sk"] = [k for k, _ in static]
        params["si"] = [cid for _, cid in static]
        parts.append("SELECT CAST(campaign AS BIGINT) AS campaign, CAST(customer_id AS BIGINT) AS customer_id "
                     "FROM (SELECT unnest(%(sk)s) AS campaign, unnest(%(si)s) AS customer_id) s")
    props = "e.properties"
    text = lambda key: dialects.json_text(warehouse_dialect, props, f"'{key}'")  # noqa: E731
    sql = f"""
WITH aud AS ({' UNION ALL '.join(parts)}),
per AS (
  SELECT a.customer_id, c.refuses_personalised AS flag,
         string_agg(CAST(a.campaign AS VARCHAR), ',' ORDER BY a.campaign) AS wanting
  FROM aud a JOIN customers c ON c.id = a.customer_id
  WHERE c.workspace_id = %(w)s AND c.status = 'active'
  GROUP BY a.customer_id, c.refuses_personalised),
wd AS (
  SELECT k.customer_id, k.channel FROM consents k
  WHERE k.workspace_id = %(w)s AND k.status = 'withdrawn' AND k.customer_id IN (SELECT customer_id FROM per)),
sent AS (
  SELECT h.customer_id, MIN(h.ts) AS first_at, MAX(h.cfg) AS cfg, MAX(h.purpose) AS purpose FROM (
    SELECT e.customer_id, e.ts, COALESCE({text('message_id')}, e.message_id) AS mid,
           {text('channel_config_id')} AS cfg, {text('purpose')} AS purpose
    FROM events e
    WHERE e.workspace_id = %(w)s AND e.event IN ('Message Queued', 'Message Sent') AND e.ts > %(since)s
      AND e.ts <= %(now)s AND e.customer_id IN (SELECT customer_id FROM per)) h
  GROUP BY h.customer_id, h.mid),
special AS (SELECT customer_id FROM wd UNION SELECT customer_id FROM sent)
SELECT 'g' AS k, CAST(NULL AS BIGINT) AS customer_id, flag, wanting AS s1, CAST(NULL AS VARCHAR) AS s2,
       CAST(NULL AS TIMESTAMPTZ) AS first_at, array_agg(customer_id) AS ids
FROM per WHERE customer_id NOT IN (SELECT customer_id FROM special) GROUP BY flag, wanting
UNION ALL
SELECT 'm', customer_id, flag, wanting, NULL, NULL, NULL FROM per WHERE customer_id IN (SELECT customer_id FROM special)
UNION ALL
SELECT 'c', customer_id, NULL, channel, NULL, NULL, NULL FROM wd
UNION ALL
SELECT 'h', customer_id, NULL, cfg, purpose, first_at, NULL FROM sent"""
    return sql, params


def plan(warehouse, *, workspace_id: int, campaigns: list[Campaign], rules: pressure.Rules,
         channel_kinds: dict[int, str], now: datetime) -> dict[int, CampaignPlan]:
    """Decide every campaign's audience together (competing campaigns: priority first), one plan per campaign.

    channel_kinds maps the workspace's channel configuration ids to their kinds (sends name configurations).
    """
    plans = {c.id: CampaignPlan() for c in campaigns}
    if not any(c.dynamic_segments or any(c.static_members.values()) for c in campaigns):
        return plans
    sql, params = query(warehouse.dialect, campaigns)
    rows = warehouse.query(sql, {**params, "w": workspace_id, "since": history_since(rules, now), "now": now})
    refuses: set[int] = set()
    consents: dict[int, dict[str, str]] = defaultdict(dict)
    history: dict[int, list[pressure.Sent]] = defaultdict(list)
    for kind, customer_id, _, s1, s2, at, _ in rows:
        if kind == "c":
            if s1 == REFUSAL_CONSENT:
                refuses.add(customer_id)
            else:
                consents[customer_id][s1] = "withdrawn"
        elif kind == "h":
            channel = channel_kinds.get(int(s1)) if s1 and str(s1).isdigit() else None
            purpose = s2 or "marketing"  # sends recorded without a purpose count as marketing (the safe side)
            history[customer_id].append(pressure.Sent(at=at, channel=channel or "unknown", purpose=purpose,
                                                      wecom_group_send=channel == "wecom" and purpose == "marketing"))
    # Customers in the same situation (refusal, consents withdrawn, sends, campaigns) get the same decisions:
    # the query groups those with nothing withdrawn or sent; the others are grouped here.
    groups: dict[tuple, list[int]] = defaultdict(list)
    for kind, customer_id, flag, wanting, _, _, ids in rows:
        if kind == "g":
            groups[(bool(flag), (), (), wanting)].extend(ids)
        elif kind == "m":
            sent = tuple(sorted(history.get(customer_id, ()), key=lambda s: (s.at, s.channel, s.purpose)))
            groups[(bool(flag) or customer_id in refuses, tuple(sorted(consents.get(customer_id, {}).items())),
                    sent, wanting)].append(customer_id)
    by_id = {c.id: c for c in campaigns}
    for (refusing, withdrawn, sent, wanting), ids in groups.items():
        person = pressure.Customer(id=0, consents=dict(withdrawn), refuses_personalised=refusing, history=sent)
        candidates = []
        for key in wanting.split(","):
            c = by_id[int(key)]
            candidates.append(pressure.Candidate(customer_id=0, campaign_id=c.id, channel=c.channel_kind,
                                                 priority=c.priority, purpose=c.purpose,
                                                 wecom_group_send=c.channel_kind == "wecom"
                                                 and c.purpose == "marketing"))
        for decision in pressure.decide(candidates, {0: person}, rules, now):
            target = plans[decision.campaign_id]
            target.candidates += len(ids)
            if decision.reason == "duplicate":
                target.duplicates += len(ids)
            elif rules.holdout_bp and by_id[decision.campaign_id].purpose == "marketing":
                # The holdout gets no marketing whatever else was decided (a group shares a situation, not a hash).
                held = {i for i in ids if pressure.held_out(workspace_id, i, rules.holdout_bp)}
                if held:
                    target.groups.append((sorted(held), pressure.Decision(0, decision.campaign_id, False,
                                                                          "holdout")))
                rest = [i for i in ids if i not in held]
                if rest:
                    target.groups.append((rest, decision))
            else:
                target.groups.append((ids, decision))
    return plans
