"""Pond health: who unfollows, withdraws consent or goes quiet after being touched, against matched untouched
customers, by kind of touch and by marketing messages per week; the weekly cap that curve suggests.

A customer-week is a customer who was in the pool before a local week began. Harm is counted from the week's start
to N days after its end, for touched and untouched customer-weeks alike, so both are watched equally long; only
weeks whose watch has ended are used. Untouched customer-weeks (no message at all that week) are the control,
matched by direct standardisation on three facts known before the week: the week, whether the customer was active
in the 30 days before it, and whether they had bought before it."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from yutang.analytics.schemas import FatiguePoint, Harm, PondHealthIn
from yutang.analytics.sql import ACTIVITY, PURCHASES, Warehouse
from yutang.warehouse.own_events import SOURCE

MIN_CUSTOMERS = 30  # below this many customer-weeks a point of the curve is too thin to suggest a cap from
TOP = 5  # the fatigue curve's last point counts five marketing messages a week or more
LOOKBACK_DAYS = 30  # "active before the week": any activity in the 30 days before it


@dataclass(frozen=True)
class Week:
    """One local week and its watch: [start, end) for touches, [start, watch_end) for harm."""

    start_day: date
    before: datetime
    start: datetime
    end: datetime
    watch_end: datetime


def weeks_of(data: PondHealthIn, *, timezone: str, now: datetime) -> list[Week]:
    """The last `weeks` complete local weeks whose watch (the week and N days after) ended by today's midnight."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    latest = today - timedelta(days=7 + data.days_after)
    latest -= timedelta(days=latest.weekday())

    def at(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)

    mondays = [latest - timedelta(weeks=i) for i in reversed(range(data.weeks))]
    return [Week(start_day=m, before=at(m - timedelta(days=LOOKBACK_DAYS)), start=at(m), end=at(m + timedelta(days=7)),
                 watch_end=at(m + timedelta(days=7 + data.days_after))) for m in mondays]


def _weeks_sql(weeks: list[Week], p: dict) -> str:
    rows = []
    for i, w in enumerate(weeks):
        p.update({f"b{i}": w.before, f"s{i}": w.start, f"e{i}": w.end, f"h{i}": w.watch_end})
        rows.append(f"({i}, CAST(%(b{i})s AS TIMESTAMPTZ), CAST(%(s{i})s AS TIMESTAMPTZ), "
                    f"CAST(%(e{i})s AS TIMESTAMPTZ), CAST(%(h{i})s AS TIMESTAMPTZ))")
    return f"SELECT * FROM (VALUES {', '.join(rows)}) AS v(wk, before, ws, we, he)"


