"""The home dashboard's figures, each for a range and the period before it, in a few warehouse statements."""

from datetime import datetime

from yutang.analytics.periods import Window
from yutang.analytics.schemas import (
    ChannelCustomers,
    ChannelSales,
    DashboardOut,
    DayCount,
    DomainSales,
    Figure,
    Inbox,
    Messages,
    Rate,
    Sales,
    TierMembers,
)
from yutang.analytics.sql import (
    ACTIVITY,
    BALANCE_OF,
    CUSTOMERS,
    GONE,
    LOCAL_DAY,
    OWN,
    PURCHASES,
    Warehouse,
    latest,
    seconds,
    within,
)

DOMAINS = ("private", "public", "commercial")
CUR, PREV = within("{c}", "s1", "e1"), within("{c}", "s0", "e0")


def _both(column: str) -> tuple[str, str]:
    return CUR.format(c=column), PREV.format(c=column)


def params(workspace_id: int, window: Window) -> dict:
    """The parameters every dashboard statement takes: workspace, zone, the range and the period before."""
    before = window.previous()
    return {"w": workspace_id, "zone": window.timezone, "s1": window.start, "e1": window.end, "s0": before.start,
            "e0": before.end}


def compute(warehouse: Warehouse, *, workspace_id: int, window: Window, period: str, channels: dict[int, tuple],
            now: datetime) -> DashboardOut:
    """Every figure of the dashboard; `channels` maps channel ids to (name, domain) for the breakdowns."""
    p = params(workspace_id, window)
    before = window.previous()
    new_by_channel, new, pool = _customers(warehouse, p, channels)
    sales, by_channel, by_domain = _sales(warehouse, p, channels)
    active, dau, wau, mau, daily = _activity(warehouse, p, window)
    repeat, rate = _repurchase(warehouse, p)
    tiers, members, liability, holders = _loyalty(warehouse, p)
    return DashboardOut(
        period=period, first_day=window.first, last_day=window.last, previous_first_day=before.first,
        previous_last_day=before.last, timezone=window.timezone, computed_at=now, pool=pool, new_customers=new,
        new_by_channel=new_by_channel, active=active, dau=dau, wau=wau, mau=mau, active_daily=daily, sales=sales,
        sales_by_channel=by_channel, sales_by_domain=by_domain, repeat_buyers=repeat, repurchase_rate=rate,
        members=members, members_by_tier=tiers, points_liability=liability, points_holders=holders,
        messages=_messages(warehouse, p), inbox=_inbox(warehouse, p))


def _customers(warehouse: Warehouse, p: dict, channels: dict[int, tuple]):
    cur, prev = _both("first_seen_at")
    rows = warehouse.query(
        f"SELECT first_channel_id, count(*) FILTER (WHERE {cur}), count(*) FILTER (WHERE {prev}), "
        "count(*) FILTER (WHERE first_seen_at IS NULL OR first_seen_at < %(e1)s), "
        "count(*) FILTER (WHERE first_seen_at IS NULL OR first_seen_at < %(e0)s) "
        "FROM customers WHERE workspace_id = %(w)s AND status = 'active' GROUP BY 1", p)
    by_channel = [ChannelCustomers(channel_id=channel, name=channels.get(channel, (None, None))[0],
                                   domain=channels.get(channel, (None, None))[1],
                                   customers=Figure(current=n1, previous=n0))
                  for channel, n1, n0, _, _ in rows if n1 or n0]
    by_channel.sort(key=lambda c: (-c.customers.current, c.channel_id or 0))
    new = Figure(current=sum(r[1] for r in rows), previous=sum(r[2] for r in rows))
    pool = Figure(current=sum(r[3] for r in rows), previous=sum(r[4] for r in rows))
    return by_channel, new, pool


def _domain_case(channels: dict[int, tuple]) -> str:
    # Channel ids are integers from the OLTP registry, written into the statement as literals.
    arms = []
    for domain in DOMAINS:
        ids = sorted(i for i, (_, d) in channels.items() if d == domain)
        if ids:
            arms.append(f"WHEN o.channel_id IN ({', '.join(str(int(i)) for i in ids)}) THEN '{domain}'")
    # Always a CASE on the column: PostgreSQL refuses a bare constant among the grouping sets.
    arms = arms or ["WHEN o.channel_id IS NULL THEN 'unknown'"]
    return f"CASE {' '.join(arms)} ELSE 'unknown' END"


