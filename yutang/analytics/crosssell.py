"""Cross-sell: association rules A → B between pairs of categories or SKUs bought in one basket (an order, or a
customer's purchases in the range), with support, confidence and lift, in one warehouse statement."""

from yutang.analytics.periods import Window
from yutang.analytics.schemas import CrossSellIn, CrossSellOut, RuleOut
from yutang.analytics.sql import Warehouse, purchased_lines, within
from yutang.kit.errors import Invalid
from yutang.orders.paid import purchase_sql

LEVELS = {"category": "l.category", "sku": "l.sku"}
BASKETS = {"order": "o.id", "customer": "o.customer_id"}
# Lets a threshold met exactly pass whatever the float rounding of support × baskets.
SLACK = 1e-9
RANGE = within("o.paid_at", "s", "e")


def rules_sql(data: CrossSellIn, *, workspace_id: int, window: Window) -> tuple[str, dict]:
    """The rules meeting the thresholds, best lift first: a, b, both, baskets with a, with b, all baskets (one row
    of nulls and the baskets when no rule meets them)."""
    p = {"w": workspace_id, "s": window.start, "e": window.end, "support": data.min_support - SLACK,
         "confidence": data.min_confidence - SLACK, "lift": data.min_lift - SLACK, "top": data.top}
    item = LEVELS[data.level]
    items = f"SELECT DISTINCT {BASKETS[data.basket]} AS t, {item} AS i {purchased_lines(item)} AND {RANGE}"
    # Apriori's pruning: an item below the support threshold is in no pair above it.
    sql = (f"WITH items AS MATERIALIZED ({items}), "
           "n AS (SELECT count(DISTINCT t) AS n FROM items), "
           "single AS MATERIALIZED (SELECT i, count(*) AS c FROM items GROUP BY i "
           "HAVING count(*) >= %(support)s * (SELECT n FROM n)), "
           "kept AS MATERIALIZED (SELECT items.t, items.i FROM items JOIN single ON single.i = items.i), "
           "pairs AS (SELECT x.i AS a, y.i AS b, count(*) AS c FROM kept x JOIN kept y ON x.t = y.t AND x.i <> y.i "
           "GROUP BY x.i, y.i HAVING count(*) >= %(support)s * (SELECT n FROM n)), "
           "measured AS (SELECT p.a, p.b, p.c, sa.c AS ca, sb.c AS cb, n.n, "
           "CAST(p.c AS DOUBLE PRECISION) / sa.c AS confidence, "
           "CAST(p.c * n.n AS DOUBLE PRECISION) / (sa.c * sb.c) AS lift "
           "FROM pairs p JOIN single sa ON sa.i = p.a JOIN single sb ON sb.i = p.b CROSS JOIN n), "
           # The baskets counted once more as a row of their own, so an answer with no rule still has them.
           "best AS (SELECT a, b, c, ca, cb, lift FROM measured WHERE confidence >= %(confidence)s "
           "AND lift >= %(lift)s ORDER BY lift DESC, c DESC, a, b LIMIT %(top)s) "
           "SELECT a, b, c, ca, cb, n.n FROM n LEFT JOIN best ON TRUE "
           "ORDER BY best.lift DESC, best.c DESC, best.a, best.b")
    return sql, p


def compute(warehouse: Warehouse, data: CrossSellIn, *, workspace_id: int, window: Window) -> CrossSellOut:
    """The rules, and how many baskets they were drawn from."""
    sql, p = rules_sql(data, workspace_id=workspace_id, window=window)
    rows = warehouse.query(sql, p)
    baskets = int(rows[0][5]) if rows else 0
    rules = [RuleOut(antecedent=a, consequent=b, baskets=int(c), antecedent_baskets=int(ca),
                     consequent_baskets=int(cb), support=c / n, confidence=c / ca, lift=(c * n) / (ca * cb))
             for a, b, c, ca, cb, n in rows if a is not None]
    return CrossSellOut(first_day=window.first, last_day=window.last, level=data.level, basket=data.basket,
                        baskets=int(baskets), rules=rules)


def customers_sql(*, level: str, antecedent: str, consequent: str, workspace_id: int,
                  window: Window) -> tuple[str, dict]:
    """A SELECT of the customers who bought A in the range and have never bought B (买了 A、还没买 B)."""
    if antecedent == consequent:
        raise Invalid("the consequent must differ from the antecedent", field="consequent")
    p = {"w": workspace_id, "s": window.start, "e": window.end, "a": antecedent, "b": consequent}
    item = LEVELS[level]
    bought_b = (f"SELECT 1 FROM order_lines bl JOIN orders b ON b.id = bl.order_id WHERE b.workspace_id = %(w)s "
                f"AND bl.workspace_id = %(w)s AND b.customer_id = o.customer_id AND bl.{level} = %(b)s "
                f"AND {purchase_sql('b')}")
    sql = (f"SELECT DISTINCT o.customer_id {purchased_lines(item)} AND {RANGE} AND {item} = %(a)s "
           f"AND NOT EXISTS ({bought_b})")
    return sql, p
