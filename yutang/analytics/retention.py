"""Retention grids and repurchase in the warehouse; days, weeks (Monday first) and months are local to the zone."""

from datetime import date

from yutang.analytics.periods import Window
from yutang.analytics.schemas import (
    CohortRow,
    GapBucket,
    RepurchaseIn,
    RepurchaseOut,
    RetentionIn,
    RetentionOut,
)
from yutang.analytics.sql import ACTIVITY, CUSTOMERS, PURCHASES, Warehouse
from yutang.kit.errors import Invalid

GAPS = ((1, 7), (8, 14), (15, 30), (31, 60), (61, 90), (91, 180), (181, None))


def _start(unit: str, day: str) -> str:
    """The first local day of the day / week / month holding `day` (a DATE expression)."""
    if unit == "week":
        return f"({day} - CAST(EXTRACT(ISODOW FROM {day}) - 1 AS INTEGER))"
    if unit == "month":
        return f"({day} - CAST(EXTRACT(DAY FROM {day}) - 1 AS INTEGER))"
    return day


def _index(unit: str, later: str, earlier: str) -> str:
    """How many days / weeks / months `later` falls after `earlier` (DATE expressions)."""
    if unit == "month":
        month = "CAST(EXTRACT(YEAR FROM {d}) * 12 + EXTRACT(MONTH FROM {d}) AS INTEGER)"
        return f"({month.format(d=later)} - {month.format(d=earlier)})"
    if unit == "week":
        return f"(({_start('week', later)} - {_start('week', earlier)}) / 7)"
    return f"({later} - {earlier})"


def _source(kind: str, event: str | None, key: str, p: dict) -> str:
    """(customer_id, ts) rows: activity (optionally one event) or purchases."""
    if kind == "purchase":
        return f"SELECT o.customer_id, o.paid_at AS ts {PURCHASES}"
    if event:
        p[key] = event
        return f"SELECT customer_id, ts {ACTIVITY} AND event = %({key})s"
    return f"SELECT customer_id, ts {ACTIVITY}"


def cohort_sql(data: RetentionIn, p: dict) -> tuple[str, str]:
    """Two SELECTs: each cohort customer's first time t0 and its local day d0 in the range, and their return
    rows (customer_id, ts); parameters w, s, e, zone and those set into p."""
    if data.returning == "event" and not data.return_event:
        raise Invalid("returning=event needs return_event", field="return_event")
    if data.cohort == "first_purchase" and data.cohort_event:
        raise Invalid("cohort_event goes with cohort=first_event", field="cohort_event")
    cohort = _source("purchase" if data.cohort == "first_purchase" else "event", data.cohort_event, "cev", p)
    back = _source("purchase" if data.returning == "purchase" else "event",
                   data.return_event if data.returning == "event" else None, "rev", p)
    anchors = (f"SELECT customer_id, t0, CAST(t0 AT TIME ZONE %(zone)s AS DATE) AS d0 FROM (SELECT customer_id, "
               f"min(ts) AS t0 FROM ({cohort}) c GROUP BY customer_id) f WHERE t0 >= %(s)s AND t0 < %(e)s "
               f"AND customer_id IN ({CUSTOMERS})")
    return anchors, back


def cell_sql(data: RetentionIn, *, cohort: date, k: int, p: dict) -> str:
    """A SELECT of the customer ids of one cohort (k = 0) or of those who came back in its k-th later period."""
    anchors, back = cohort_sql(data, p)
    p.update({"cohort": cohort, "k": k})
    if k == 0:
        return f"SELECT customer_id FROM ({anchors}) a WHERE {_start(data.unit, 'a.d0')} = %(cohort)s"
    day = "CAST(x.ts AT TIME ZONE %(zone)s AS DATE)"
    return (f"SELECT DISTINCT a.customer_id FROM ({anchors}) a JOIN ({back}) x ON x.customer_id = a.customer_id "
            f"AND x.ts > a.t0 WHERE {_start(data.unit, 'a.d0')} = %(cohort)s "
            f"AND {_index(data.unit, day, 'a.d0')} = %(k)s")