def _flags_sql(weeks: list[Week], p: dict) -> str:
    """CTEs: weeks, touch (customer-week-kind), flags (customer-week: strata, harms, touches)."""
    p.update({"lo": weeks[0].before, "hi": weeks[-1].watch_end})
    return f"""WITH weeks AS ({_weeks_sql(weeks, p)}),
pop AS (SELECT wk.wk, c.id AS customer_id FROM customers c JOIN weeks wk
        ON c.first_seen_at IS NULL OR c.first_seen_at < wk.ws WHERE c.workspace_id = %(w)s AND c.status = 'active'),
act AS (SELECT wk.wk, a.customer_id, max(CASE WHEN a.ts < wk.ws THEN 1 ELSE 0 END) AS was,
               max(CASE WHEN a.ts >= wk.ws THEN 1 ELSE 0 END) AS still
        FROM (SELECT customer_id, ts {ACTIVITY} AND ts >= %(lo)s AND ts < %(hi)s) a
        JOIN weeks wk ON a.ts >= wk.before AND a.ts < wk.he GROUP BY 1, 2),
bought AS (SELECT o.customer_id, min(o.paid_at) AS first_paid {PURCHASES} GROUP BY 1),
lefts AS (SELECT DISTINCT wk.wk, m.customer_id FROM memberships m
          JOIN weeks wk ON m.left_at >= wk.ws AND m.left_at < wk.he WHERE m.workspace_id = %(w)s),
withdrawn AS (SELECT DISTINCT wk.wk, e.customer_id FROM events e JOIN weeks wk ON e.ts >= wk.ws AND e.ts < wk.he
              WHERE e.workspace_id = %(w)s AND e.source = '{SOURCE}' AND e.customer_id IS NOT NULL
              AND e.event = 'Consent Changed' AND e.properties ->> 'status' = 'withdrawn'),
by_broadcast AS (SELECT DISTINCT properties ->> 'message_id' AS mid FROM events WHERE workspace_id = %(w)s
                 AND source = '{SOURCE}' AND event = 'Message Queued' AND properties ->> 'broadcast_id' IS NOT NULL
                 AND ts >= %(lo)s AND ts < %(hi)s),
touch AS MATERIALIZED (SELECT wk.wk, e.customer_id, CAST(e.properties ->> 'channel_config_id' AS BIGINT) AS cfg,
                 COALESCE(e.properties ->> 'purpose', 'service') AS purpose,
                 CASE WHEN q.mid IS NULL THEN 'single' ELSE 'broadcast' END AS origin
          FROM events e JOIN weeks wk ON e.ts >= wk.ws AND e.ts < wk.we
          LEFT JOIN by_broadcast q ON q.mid = e.properties ->> 'message_id'
          WHERE e.workspace_id = %(w)s AND e.source = '{SOURCE}' AND e.customer_id IS NOT NULL
          AND e.event = 'Message Sent' AND e.ts >= %(lo)s AND e.ts < %(hi)s),
counts AS (SELECT wk, customer_id, count(*) AS n, sum(CASE WHEN purpose = 'marketing' THEN 1 ELSE 0 END) AS mk
           FROM touch GROUP BY 1, 2),
flags AS MATERIALIZED (SELECT p.wk, p.customer_id, COALESCE(a.was, 0) AS was_active,
                 CASE WHEN b.first_paid < wk.ws THEN 1 ELSE 0 END AS was_buyer,
                 CASE WHEN l.customer_id IS NULL THEN 0 ELSE 1 END AS left_,
                 CASE WHEN d.customer_id IS NULL THEN 0 ELSE 1 END AS withdrew,
                 CASE WHEN a.was = 1 AND a.still = 0 THEN 1 ELSE 0 END AS quiet,
                 COALESCE(t.n, 0) AS touches, COALESCE(t.mk, 0) AS marketing
          FROM pop p JOIN weeks wk ON wk.wk = p.wk
          LEFT JOIN act a ON a.wk = p.wk AND a.customer_id = p.customer_id
          LEFT JOIN bought b ON b.customer_id = p.customer_id
          LEFT JOIN lefts l ON l.wk = p.wk AND l.customer_id = p.customer_id
          LEFT JOIN withdrawn d ON d.wk = p.wk AND d.customer_id = p.customer_id
          LEFT JOIN counts t ON t.wk = p.wk AND t.customer_id = p.customer_id)"""


HARMS = ("count(*), sum(left_), sum(withdrew), sum(quiet), "
         "sum(CASE WHEN left_ + withdrew + quiet > 0 THEN 1 ELSE 0 END)")

# Which of a fatigue point's customer-weeks a drill-down names.
HARMED = {"harmed": "left_ + withdrew + quiet > 0", "left": "left_ = 1", "withdrew": "withdrew = 1",
          "quiet": "quiet = 1", "all": "1 = 1"}


def cell_sql(*, workspace_id: int, weeks: list[Week], touches: int, harm: str, p: dict) -> str:
    """A SELECT of the customer ids behind a point of the fatigue curve (a customer counted in two weeks once)."""
    p.update({"w": workspace_id, "k": touches})
    return (f"{_flags_sql(weeks, p)} SELECT DISTINCT customer_id FROM flags "
            f"WHERE LEAST(marketing, {TOP}) = %(k)s AND {HARMED[harm]}")


Stratum = tuple[int, int, int]  # week, active before, bought before