def _sales(warehouse: Warehouse, p: dict, channels: dict[int, tuple]):
    cur, prev = _both("o.paid_at")
    value = "o.paid_fen - o.refunded_fen"
    rows = warehouse.query(
        f"SELECT o.channel_id, {_domain_case(channels)} AS domain, "
        f"GROUPING(o.channel_id), GROUPING({_domain_case(channels)}), "
        f"count(*) FILTER (WHERE {cur}), COALESCE(sum({value}) FILTER (WHERE {cur}), 0), "
        f"count(DISTINCT o.customer_id) FILTER (WHERE {cur}), "
        f"count(*) FILTER (WHERE {prev}), COALESCE(sum({value}) FILTER (WHERE {prev}), 0), "
        f"count(DISTINCT o.customer_id) FILTER (WHERE {prev}) "
        f"{PURCHASES} AND o.paid_at >= %(s0)s AND o.paid_at < %(e1)s "
        f"GROUP BY GROUPING SETS ((o.channel_id), ({_domain_case(channels)}), ())", p)
    total = Sales(**_sales_figures(0, 0, 0, 0, 0, 0))
    by_channel, by_domain = [], []
    for channel, domain, g_channel, g_domain, *numbers in rows:
        figures = _sales_figures(*(int(n) for n in numbers))
        if not g_channel:
            name, kind = channels.get(channel, (f"#{channel}", "unknown"))
            by_channel.append(ChannelSales(channel_id=channel, name=name, domain=kind, **figures))
        elif not g_domain:
            by_domain.append(DomainSales(domain=domain, **figures))
        else:
            total = Sales(**figures)
    by_channel.sort(key=lambda c: (-c.gmv_fen.current, c.channel_id))
    order = {d: i for i, d in enumerate(DOMAINS)}
    by_domain.sort(key=lambda d: order.get(d.domain, len(DOMAINS)))
    return total, by_channel, by_domain


