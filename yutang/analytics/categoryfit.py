"""Category fit (seed 000's quadrant): per category, how often its buyers buy it again (median days between
purchase days) against how much they interact (messages, replies, events per buyer), and the reading of each
quadrant for private-domain work."""

from statistics import median

from yutang.analytics.periods import Window
from yutang.analytics.schemas import CategoryFit, CategoryFitIn, CategoryFitOut
from yutang.analytics.sql import Warehouse, purchased_lines, within
from yutang.warehouse.own_events import SOURCE

# (high frequency, high interaction) -> the work 000 reads into the quadrant.
QUADRANTS = {(True, True): "community", (True, False): "repurchase_reminders", (False, True): "content_seeding",
             (False, False): "lead_nurturing"}


def figures_sql() -> str:
    """Per category: buyers, repeat buyers, median days between purchase days, and the buyers' messages to the
    brand, staff replies to them and tracked events in the range (parameters w, s, e, zone)."""
    days = (f"SELECT DISTINCT o.customer_id AS c, l.category AS k, CAST(o.paid_at AT TIME ZONE %(zone)s AS DATE) "
            f"AS d {purchased_lines('l.category')} AND {within('o.paid_at', 's', 'e')}")
    touches = (
        "SELECT customer_id AS c, "
        f"sum(CASE WHEN source = '{SOURCE}' AND event = 'Message Received' THEN 1 ELSE 0 END) AS m, "
        f"sum(CASE WHEN source = '{SOURCE}' AND event = 'Message Queued' AND properties ->> 'purpose' = 'reply' "
        "THEN 1 ELSE 0 END) AS r, "
        f"sum(CASE WHEN source <> '{SOURCE}' AND type IN ('track', 'page', 'screen') THEN 1 ELSE 0 END) AS ev "
        f"FROM events WHERE workspace_id = %(w)s AND customer_id IN (SELECT c FROM days) "
        f"AND {within('ts', 's', 'e')} GROUP BY customer_id")
    return (f"WITH days AS MATERIALIZED ({days}), "
            "gaps AS (SELECT k, c, d - lag(d) OVER (PARTITION BY k, c ORDER BY d) AS gap FROM days), "
            "repeat AS (SELECT k, count(DISTINCT c) AS repeaters, "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS median_days FROM gaps WHERE gap IS NOT NULL "
            "GROUP BY k), "
            f"touches AS ({touches}), "
            "buyers AS (SELECT b.k, count(*) AS buyers, coalesce(sum(t.m), 0) AS m, coalesce(sum(t.r), 0) AS r, "
            "coalesce(sum(t.ev), 0) AS ev FROM (SELECT DISTINCT k, c FROM days) b LEFT JOIN touches t ON t.c = b.c "
            "GROUP BY b.k) "
            "SELECT b.k, b.buyers, coalesce(r.repeaters, 0), r.median_days, b.m, b.r, b.ev "
            "FROM buyers b LEFT JOIN repeat r ON r.k = b.k ORDER BY b.k")


def cell_sql(*, outcome: str) -> str:
    """A SELECT of the customer ids who bought category %(k)s in the range, or bought it on two days or more."""
    lines = f"{purchased_lines('l.category')} AND {within('o.paid_at', 's', 'e')} AND l.category = %(k)s"
    if outcome == "buyers":
        return f"SELECT DISTINCT o.customer_id {lines}"
    return (f"SELECT o.customer_id {lines} GROUP BY o.customer_id "
            "HAVING count(DISTINCT CAST(o.paid_at AT TIME ZONE %(zone)s AS DATE)) > 1")


def compute(warehouse: Warehouse, data: CategoryFitIn, *, workspace_id: int, window: Window) -> CategoryFitOut:
    """Each category's frequency and interaction, the split points (medians across categories unless set) and its
    quadrant; a category nobody bought twice in the range is low-frequency."""
    rows = warehouse.query(figures_sql(), {"w": workspace_id, "s": window.start, "e": window.end,
                                           "zone": window.timezone})
    figures = [(k, int(buyers), int(repeaters), float(days) if days is not None else None, int(m), int(r), int(ev))
               for k, buyers, repeaters, days, m, r, ev in rows]
    spans = [f[3] for f in figures if f[3] is not None]
    interactions = [(f[4] + f[5] + f[6]) / f[1] for f in figures]
    frequency_split = data.frequency_split_days if data.frequency_split_days is not None else (
        median(spans) if spans else None)
    interaction_split = data.interaction_split if data.interaction_split is not None else (
        median(interactions) if interactions else None)
    categories = []
    for (k, buyers, repeaters, days, m, r, ev), per_buyer in zip(figures, interactions, strict=True):
        frequent = days is not None and frequency_split is not None and days <= frequency_split
        engaged = interaction_split is not None and per_buyer >= interaction_split
        categories.append(CategoryFit(
            category=k, buyers=buyers, repeat_buyers=repeaters, median_days_between=days, messages=m, replies=r,
            events=ev, interaction_per_buyer=per_buyer, high_frequency=frequent, high_interaction=engaged,
            quadrant=QUADRANTS[frequent, engaged]))
    return CategoryFitOut(first_day=window.first, last_day=window.last, frequency_split_days=frequency_split,
                          interaction_split=interaction_split,
                          split="set" if data.frequency_split_days is not None or data.interaction_split is not None
                          else "median", categories=categories)
