"""Marketing's incremental revenue against the global holdout: revenue per customer of the pool in and out of the
holdout over a range, the difference times the customers marketed to, and Welch's test on it."""

from scipy import stats

from yutang.analytics.periods import Window
from yutang.analytics.schemas import HoldoutGroup, HoldoutOut
from yutang.analytics.sql import CUSTOMERS, PURCHASES, Warehouse
from yutang.messaging.pressure import held_out_sql

MIN_HELD = 100  # fewer held-out customers than this and the comparison is not worth reading


def compute(warehouse: Warehouse, *, workspace_id: int, window: Window, share_bp: int) -> HoldoutOut:
    """Both groups' customers, buyers and revenue (paid less refunded, fen) in the range; the pool is the active
    customers first seen before its end."""
    p = {"w": workspace_id, "s": window.start, "e": window.end, "share": share_bp}
    rows = {bool(held): (int(n), int(buyers), int(total or 0), float(squares or 0)) for held, n, buyers, total, squares
            in warehouse.query(
                f"SELECT {held_out_sql('c.id', 'w', 'share')} AS held, count(*), count(r.customer_id), "
                "sum(COALESCE(r.fen, 0)), sum(CAST(COALESCE(r.fen, 0) AS DOUBLE PRECISION) * COALESCE(r.fen, 0)) "
                f"FROM customers c LEFT JOIN (SELECT o.customer_id, sum(o.paid_fen - o.refunded_fen) AS fen "
                f"{PURCHASES} AND o.paid_at >= %(s)s AND o.paid_at < %(e)s GROUP BY o.customer_id) r "
                "ON r.customer_id = c.id WHERE c.workspace_id = %(w)s AND c.status = 'active' "
                f"AND (c.first_seen_at IS NULL OR c.first_seen_at < %(e)s) AND c.id IN ({CUSTOMERS}) GROUP BY 1", p)}

    def group(held: bool) -> HoldoutGroup:
        n, buyers, total, _ = rows.get(held, (0, 0, 0, 0.0))
        return HoldoutGroup(customers=n, buyers=buyers, revenue_fen=total,
                            revenue_per_customer_fen=total / n if n else None)

    marketed, held = group(False), group(True)
    incremental = lift = p_value = None
    if marketed.customers and held.customers:
        incremental = round((marketed.revenue_per_customer_fen - held.revenue_per_customer_fen) * marketed.customers)
        if held.revenue_per_customer_fen:
            lift = marketed.revenue_per_customer_fen / held.revenue_per_customer_fen - 1
        if marketed.customers > 1 and held.customers > 1:
            moments = [_moments(*rows[flag]) for flag in (False, True)]
            if any(std > 0 for _, std, _ in moments):
                p_value = float(stats.ttest_ind_from_stats(*moments[0], *moments[1], equal_var=False).pvalue)
    return HoldoutOut(first_day=window.first, last_day=window.last, holdout_bp=share_bp, marketed=marketed,
                      held_out=held, incremental_revenue_fen=incremental, lift=lift, p_value=p_value,
                      readable=held.customers >= MIN_HELD and p_value is not None)


def _moments(n: int, _buyers: int, total: int, squares: float) -> tuple[float, float, int]:
    """Mean, sample standard deviation and size of per-customer revenue from its sums."""
    mean = total / n
    variance = max((squares - n * mean * mean) / (n - 1), 0.0)
    return mean, variance ** 0.5, n