@dataclass
class Tally:
    """Customer-weeks and their harms per stratum."""

    by_stratum: dict[Stratum, list[int]] = field(default_factory=dict)

    def add(self, stratum: Stratum, counts) -> None:
        """Add (customers, left, withdrew, quiet, harmed) for a stratum."""
        row = self.by_stratum.setdefault(stratum, [0, 0, 0, 0, 0])
        for i, n in enumerate(counts):
            row[i] += int(n or 0)

    def against(self, control: "Tally") -> dict:
        """Totals, with the rate and the control's rate weighted to this tally's strata (standardised)."""
        totals, matched, expected, harmed_matched, unmatched = [0] * 5, 0, 0.0, 0, 0
        for stratum, row in self.by_stratum.items():
            totals = [a + b for a, b in zip(totals, row, strict=True)]
            base = control.by_stratum.get(stratum)
            if not base or not base[0]:
                unmatched += row[0]
                continue
            matched += row[0]
            harmed_matched += row[4]
            expected += row[0] * base[4] / base[0]
        rate = harmed_matched / matched if matched else None
        matched_rate = expected / matched if matched else None
        return {"customers": totals[0], "left": totals[1], "withdrew": totals[2], "quiet": totals[3],
                "harmed": totals[4], "rate": _round(rate), "matched_rate": _round(matched_rate),
                "excess": _round(rate - matched_rate) if matched else None, "unmatched": unmatched}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


@dataclass(frozen=True)
class Tallies:
    """What the warehouse returns: untouched, by marketing touches per week, and by kind of touch."""

    untouched: Tally
    fatigue: dict[int, Tally]
    kinds: dict[tuple[int | None, str, str], Tally]


def tally(warehouse: Warehouse, *, workspace_id: int, weeks: list[Week]) -> Tallies:
    """One statement over the customer-weeks, counted twice: by marketing touches (and touched at all), and by
    kind of touch."""
    p: dict = {"w": workspace_id}
    rows = warehouse.query(
        f"{_flags_sql(weeks, p)} "
        f"SELECT 'curve', wk, was_active, was_buyer, LEAST(marketing, {TOP}), CASE WHEN touches > 0 THEN 1 ELSE 0 END, "
        f"CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), {HARMS} FROM flags "
        f"GROUP BY wk, was_active, was_buyer, LEAST(marketing, {TOP}), CASE WHEN touches > 0 THEN 1 ELSE 0 END "
        f"UNION ALL SELECT 'kind', f.wk, f.was_active, f.was_buyer, NULL, NULL, t.cfg, t.purpose, t.origin, {HARMS} "
        "FROM (SELECT DISTINCT wk, customer_id, cfg, purpose, origin FROM touch) t "
        "JOIN flags f ON f.wk = t.wk AND f.customer_id = t.customer_id "
        "GROUP BY f.wk, f.was_active, f.was_buyer, t.cfg, t.purpose, t.origin", p)
    untouched, fatigue = Tally(), {k: Tally() for k in range(TOP + 1)}
    kinds: dict[tuple[int | None, str, str], Tally] = {}
    for part, wk, active, buyer, k, touched, cfg, purpose, origin, *counts in rows:
        stratum = (int(wk), int(active), int(buyer))
        if part == "curve":
            fatigue[int(k)].add(stratum, counts)
            if not touched:
                untouched.add(stratum, counts)
        else:
            key = (int(cfg) if cfg is not None else None, purpose, origin)
            kinds.setdefault(key, Tally()).add(stratum, counts)
    return Tallies(untouched=untouched, fatigue=fatigue, kinds=kinds)


def curve(tallies: Tallies) -> list[FatiguePoint]:
    """Harm by marketing messages a week, each point against untouched customer-weeks of the same strata."""
    points = []
    for k, t in sorted(tallies.fatigue.items()):
        if t.by_stratum:
            points.append(FatiguePoint(touches=k, **t.against(tallies.untouched)))
    return points


def suggest(points: list[FatiguePoint], *, threshold_pp: float) -> tuple[int | None, int]:
    """The most marketing messages a week before the excess harm passes the threshold, and how far the evidence
    reaches (points with at least MIN_CUSTOMERS customer-weeks, from 1 up without a gap)."""
    by_k = {p.touches: p for p in points}
    cap, evidence = None, 0
    for k in range(1, TOP + 1):
        point = by_k.get(k)
        if point is None or point.customers < MIN_CUSTOMERS or point.excess is None:
            break
        evidence = k
        if point.excess * 100 > threshold_pp:
            return k - 1, evidence
        cap = k
    return cap, evidence


def untouched_harm(tallies: Tallies) -> Harm:
    """The control itself (its matched rate is its own)."""
    return Harm(**tallies.untouched.against(tallies.untouched))
