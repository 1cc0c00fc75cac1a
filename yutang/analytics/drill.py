"""The customers behind each dashboard figure: one SELECT of customer ids per metric, with the figure's definition."""

from collections.abc import Callable
from dataclasses import dataclass

from yutang.analytics.dashboard import TIER, WAITING
from yutang.analytics.periods import Window
from yutang.analytics.schemas import DrillCustomer
from yutang.analytics.sql import ACTIVITY, BALANCE_OF, CUSTOMERS, LOCAL_DAY, OWN, PURCHASES, Warehouse, within
from yutang.kit.errors import Invalid

RANGE = within("{c}", "s", "e")


@dataclass(frozen=True)
class Filters:
    """What narrows a metric: a channel (first touch or sales channel) or a tier."""

    channel_id: int | None = None
    tier_id: int | None = None


def _new(f: Filters) -> str:
    channel = " AND first_channel_id = %(channel)s" if f.channel_id is not None else ""
    return f"{CUSTOMERS} AND {RANGE.format(c='first_seen_at')}{channel}"


def _buyers(f: Filters) -> str:
    channel = " AND o.channel_id = %(channel)s" if f.channel_id is not None else ""
    return f"SELECT DISTINCT o.customer_id {PURCHASES} AND {RANGE.format(c='o.paid_at')}{channel}"


def _repeat(f: Filters) -> str:
    return (f"SELECT o.customer_id {PURCHASES} AND {RANGE.format(c='o.paid_at')} GROUP BY o.customer_id "
            f"HAVING count(DISTINCT {LOCAL_DAY}) > 1")


def _members(f: Filters) -> str:
    tier = " AND value = %(tier)s" if f.tier_id is not None else ""
    return f"SELECT customer_id FROM ({TIER}) t WHERE value IS NOT NULL{tier}"


def _message(event: str) -> Callable[[Filters], str]:
    return lambda f: (f"SELECT DISTINCT customer_id {OWN} AND event = '{event}' AND customer_id IS NOT NULL "
                      f"AND {RANGE.format(c='ts')}")


# metric -> (ids of the customers behind it, whether it takes a channel / a tier)
METRICS: dict[str, tuple[Callable[[Filters], str], bool, bool]] = {
    "pool": (lambda f: f"{CUSTOMERS} AND (first_seen_at IS NULL OR first_seen_at < %(e)s)", False, False),
    "new_customers": (_new, True, False),
    "active": (lambda f: f"SELECT DISTINCT customer_id {ACTIVITY} AND {RANGE.format(c='ts')}", False, False),
    "buyers": (_buyers, True, False),
    "repeat_buyers": (_repeat, False, False),
    "members": (_members, False, True),
    "points_holders": (lambda f: f"SELECT customer_id FROM ({BALANCE_OF}) b WHERE value > 0", False, False),
    "message_recipients": (_message("Message Sent"), False, False),
    "message_readers": (_message("Message Read"), False, False),
    "message_clickers": (_message("Message Clicked"), False, False),
    "waiting": (lambda f: WAITING, False, False),
}


def ids_sql(metric: str, filters: Filters) -> str:
    """A SELECT of the active customers' ids behind a metric (parameters w, s, e, zone, channel, tier)."""
    if metric not in METRICS:
        raise Invalid(f"unknown metric {metric!r}: one of {', '.join(METRICS)}", field="metric")
    build, takes_channel, takes_tier = METRICS[metric]
    if filters.channel_id is not None and not takes_channel:
        raise Invalid(f"{metric} takes no channel", field="channel_id")
    if filters.tier_id is not None and not takes_tier:
        raise Invalid(f"{metric} takes no tier", field="tier_id")
    return f"SELECT id AS customer_id FROM customers WHERE workspace_id = %(w)s AND status = 'active' " \
           f"AND id IN ({build(filters)})"


def params(workspace_id: int, window: Window, filters: Filters) -> dict:
    """The parameters ids_sql's statements take."""
    return {"w": workspace_id, "s": window.start, "e": window.end, "zone": window.timezone,
            "channel": filters.channel_id, "tier": filters.tier_id}


def page_of(warehouse: Warehouse, ids: str, p: dict, *, after_id: int | None,
            limit: int) -> tuple[int, list[DrillCustomer]]:
    """How many customers a SELECT of ids names, and a page of them by ascending id."""
    p = {**p, "after": after_id or 0, "limit": limit}
    (total,), = warehouse.query(f"SELECT count(*) FROM ({ids}) m", p)
    rows = warehouse.query(
        "SELECT c.id, c.first_seen_at, c.first_channel_id, c.province, c.city FROM customers c "
        f"WHERE c.workspace_id = %(w)s AND c.id IN ({ids}) AND c.id > %(after)s ORDER BY c.id LIMIT %(limit)s", p)
    return total, [DrillCustomer(customer_id=r[0], first_seen_at=r[1], first_channel_id=r[2], province=r[3],
                                 city=r[4]) for r in rows]


def all_ids(warehouse: Warehouse, *, metric: str, workspace_id: int, window: Window, filters: Filters) -> list[int]:
    """Every customer id behind a metric (for a static segment)."""
    return [row[0] for row in warehouse.query(f"{ids_sql(metric, filters)} ORDER BY 1",
                                              params(workspace_id, window, filters))]
