"""The warehouse SQL the reports share: who counts as a customer, an activity, a purchase; bound in one place."""

from yutang.orders.paid import purchase_sql
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse
from yutang.warehouse.own_events import SOURCE

Warehouse = DuckDBWarehouse | PostgresWarehouse

# Active customers of the workspace (merged and erased ones are left out of every figure and list).
CUSTOMERS = "SELECT id FROM customers WHERE workspace_id = %(w)s AND status = 'active'"
# The workspace's merged and erased customers (few): ruling them out per event row is cheaper than ruling the
# active in; a customer the relay has not yet brought counts.
GONE = "SELECT id FROM customers WHERE workspace_id = %(w)s AND status <> 'active'"
# What the customer did (tracked events, pages, screens), not what Yutang did to them (its own events).
ACTIVITY = (f"FROM events WHERE workspace_id = %(w)s AND customer_id IS NOT NULL AND source <> '{SOURCE}' "
            "AND type IN ('track', 'page', 'screen')")
# Paid orders with money left in them, by paid time; their value is paid less refunded.
PURCHASES = f"FROM orders o WHERE o.workspace_id = %(w)s AND o.customer_id IS NOT NULL AND {purchase_sql('o')}"
# One purchase day per customer and local calendar day (several orders on one day count once: 按天去重).
LOCAL_DAY = "CAST(o.paid_at AT TIME ZONE %(zone)s AS DATE)"
# Yutang's own events (messages, points, tiers).
OWN = f"FROM events WHERE workspace_id = %(w)s AND source = '{SOURCE}'"


def within(column: str, start: str, end: str) -> str:
    """`column` in [start, end) for two parameter names."""
    return f"{column} >= %({start})s AND {column} < %({end})s"


def latest(event: str, *, value: str) -> str:
    """Per customer, `value` of their latest `event` before %(e)s (a tier, a points balance), as (customer_id,
    value); ties broken by message id so the answer is stable."""
    return (f"SELECT customer_id, value FROM (SELECT customer_id, {value} AS value, row_number() OVER "
            f"(PARTITION BY customer_id ORDER BY ts DESC, message_id DESC) AS n {OWN} AND event = '{event}' "
            "AND customer_id IS NOT NULL AND ts < %(e)s) x WHERE n = 1")


def seconds(later: str, earlier: str) -> str:
    """Seconds from one timestamp to a later one, as a number (portable: DuckDB and PostgreSQL both read it)."""
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


# Per customer, the points balance after their latest ledger entry before %(e)s.
BALANCE_OF = latest("Points Changed", value="CAST(properties ->> 'balance_after' AS BIGINT)")


def purchased_lines(item: str) -> str:
    """FROM the lines (l) of purchases (o) by active customers whose `item` (a column of l) is set; parameter w."""
    return (f"FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.workspace_id = %(w)s "
            f"AND o.customer_id IS NOT NULL AND {purchase_sql('o')} AND l.workspace_id = %(w)s "
            f"AND {item} IS NOT NULL AND o.customer_id IN ({CUSTOMERS})")
