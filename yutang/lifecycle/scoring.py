"""Refresh a workspace's customer_scores in the warehouse: stages, RFM and value, set-based, in one transaction.

The rules are those of `core` (tests hold the SQL to them); the value models are those of `value`. Windows are
local calendar days in the workspace's zone, turned into UTC instants here so the SQL stays portable.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from yutang.lifecycle import core, value
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse, Tx, lock_in_transaction

log = logging.getLogger(__name__)

EVENT_NAME = "Lifecycle Stage Changed"
REFERRAL_EVENT = "Referral Completed"
ENGAGEMENT_TYPES = ("track", "page", "screen")  # what the customer did; identify / alias / group are bookkeeping
PURCHASE_STATUSES = ("paid", "shipped", "completed", "partially_refunded")
SOURCE = "yutang"
LOCK_KEY = 72_617_401  # one refresh per workspace at a time (PostgreSQL advisory lock; DuckDB has one writer)
DAY_SECONDS = 86_400.0
EXACT_FIT_BUYERS = 100_000  # fitted on exact histories up to this many buyers, on whole weeks and yuan beyond
# The units the fitted parameters are in: alpha is the scale of the purchase rate (purchases per week), v of the
# value per purchase.
MODEL_UNITS = {"alpha": "week", "v": "fen"}

FACTS_DDL = """CREATE TEMP TABLE lifecycle_facts (
    customer_id BIGINT NOT NULL, orders BIGINT NOT NULL, first_at TIMESTAMPTZ, last_at TIMESTAMPTZ,
    net_fen BIGINT NOT NULL, repeat_net_fen BIGINT NOT NULL, rfm_orders BIGINT NOT NULL, rfm_net_fen BIGINT NOT NULL,
    recent_events BIGINT NOT NULL, referrals BIGINT NOT NULL,
    purchase_days BIGINT NOT NULL, first_day DATE, last_day DATE, repeat_day_net_fen BIGINT NOT NULL)"""

# Purchases are paid orders not wholly refunded, at their payment time, worth what was paid less refunds.
FACTS = f"""INSERT INTO lifecycle_facts
WITH purchases AS (
    SELECT customer_id, COALESCE(paid_at, placed_at) AS bought_at, paid_fen - refunded_fen AS net,
           row_number() OVER (PARTITION BY customer_id ORDER BY COALESCE(paid_at, placed_at), id) AS nth,
           CAST(COALESCE(paid_at, placed_at) AT TIME ZONE %(zone)s AS DATE) AS day
    FROM orders
    WHERE workspace_id = %(w)s AND customer_id IS NOT NULL AND paid_fen > refunded_fen
      AND status IN ({", ".join(f"'{s}'" for s in PURCHASE_STATUSES)}) AND COALESCE(paid_at, placed_at) <= %(now)s
), dated AS (
    SELECT *, min(day) OVER (PARTITION BY customer_id) AS first_day FROM purchases
), bought AS (
    SELECT customer_id, count(*) AS orders, min(bought_at) AS first_at, max(bought_at) AS last_at, sum(net) AS net_fen,
           COALESCE(sum(net) FILTER (WHERE nth > 1), 0) AS repeat_net_fen,
           count(*) FILTER (WHERE bought_at >= %(rfm_since)s) AS rfm_orders,
           COALESCE(sum(net) FILTER (WHERE bought_at >= %(rfm_since)s), 0) AS rfm_net_fen,
           count(DISTINCT day) AS purchase_days, min(day) AS first_day, max(day) AS last_day,
           COALESCE(sum(net) FILTER (WHERE day > first_day), 0) AS repeat_day_net_fen
    FROM dated GROUP BY customer_id
), engaged AS (
    SELECT customer_id,
           count(*) FILTER (WHERE ts >= %(engaged_since)s AND source <> '{SOURCE}'
                            AND type IN ({", ".join(f"'{t}'" for t in ENGAGEMENT_TYPES)})) AS recent_events,
           count(*) FILTER (WHERE type = 'track' AND event = '{REFERRAL_EVENT}') AS referrals
    FROM events
    WHERE workspace_id = %(w)s AND customer_id IS NOT NULL AND ts <= %(now)s
      AND (ts >= %(engaged_since)s OR event = '{REFERRAL_EVENT}')
    GROUP BY customer_id
)
SELECT c.id, COALESCE(b.orders, 0), b.first_at, b.last_at, COALESCE(b.net_fen, 0), COALESCE(b.repeat_net_fen, 0),
       COALESCE(b.rfm_orders, 0), COALESCE(b.rfm_net_fen, 0), COALESCE(e.recent_events, 0), COALESCE(e.referrals, 0),
       COALESCE(b.purchase_days, 0), b.first_day, b.last_day, COALESCE(b.repeat_day_net_fen, 0)