def grid(warehouse: Warehouse, data: RetentionIn, *, workspace_id: int, window: Window, today: date) -> RetentionOut:
    """Cohort sizes and returns per later period, with each period's rate over the cohorts that have reached it by
    today (local)."""
    p = {"w": workspace_id, "s": window.start, "e": window.end, "zone": window.timezone, "periods": data.periods}
    anchors, back = cohort_sql(data, p)
    # A return in a later period is on a later local day, so after t0: it is enough to know each customer's periods
    # with a return, and only those from the range's start to the end of the last cohort's last period.
    horizon = _period_start(data.unit, window.last, data.periods + 1)  # at or after the last period's end
    p["h"] = Window(first=horizon, last=horizon, timezone=window.timezone).start
    day = "CAST(x.ts AT TIME ZONE %(zone)s AS DATE)"
    counts = warehouse.query(
        f"WITH a AS MATERIALIZED (SELECT customer_id, {_start(data.unit, 'd0')} AS cohort FROM ({anchors}) f), "
        f"x AS (SELECT DISTINCT customer_id, {_start(data.unit, day)} AS p FROM ({back}) x "
        "WHERE x.ts >= %(s)s AND x.ts < %(h)s) "
        "SELECT cohort, 0 AS k, count(*) FROM a GROUP BY cohort UNION ALL "
        f"SELECT cohort, k, count(*) FROM (SELECT a.cohort, {_index(data.unit, 'x.p', 'a.cohort')} AS k FROM a "
        "JOIN x ON x.customer_id = a.customer_id) r WHERE k BETWEEN 1 AND %(periods)s GROUP BY cohort, k", p)
    sizes = sorted((c, n) for c, k, n in counts if int(k) == 0)
    returns = [(c, k, n) for c, k, n in counts if int(k) > 0]
    found = {(c, int(k)): n for c, k, n in returns}
    rows, reached, came = [], [0] * data.periods, [0] * data.periods
    for start, size in sizes:
        returned, rates = [], []
        for k in range(1, data.periods + 1):
            if _period_start(data.unit, start, k) > today:  # this cohort has not reached period k yet
                returned.append(0)
                rates.append(None)
                continue
            n = found.get((start, k), 0)
            returned.append(n)
            rates.append(n / size)
            reached[k - 1] += size
            came[k - 1] += n
        rows.append(CohortRow(cohort=start, customers=size, returned=returned, rates=rates))
    overall = [came[i] / reached[i] if reached[i] else None for i in range(data.periods)]
    return RetentionOut(unit=data.unit, first_day=window.first, last_day=window.last, cohorts=rows, overall=overall)


def _period_start(unit: str, cohort: date, k: int) -> date:
    if unit == "day":
        return date.fromordinal(cohort.toordinal() + k)
    if unit == "week":
        return date.fromordinal(cohort.toordinal() + 7 * k)
    months = cohort.year * 12 + cohort.month - 1 + k
    return date(months // 12, months % 12 + 1, 1)


def repurchase(warehouse: Warehouse, data: RepurchaseIn, *, workspace_id: int, window: Window) -> RepurchaseOut:
    """Buyers whose first purchase day is in the range; who bought again on a later day within N days; days from
    the first to the second purchase day (several orders on one day count once)."""
    p = {"w": workspace_id, "zone": window.timezone, "days": data.days, "first": window.first, "last": window.last}
    days = (f"SELECT DISTINCT o.customer_id, CAST(o.paid_at AT TIME ZONE %(zone)s AS DATE) AS day {PURCHASES} "
            f"AND o.customer_id IN ({CUSTOMERS})")
    ranked = f"SELECT customer_id, day, row_number() OVER (PARTITION BY customer_id ORDER BY day) AS n FROM ({days}) d"
    firsts = (f"SELECT f.customer_id, f.day AS first_day, s.day - f.day AS gap FROM ({ranked}) f "
              f"LEFT JOIN ({ranked}) s ON s.customer_id = f.customer_id AND s.n = 2 WHERE f.n = 1 "
              "AND f.day BETWEEN %(first)s AND %(last)s")
    (buyers, again, seconds, median), = warehouse.query(
        "SELECT count(*), count(*) FILTER (WHERE gap <= %(days)s), count(gap), "
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) FROM ({firsts}) b", p)
    gaps = dict(warehouse.query(
        "SELECT CASE " + " ".join(f"WHEN gap <= {high} THEN {low}" for low, high in GAPS if high) +
        f" ELSE {GAPS[-1][0]} END, count(*) FROM ({firsts}) b WHERE gap IS NOT NULL GROUP BY 1", p))
    return RepurchaseOut(first_day=window.first, last_day=window.last, days=data.days, buyers=buyers,
                         repurchased=again, rate=again / buyers if buyers else None, second_purchase_buyers=seconds,
                         median_days_to_second=float(median) if median is not None else None,
                         days_to_second=[GapBucket(min_days=low, max_days=high, buyers=gaps.get(low, 0))
                                         for low, high in GAPS])