def _sales_figures(o1: int, g1: int, b1: int, o0: int, g0: int, b0: int) -> dict:
    return {"orders": Figure(current=o1, previous=o0), "gmv_fen": Figure(current=g1, previous=g0),
            "buyers": Figure(current=b1, previous=b0),
            "aov_fen": Figure(current=g1 // o1 if o1 else 0, previous=g0 // o0 if o0 else 0)}


def _activity(warehouse: Warehouse, p: dict, window: Window):
    cur, prev = _both("ts")
    day, week, month = window.trailing(1), window.trailing(7), window.trailing(30)
    q = {**p, "d": day[0], "wk": week[0], "m": month[0], "since": min(p["s0"], month[0])}
    # One pass: each customer's latest activity in the range (and in the period before) answers every count.
    (a1, a0, dau, wau, mau), = warehouse.query(
        "SELECT count(*) FILTER (WHERE last >= %(s1)s), count(*) FILTER (WHERE last_before >= %(s0)s), "
        "count(*) FILTER (WHERE last >= %(d)s), count(*) FILTER (WHERE last >= %(wk)s), "
        "count(*) FILTER (WHERE last >= %(m)s) FROM (SELECT customer_id, max(ts) AS last, "
        f"max(ts) FILTER (WHERE ts < %(e0)s) AS last_before {ACTIVITY} AND ts >= %(since)s AND ts < %(e1)s "
        f"GROUP BY customer_id) a WHERE customer_id IN ({CUSTOMERS})", q)
    daily = dict(warehouse.query(
        f"SELECT CAST(ts AT TIME ZONE %(zone)s AS DATE), count(DISTINCT customer_id) {ACTIVITY} AND {cur} "
        f"AND customer_id NOT IN ({GONE}) GROUP BY 1", p))
    days = [window.first.fromordinal(window.first.toordinal() + i) for i in range(window.days)]
    return (Figure(current=a1, previous=a0), dau, wau, mau,
            [DayCount(day=d, customers=daily.get(d, 0)) for d in days])


def _repurchase(warehouse: Warehouse, p: dict):
    cur, prev = _both("o.paid_at")
    (b1, r1, b0, r0), = warehouse.query(
        "SELECT count(*) FILTER (WHERE d1 > 0), count(*) FILTER (WHERE d1 > 1), count(*) FILTER (WHERE d0 > 0), "
        f"count(*) FILTER (WHERE d0 > 1) FROM (SELECT o.customer_id, count(DISTINCT {LOCAL_DAY}) FILTER (WHERE {cur}) "
        f"AS d1, count(DISTINCT {LOCAL_DAY}) FILTER (WHERE {prev}) AS d0 {PURCHASES} "
        "AND o.paid_at >= %(s0)s AND o.paid_at < %(e1)s GROUP BY o.customer_id) b", p)
    return (Figure(current=r1, previous=r0),
            Rate(current=r1 / b1 if b1 else None, previous=r0 / b0 if b0 else None))


TIER = latest("Tier Changed", value="CAST(properties ->> 'to_tier_id' AS BIGINT)")
TIER_NAME = ("SELECT customer_id, name FROM (SELECT customer_id, properties ->> 'tier_name' AS name, row_number() "
             "OVER (PARTITION BY customer_id ORDER BY ts DESC, message_id DESC) AS n "
             f"{OWN} AND event = 'Tier Changed' AND customer_id IS NOT NULL AND ts < %(e)s) x WHERE n = 1")
BALANCE = BALANCE_OF


def _loyalty(warehouse: Warehouse, p: dict):
    found: dict[str, dict] = {}
    for key, end in (("current", p["e1"]), ("previous", p["e0"])):
        q = {"w": p["w"], "e": end}
        tiers = warehouse.query(
            f"SELECT t.value, max(n.name), count(*) FROM ({TIER}) t JOIN ({TIER_NAME}) n "
            f"ON n.customer_id = t.customer_id WHERE t.value IS NOT NULL AND t.customer_id IN ({CUSTOMERS}) "
            "GROUP BY t.value", q)
        (points, holders), = warehouse.query(
            f"SELECT COALESCE(sum(value), 0), count(*) FROM ({BALANCE}) b WHERE value > 0 "
            f"AND customer_id IN ({CUSTOMERS})", q)
        found[key] = {"tiers": {tier: (name, n) for tier, name, n in tiers}, "points": int(points),
                      "holders": holders}
    ids = sorted(set(found["current"]["tiers"]) | set(found["previous"]["tiers"]))
    by_tier = [TierMembers(tier_id=i, name=(found["current"]["tiers"].get(i) or found["previous"]["tiers"][i])[0],
                           members=Figure(current=found["current"]["tiers"].get(i, (None, 0))[1],
                                          previous=found["previous"]["tiers"].get(i, (None, 0))[1])) for i in ids]
    members = Figure(current=sum(t.members.current for t in by_tier), previous=sum(t.members.previous for t in by_tier))
    return (by_tier, members, Figure(current=found["current"]["points"], previous=found["previous"]["points"]),
            Figure(current=found["current"]["holders"], previous=found["previous"]["holders"]))


def _messages(warehouse: Warehouse, p: dict) -> Messages:
    cur, prev = _both("ts")
    counts = {event: (n1, n0) for event, n1, n0 in warehouse.query(
        f"SELECT event, count(*) FILTER (WHERE {cur}), count(*) FILTER (WHERE {prev}) {OWN} "
        "AND event IN ('Message Sent', 'Message Read', 'Message Clicked') "
        "AND ts >= %(s0)s AND ts < %(e1)s GROUP BY event", p)}

    def figure(event: str) -> Figure:
        n1, n0 = counts.get(event, (0, 0))
        return Figure(current=n1, previous=n0)

    return Messages(sent=figure("Message Sent"), read=figure("Message Read"), clicked=figure("Message Clicked"))


# A thread's inbound messages and staff answers (a reply queued in the thread), in order. A wait begins at an
# inbound message that follows an answer (or opens the thread) and ends at the next answer.
THREAD_EVENTS = (
    f"SELECT properties ->> 'thread_id' AS thread, customer_id, ts, message_id, "
    "CASE WHEN event = 'Message Received' THEN 1 ELSE 0 END AS inbound "
    f"{OWN} AND ts < %(e)s AND properties ->> 'thread_id' IS NOT NULL AND (event = 'Message Received' "
    "OR (event = 'Message Queued' AND properties ->> 'purpose' = 'reply'))")
WAITS = (
    "SELECT thread, customer_id, ts, inbound, "
    "lag(inbound) OVER (PARTITION BY thread ORDER BY ts, message_id) AS before, "
    "min(CASE WHEN inbound = 0 THEN ts END) OVER (PARTITION BY thread ORDER BY ts, message_id "
    "ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS answered_at, "
    "row_number() OVER (PARTITION BY thread ORDER BY ts DESC, message_id DESC) AS last "
    f"FROM ({THREAD_EVENTS}) t")
WAITING = f"SELECT customer_id FROM ({WAITS}) x WHERE last = 1 AND inbound = 1"


def _inbox(warehouse: Warehouse, p: dict) -> Inbox:
    found = {}
    for key, start, end in (("current", p["s1"], p["e1"]), ("previous", p["s0"], p["e0"])):
        (waiting, answered, median), = warehouse.query(
            "SELECT count(*) FILTER (WHERE last = 1 AND inbound = 1), "
            "count(*) FILTER (WHERE began AND answered_at IS NOT NULL), "
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN began THEN {seconds('answered_at', 'ts')} END) "
            "FROM (SELECT *, inbound = 1 AND (before IS NULL OR before = 0) AND ts >= %(s)s AS began "
            f"FROM ({WAITS}) w) x", {"w": p["w"], "s": start, "e": end})
        found[key] = (waiting, answered, float(median) if median is not None else None)
    cur, prev = found["current"], found["previous"]
    return Inbox(waiting=Figure(current=cur[0], previous=prev[0]), answered=Figure(current=cur[1], previous=prev[1]),
                 first_response_median_seconds=Rate(current=cur[2], previous=prev[2]))