FROM customers c LEFT JOIN bought b ON b.customer_id = c.id LEFT JOIN engaged e ON e.customer_id = c.id
WHERE c.workspace_id = %(w)s AND c.status = 'active'"""
# A back-test leaves out the customers first seen after it who had bought nothing by then.
KNOWN_BY_NOW = " AND (c.first_seen_at IS NULL OR c.first_seen_at <= %(now)s OR b.orders > 0)"

# core.stage as SQL: the same checks in the same order.
STAGE = """CASE WHEN f.orders = 0 THEN 'prospect'
    WHEN f.last_at < %(churned_before)s THEN 'churned'
    WHEN f.last_at < %(dormant_before)s THEN 'dormant'
    WHEN f.last_at < %(at_risk_before)s THEN 'at_risk'
    WHEN f.orders >= %(repeat_orders)s
         AND (f.recent_events >= %(loyal_events)s OR f.referrals >= %(loyal_referrals)s) THEN 'loyal'
    WHEN f.orders >= %(repeat_orders)s THEN 'repeat'
    ELSE 'new' END"""

# core.score over the customers who bought in the RFM window; ties share a percent rank, hence a score.
RFM = f"""SELECT customer_id,
    LEAST({core.SCORES}, 1 + CAST(floor({core.SCORES} * percent_rank() OVER (ORDER BY last_at)) AS INTEGER)) AS r,
    LEAST({core.SCORES}, 1 + CAST(floor({core.SCORES} * percent_rank() OVER (ORDER BY rfm_orders)) AS INTEGER)) AS f,
    LEAST({core.SCORES}, 1 + CAST(floor({core.SCORES} * percent_rank() OVER (ORDER BY rfm_net_fen)) AS INTEGER)) AS m
FROM lifecycle_facts WHERE rfm_orders > 0"""


def _class_sql() -> str:
    def high(column: str, is_high: bool) -> str:
        return f"s.{column} {'>=' if is_high else '<'} {core.HIGH_SCORE}"

    cases = " ".join(f"WHEN {high('r', r)} AND {high('f', f)} AND {high('m', m)} THEN '{name}'"
                     for (r, f, m), name in core._CLASS_OF.items())
    return f"CASE {cases} END"


SCORES_DDL = """CREATE TEMP TABLE lifecycle_new (
    customer_id BIGINT NOT NULL, stage VARCHAR NOT NULL, r SMALLINT, f SMALLINT, m SMALLINT, rfm_class VARCHAR,
    historic_value_fen BIGINT NOT NULL, predicted_value_fen BIGINT)"""
SCORES = f"""INSERT INTO lifecycle_new
SELECT f.customer_id, {STAGE}, s.r, s.f, s.m, {_class_sql()}, f.net_fen, p.predicted_value_fen
FROM lifecycle_facts f LEFT JOIN ({RFM}) s ON s.customer_id = f.customer_id
LEFT JOIN lifecycle_predicted p ON p.customer_id = f.customer_id"""

# A customer seen for the first time is taken to have been a prospect; the message id makes a re-run harmless.
PRIOR = "COALESCE(o.lifecycle_stage, 'prospect')"
MESSAGE_ID = (f"'{SOURCE}:lifecycle:' || CAST(n.customer_id AS VARCHAR) || ':' || %(day)s || ':' || {PRIOR} "
              "|| '>' || n.stage")
CHANGED = f"""FROM lifecycle_new n LEFT JOIN customer_scores o ON o.customer_id = n.customer_id
WHERE {PRIOR} <> n.stage AND NOT EXISTS (
    SELECT 1 FROM events e WHERE e.workspace_id = %(w)s AND e.message_id = {MESSAGE_ID}
      AND e.event = '{EVENT_NAME}' AND e.ts >= %(today)s)"""
TRANSITIONS = f"""INSERT INTO events (workspace_id, message_id, type, event, customer_id, properties, ts, received_at,
                                     source)
