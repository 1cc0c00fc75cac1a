"""Funnels in one warehouse statement: each customer's first step-1 event in the range, then the first event of each
next step after the step before and within the window from entry (strict order: with no other event between)."""

import json
from datetime import timedelta

from yutang.analytics.periods import Window
from yutang.analytics.schemas import BreakdownOut, FunnelIn, FunnelOut, StepOut
from yutang.analytics.sql import Warehouse, seconds
from yutang.kit.errors import Invalid
from yutang.warehouse.own_events import SOURCE

CHANNEL = "channel"
PROPERTY = "property:"


def _text(value) -> str:
    """A property value as `->>` gives it back on both warehouses."""
    return value if isinstance(value, str) else json.dumps(value)


def _matches(funnel: FunnelIn, index: int, alias: str, p: dict) -> str:
    step = funnel.steps[index]
    p[f"ev{index}"] = step.event
    parts = [f"{alias}.event = %(ev{index})s"]
    for n, (key, value) in enumerate(sorted(step.properties.items())):
        p[f"k{index}_{n}"], p[f"v{index}_{n}"] = key, _text(value)
        parts.append(f"({alias}.properties ->> %(k{index}_{n})s) = %(v{index}_{n})s")
    return " AND ".join(parts)


def _names(funnel: FunnelIn) -> str:
    return ", ".join(f"%(ev{i})s" for i in range(len(funnel.steps)))


def reached_sql(funnel: FunnelIn, *, workspace_id: int, window: Window, dialect: str) -> tuple[str, dict]:
    """One row per customer who entered: customer_id, breakdown value b, and t1..tn (null from the step they
    missed on)."""
    if funnel.breakdown not in (None, CHANNEL) and not (funnel.breakdown or "").startswith(PROPERTY):
        raise Invalid("breakdown is channel or property:<name>", field="breakdown")
    p = {"w": workspace_id, "s": window.start, "e": window.end, "window": timedelta(days=funnel.window_days),
         "until": window.end + timedelta(days=funnel.window_days)}
    events = "events ev"
    scope = "ev.workspace_id = %(w)s AND ev.customer_id IS NOT NULL"
    breakdown = "CAST(NULL AS VARCHAR)"
    if funnel.breakdown and funnel.breakdown.startswith(PROPERTY):
        p["bkey"] = funnel.breakdown.removeprefix(PROPERTY)
        if not p["bkey"]:
            raise Invalid("name the property: property:<name>", field="breakdown")
        breakdown = "(ev.properties ->> %(bkey)s)"
    ctes = []
    if dialect == "duckdb":
        # One scan of the events: the steps' events of the range and its window, kept for every step to join. On
        # PostgreSQL each step probes the events' index per customer instead (a CTE has no index to probe).
        kept = ", properties" if "properties" in breakdown or any(step.properties for step in funnel.steps) else ""
        ctes.append(f"cand AS MATERIALIZED (SELECT customer_id, event, ts, message_id{kept} FROM events ev "
                    f"WHERE {scope} AND ev.event IN ({_names(funnel)}) AND ev.ts >= %(s)s AND ev.ts < %(until)s)")
        events, scope = "cand ev", "TRUE"
    ctes += [
        f"s1 AS (SELECT customer_id, t1, b FROM (SELECT ev.customer_id, ev.ts AS t1, {breakdown} AS b, row_number() "
        f"OVER (PARTITION BY ev.customer_id ORDER BY ev.ts, ev.message_id) AS n FROM {events} WHERE {scope} "
        f"AND {_matches(funnel, 0, 'ev', p)} AND ev.ts >= %(s)s AND ev.ts < %(e)s "
        "AND ev.customer_id IN (SELECT id FROM customers WHERE workspace_id = %(w)s AND status = 'active')) x "
        "WHERE n = 1)"]
    # Events that count as "between" two steps in strict order: everything the customer did, and Yutang's own
    # events only where the funnel names them (an order paid, a segment entered).
    between = f"(o.source <> '{SOURCE}' OR o.event IN ({_names(funnel)}))"
    columns = ["t1"]
    for k in range(2, len(funnel.steps) + 1):
        before = f"t{k - 1}"
        # A scalar subquery per customer: an index probe on PostgreSQL, a join after DuckDB decorrelates it.
        nearest = (f"(SELECT min(ev.ts) FROM {events} WHERE {scope} AND ev.customer_id = q.customer_id "
                   f"AND {_matches(funnel, k - 1, 'ev', p)} AND ev.ts > q.{before} AND ev.ts <= q.t1 + %(window)s "
                   "AND ev.ts < %(until)s)")
        kept = "p.n IS NOT NULL"
        if funnel.order == "strict":
            kept += (" AND NOT EXISTS (SELECT 1 FROM events o WHERE o.workspace_id = %(w)s "
                     f"AND o.customer_id = p.customer_id AND o.ts > p.{before} AND o.ts < p.n AND {between})")
        carried = ", ".join(columns)
        # Materialised: inlined, each step's subquery would be evaluated again in every later step.
        ctes.append(f"s{k} AS MATERIALIZED (SELECT p.customer_id, p.b, {', '.join('p.' + c for c in columns)}, "
                    f"CASE WHEN {kept} THEN p.n END AS t{k} FROM (SELECT customer_id, b, {carried}, "
                    f"{nearest} AS n FROM s{k - 1} q) p)")
        columns.append(f"t{k}")
    last = len(funnel.steps)
    if funnel.breakdown == CHANNEL:
        select = (f"SELECT r.customer_id, CAST(c.first_channel_id AS VARCHAR) AS b, "
                  f"{', '.join('r.' + c for c in columns)} FROM s{last} r JOIN customers c ON c.id = r.customer_id")
    else:
        select = f"SELECT customer_id, b, {', '.join(columns)} FROM s{last}"
    return f"WITH {', '.join(ctes)} {select}", p