SELECT %(w)s, {MESSAGE_ID}, 'track', '{EVENT_NAME}', n.customer_id,
       CAST('{{"from": "' || {PRIOR} || '", "to": "' || n.stage || '"}}' AS {{json}}), %(now)s, %(now)s, '{SOURCE}'
{CHANGED}"""


@dataclass
class Refresh:
    """What one refresh did."""

    customers: int = 0
    transitions: int = 0
    baseline: bool = False  # stages recorded without transition events (the first refresh, or after a back-test)
    buyers: int = 0  # customers with a purchase as of the refresh, whom the value models are fitted on
    model: dict | None = None  # the fitted BG/NBD and Gamma-Gamma parameters, if the data supported them
    model_error: str | None = None  # why predicted value is empty, if it is
    seconds: dict[str, float] = field(default_factory=dict)


def refresh(warehouse: DuckDBWarehouse | PostgresWarehouse, *, workspace_id: int, thresholds: core.Thresholds,
            zone: str, now: datetime, backtest: bool = False, transitions: bool = True) -> Refresh:
    """Recompute every active customer's stage, RFM scores and class, historic and predicted value as of `now`:
    orders and events after it are ignored. A back-test (`now` in the past) also leaves out customers first seen
    after it. Without transitions (a back-test, or the first refresh after one) the stages are recorded as a
    baseline, with no 'Lifecycle Stage Changed' events."""
    transitions = transitions and not backtest
    report = Refresh()
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        report.seconds[name] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    params = {
        "w": workspace_id, "now": now, "zone": zone,
        "today": core.window_start(now, 1, zone),
        "day": core.window_start(now, 1, zone).strftime("%Y%m%d"),
        "engaged_since": core.window_start(now, thresholds.loyal_event_days, zone),
        "rfm_since": core.window_start(now, thresholds.rfm_window_days, zone),
        "at_risk_before": core.window_start(now, thresholds.at_risk_days, zone),
        "dormant_before": core.window_start(now, thresholds.dormant_days, zone),
        "churned_before": core.window_start(now, thresholds.churned_days, zone),
        "repeat_orders": thresholds.repeat_orders, "loyal_events": thresholds.loyal_events,
        "loyal_referrals": thresholds.loyal_referrals,
    }
    with warehouse.transaction() as tx:
        lock_in_transaction(tx, LOCK_KEY, workspace_id)
        # Temporary tables, dropped before commit (a rollback drops them too): on PostgreSQL the connection goes
        # back to a pool, and on DuckDB the transaction's cursor is closed.
        tx.execute(FACTS_DDL)
        tx.execute(FACTS + (KNOWN_BY_NOW if backtest else ""), params)
        lap("facts")
        predicted = _predict(tx, report, now=now, zone=zone, horizon_days=thresholds.prediction_days,
                             purchases=thresholds.value_purchases)
        tx.execute("CREATE TEMP TABLE lifecycle_predicted (customer_id BIGINT NOT NULL, "
                   "predicted_value_fen BIGINT NOT NULL)")
        if predicted.num_rows:
            warehouse.append_arrow(tx, "lifecycle_predicted", predicted)
        lap("value")
        tx.execute(SCORES_DDL)
        tx.execute(SCORES, params)
        lap("scores")
        report.baseline = not transitions or not tx.execute(
            "SELECT count(*) FROM customer_scores WHERE workspace_id = %(w)s", params).fetchall()[0][0]
        if not report.baseline:
            report.transitions = tx.execute(f"SELECT count(*) {CHANGED}", params).fetchall()[0][0]
            tx.execute(TRANSITIONS.replace("{json}", warehouse.json_type), params)
        lap("transitions")
        tx.execute("DELETE FROM customer_scores WHERE workspace_id = %(w)s", params)
        tx.execute("INSERT INTO customer_scores (workspace_id, customer_id, lifecycle_stage, rfm_r, rfm_f, rfm_m, "
                   "rfm_class, historic_value_fen, predicted_value_fen, computed_at) "
                   "SELECT %(w)s, customer_id, stage, r, f, m, rfm_class, historic_value_fen, predicted_value_fen, "
                   "%(now)s FROM lifecycle_new", params)
        report.customers = tx.execute("SELECT count(*) FROM lifecycle_new").fetchall()[0][0]
        for table in ("lifecycle_facts", "lifecycle_predicted", "lifecycle_new"):
            tx.execute(f"DROP TABLE {table}")
        lap("write")
    return report


def value_inputs(tx: Tx, *, now: datetime, zone: str, purchases: str) -> np.ndarray:
    """Per buyer: customer id, x repeat purchases, t_x and T in days, the repeat purchases' value in fen.

    By day, a customer's orders on one local day are one purchase and times are whole local days up to the as-of
    day (the papers' discrete time); by order, each order is one and times are exact."""
    if purchases == "day":
        return np.array(tx.execute(
            "SELECT customer_id, purchase_days - 1, last_day - first_day, CAST(%(as_of)s AS DATE) - first_day, "
            "repeat_day_net_fen FROM lifecycle_facts WHERE orders > 0 ORDER BY customer_id",
            {"as_of": now.astimezone(ZoneInfo(zone)).date()}).fetchall(), dtype=float).reshape(-1, 5)
    rows = np.array(tx.execute(
        "SELECT customer_id, orders - 1, "
        "CAST(extract(epoch FROM last_at) - extract(epoch FROM first_at) AS DOUBLE PRECISION), "
        "CAST(extract(epoch FROM CAST(%(now)s AS TIMESTAMPTZ)) - extract(epoch FROM first_at) AS DOUBLE PRECISION), "
        "repeat_net_fen FROM lifecycle_facts WHERE orders > 0 ORDER BY customer_id", {"now": now}).fetchall(),
        dtype=float).reshape(-1, 5)
    rows[:, 2:4] /= DAY_SECONDS
    return rows


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, mean_repeat: np.ndarray) -> tuple[value.BgNbd,
                                                                                         value.GammaGamma, str]:
    """BG/NBD with time in weeks (the papers' unit) and Gamma-Gamma with value in fen, and how they were fitted.

    Up to EXACT_FIT_BUYERS buyers are fitted on their exact histories; beyond, on whole weeks and whole yuan, which
    folds a million customers into a few tens of thousands of distinct histories (on CDNOW's 2,357 it moves the
    parameters by up to 2 %)."""
    if len(x) <= EXACT_FIT_BUYERS:
        weekly = value.fit_bgnbd(x, t_x / 7, T / 7)
        return weekly, value.fit_gamma_gamma(x, mean_repeat), "exact"
    weekly = value.fit_bgnbd(x, np.round(t_x / 7), np.round(T / 7))
    per_yuan = value.fit_gamma_gamma(x, np.round(mean_repeat / 100))
    return weekly, value.GammaGamma(p=per_yuan.p, q=per_yuan.q, v=per_yuan.v * 100), "weeks and yuan"