def compute(warehouse: Warehouse, funnel: FunnelIn, *, workspace_id: int, window: Window,
            channels: dict[int, tuple]) -> FunnelOut:
    """Counts, conversions, drop-offs and median times per step, overall and per breakdown value."""
    sql, p = reached_sql(funnel, workspace_id=workspace_id, window=window, dialect=warehouse.dialect)
    n = len(funnel.steps)
    counts = ", ".join(f"count(t{k})" for k in range(1, n + 1))
    medians = ", ".join(f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {seconds(f't{k}', f't{k - 1}')})"
                        for k in range(2, n + 1))
    (*totals,), = warehouse.query(f"SELECT {counts}, {medians} FROM ({sql}) f", p)
    reached, times = [int(x) for x in totals[:n]], [None, *totals[n:]]
    steps = []
    for k in range(n):
        before = reached[k - 1] if k else None
        steps.append(StepOut(
            step=k + 1, event=funnel.steps[k].event, customers=reached[k],
            conversion_from_previous=reached[k] / before if before else None,
            conversion_from_first=reached[k] / reached[0] if reached[0] else None,
            dropped=(before - reached[k]) if k else 0,
            median_seconds_from_previous=float(times[k]) if times[k] is not None else None))
    breakdown = []
    if funnel.breakdown:
        rows = warehouse.query(f"SELECT b, {counts} FROM ({sql}) f GROUP BY b ORDER BY 2 DESC, 1", p)
        for value, *per_step in rows:
            name = None
            if funnel.breakdown == CHANNEL and value is not None:
                name = channels.get(int(value), (None,))[0]
            breakdown.append(BreakdownOut(value=value, name=name, customers=[int(x) for x in per_step]))
    return FunnelOut(first_day=window.first, last_day=window.last, window_days=funnel.window_days,
                     order=funnel.order, steps=steps, breakdown=breakdown)


def customers_sql(funnel: FunnelIn, *, step: int, outcome: str, workspace_id: int, window: Window,
                  dialect: str) -> tuple[str, dict]:
    """A SELECT of the customer ids who reached a step, or who reached the step before it and not it."""
    if step > len(funnel.steps):
        raise Invalid(f"the funnel has {len(funnel.steps)} steps", field="step")
    if outcome == "dropped" and step == 1:
        raise Invalid("nobody drops before the first step: ask for step 2 or more, or outcome reached", field="step")
    sql, p = reached_sql(funnel, workspace_id=workspace_id, window=window, dialect=dialect)
    where = f"t{step} IS NOT NULL" if outcome == "reached" else f"t{step - 1} IS NOT NULL AND t{step} IS NULL"
    return f"SELECT customer_id FROM ({sql}) f WHERE {where}", p