def _predict(tx: Tx, report: Refresh, *, now: datetime, zone: str, horizon_days: int, purchases: str) -> pa.Table:
    """Predicted value (fen) over the horizon for every buyer: BG/NBD purchases times Gamma-Gamma value."""
    data = value_inputs(tx, now=now, zone=zone, purchases=purchases)
    report.buyers = len(data)
    empty = pa.table({"customer_id": pa.array([], pa.int64()), "predicted_value_fen": pa.array([], pa.int64())})
    if not len(data):
        report.model_error = "no customer has bought yet"
        return empty
    ids = data[:, 0].astype(np.int64)
    x, t_x, T = data[:, 1], data[:, 2], data[:, 3]
    mean_repeat = np.divide(data[:, 4], x, out=np.zeros_like(x), where=x > 0)
    try:
        weekly, spend, how = fit(x, t_x, T, mean_repeat)
    except value.FitError as exc:
        report.model_error = str(exc)
        log.info("workspace value model not fitted: %s", exc)
        return empty
    report.model = {"bgnbd": {k: round(float(v), 6) for k, v in vars(weekly).items()},
                    "gamma_gamma": {k: round(float(v), 6) for k, v in vars(spend).items()},
                    "units": dict(MODEL_UNITS), "purchases": purchases, "fitted_on": how}
    daily = value.BgNbd(r=weekly.r, alpha=weekly.alpha * 7, a=weekly.a, b=weekly.b)
    with np.errstate(all="ignore"):
        predicted = daily.expected_purchases(horizon_days, x, t_x, T) * spend.expected_value(x, mean_repeat)
    keep = np.isfinite(predicted) & (predicted >= 0)
    return pa.table({"customer_id": pa.array(ids[keep]),
                     "predicted_value_fen": pa.array(np.rint(predicted[keep]).astype(np.int64))})
