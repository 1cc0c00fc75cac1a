"""Rule tree → one SELECT of customer ids against the warehouse tables, with bound %(name)s parameters.

Pure: no database, no clock (the caller passes `now` and the workspace's zone), so it is tested on its own.
Every warehouse table is named through `Context.scan` / `Context.join`, which add its workspace filter, so no read
can miss it (PostHog's HogQL adds team_id the same way); tests/test_segments_tenancy.py parses every kind's SQL.
Every condition becomes a two-valued predicate on the customer row `c` — mostly `c.id IN (SELECT customer_id …)`,
which both DuckDB and PostgreSQL plan as a semi-join — so all / any / not combine with AND / OR / NOT without
three-valued surprises. Aggregates whose value for a customer with no rows (0 events, 0 spend) satisfies the
comparison compile to `c.id NOT IN (customers whose rows fail it)`, so people with nothing recorded count right.
The few dialect differences live in `yutang.segments.dialect`.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yutang.orders import paid
from yutang.segments import dialect as dialects
from yutang.segments.rules import (
    All,
    Any_,
    AttributeCondition,
    BoughtCondition,
    ChannelCondition,
    ConsentCondition,
    EventCondition,
    GroupCondition,
    IdentityCondition,
    LifecycleCondition,
    Node,
    Not,
    Op,
    OrderCondition,
    RfmCondition,
    TagCondition,
    ValueCondition,
    Window,
)

PURCHASE = paid.purchase_sql("o")  # one definition of a purchase, shared with lifecycle and the archive
SPEND = "(o.paid_fen - o.refunded_fen)"
# The warehouse tables the compiler reads, each holding several workspaces' rows.
WORKSPACE_TABLES = frozenset({"customers", "identities", "customer_tags", "memberships", "consents", "events",
                              "orders", "order_lines", "customer_scores", "group_members"})
ATTRIBUTE_COLUMNS = {"gender": "gender", "birthday": "birthday", "province": "province", "city": "city",
                     "source_campaign": "source_campaign", "first_seen_at": "first_seen_at",
                     "assigned_member_id": "assigned_member_id", "refuses_personalised": "refuses_personalised"}


@dataclass
class Compiled:
    """A statement and its parameters (%(name)s style, as the warehouse backends take them)."""

    sql: str
    params: dict[str, Any]


@dataclass
class Piece:
    """One condition: its predicate on `c`, and a query observing its value for customer %(cid)s."""

    predicate: str
    observe: str
    many: bool = False  # observe returns several rows (a list), else one value
    default: Any = None  # the value when observe finds no row


@dataclass
class Context:
    """What compiling needs besides the rule: workspace, zone, the instant windows end at, dialect."""

    workspace_id: int
    timezone: str
    now: datetime
    dialect: str = "duckdb"
    restrict: bool = False  # limit every scan to customer ids in %(ids)s (incremental re-evaluation)
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.params["w"] = self.workspace_id
        self.zone = ZoneInfo(self.timezone)

    def bind(self, value: Any) -> str:
        """A fresh parameter holding value; returns its placeholder."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def scan(self, table: str, alias: str | None = None, *, join: str = "") -> str:
        """`table [alias][join] WHERE <its workspace filter>`, the one way a FROM is written; conditions follow as
        ' AND …'."""
        if table not in WORKSPACE_TABLES:
            raise ValueError(f"not a workspace table: {table}")
        name, column = (f"{table} {alias}", f"{alias}.workspace_id") if alias else (table, "workspace_id")
        return f"{name}{join} WHERE {column} = %(w)s"

    def join(self, table: str, alias: str, on: str) -> str:
        """` JOIN table alias ON on AND <its workspace filter>`, the one way a JOIN is written."""
        if table not in WORKSPACE_TABLES:
            raise ValueError(f"not a workspace table: {table}")
        return f" JOIN {table} {alias} ON {on} AND {alias}.workspace_id = %(w)s"

    def only_ids(self, column: str) -> str:
        """The incremental restriction on a customer id column, or nothing."""
        return f" AND {column} = ANY(%(ids)s)" if self.restrict else ""

    def local_midnight(self, day: date) -> datetime:
        """Start of a calendar day in the workspace zone, as UTC."""
        return datetime.combine(day, time.min, tzinfo=self.zone).astimezone(UTC)

    def instant(self, value: Any) -> datetime:
        """A rule's date / date-time as a UTC instant (naive values and dates are wall time in the zone)."""
        if isinstance(value, str):
            value = datetime.fromisoformat(value) if ("T" in value or " " in value) else date.fromisoformat(value)
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=self.zone)).astimezone(UTC)
        return self.local_midnight(value)


def compile_rule(node: Node, ctx: Context) -> Compiled:
    """The SELECT of the ids of the workspace's active customers the rule holds for."""
    predicate = predicate_of(node, ctx)
    sql = (f"SELECT c.id FROM {ctx.scan('customers', 'c')} AND c.status = 'active'"
           f"{ctx.only_ids('c.id')} AND {predicate}")
    return Compiled(sql, ctx.params)


def predicate_of(node: Node, ctx: Context) -> str:
    """The tree as one boolean SQL expression on `c`."""
    if isinstance(node, All):
        return "(" + " AND ".join(predicate_of(child, ctx) for child in node.all) + ")" if node.all else "TRUE"
    if isinstance(node, Any_):
        return "(" + " OR ".join(predicate_of(child, ctx) for child in node.any) + ")"
    if isinstance(node, Not):
        return f"(NOT {predicate_of(node.not_, ctx)})"
    return piece_of(node, ctx).predicate


def piece_of(condition, ctx: Context) -> Piece:
    """Compile one condition."""
    return COMPILERS[type(condition)](condition, ctx)


# ---- comparisons --------------------------------------------------------------------------------------


def _values(condition, ctx: Context, *, time_valued: bool) -> list:
    value = condition.value
    values = value if isinstance(value, list) else [value]
    if time_valued:
        values = [ctx.instant(v) for v in values]
    return values


def compare_sql(expr: str, op: Op, values: list, ctx: Context) -> str:
    """expr compared with bound values."""
    if op is Op.IS_SET:
        return f"{expr} IS NOT NULL"
    if op is Op.IS_NOT_SET:
        return f"{expr} IS NULL"
    if op is Op.BETWEEN:
        return f"{expr} BETWEEN {ctx.bind(values[0])} AND {ctx.bind(values[1])}"
    if op is Op.IN:
        return f"{expr} = ANY({ctx.bind(list(values))})"
    if op is Op.NOT_IN:
        return f"NOT ({expr} = ANY({ctx.bind(list(values))}))"
    symbol = {Op.EQ: "=", Op.NE: "<>", Op.GT: ">", Op.GTE: ">=", Op.LT: "<", Op.LTE: "<="}[op]
    return f"{expr} {symbol} {ctx.bind(values[0])}"


def compare_python(observed: Any, op: Op, values: list) -> bool:
    """The same comparison on a value in Python (only used to decide how a zero-default aggregate compiles)."""
    if observed is None:
        return op is Op.IS_NOT_SET
    if op is Op.BETWEEN:
        return values[0] <= observed <= values[1]
    if op is Op.IN:
        return observed in values
    if op is Op.NOT_IN:
        return observed not in values
    return {Op.EQ: observed == values[0], Op.NE: observed != values[0], Op.GT: observed > values[0],
            Op.GTE: observed >= values[0], Op.LT: observed < values[0], Op.LTE: observed <= values[0],
            Op.IS_SET: True, Op.IS_NOT_SET: False}[op]


def _aggregate_predicate(key: str, source: str, aggregate: str, op: Op, values: list, ctx: Context, *,
                         zero_default: bool, is_count: bool = False) -> str:
    """Membership by a per-customer aggregate over `source` (FROM … WHERE …) grouped by the customer column key."""
    if is_count and _is_exists(op, values):
        return f"c.id IN (SELECT {key} FROM {source})"
    if is_count and _is_not_exists(op, values):
        return f"c.id NOT IN (SELECT {key} FROM {source})"
    test = compare_sql(aggregate, op, values, ctx)
    if zero_default and compare_python(0, op, values):
        return f"c.id NOT IN (SELECT {key} FROM {source} GROUP BY {key} HAVING NOT COALESCE({test}, FALSE))"
    return f"c.id IN (SELECT {key} FROM {source} GROUP BY {key} HAVING {test})"


def _is_exists(op: Op, values: list) -> bool:
    return (op, values[0] if values else None) in ((Op.GTE, 1), (Op.GT, 0), (Op.NE, 0))


def _is_not_exists(op: Op, values: list) -> bool:
    return (op, values[0] if values else None) in ((Op.EQ, 0), (Op.LT, 1), (Op.LTE, 0))


def _window_sql(window: Window | None, column: str, customer: str, ctx: Context) -> tuple[str, str]:
    """(extra JOIN, extra WHERE) limiting `column` to the window."""
    if window is None:
        return "", ""
    if window.kind == "last_days":
        today = ctx.now.astimezone(ctx.zone).date()
        start = ctx.local_midnight(today - timedelta(days=window.days - 1))
        return "", f" AND {column} >= {ctx.bind(start)}"
    if window.kind == "between":
        start, end = ctx.local_midnight(window.start), ctx.local_midnight(window.end + timedelta(days=1))
        return "", f" AND {column} >= {ctx.bind(start)} AND {column} < {ctx.bind(end)}"
    # since the customer's own first purchase
    join = (f" JOIN (SELECT o.customer_id AS fp_customer, MIN(o.paid_at) AS fp_at FROM {ctx.scan('orders', 'o')} "
            f"AND {PURCHASE}{ctx.only_ids('o.customer_id')} GROUP BY o.customer_id) fp "
            f"ON fp.fp_customer = {customer}")
    return join, f" AND {column} >= fp.fp_at"


# ---- conditions --------------------------------------------------------------------------------------


def _attribute(condition: AttributeCondition, ctx: Context) -> Piece:
    column = ATTRIBUTE_COLUMNS[condition.field.value]
    time_valued = condition.field.value == "first_seen_at"
    values = _values(condition, ctx, time_valued=time_valued)
    if condition.field.value == "birthday":
        values = [date.fromisoformat(v) if isinstance(v, str) else v for v in values]
    test = compare_sql(f"c.{column}", condition.op, values, ctx)
    return Piece(predicate=f"COALESCE({test}, FALSE)",
                 observe=f"SELECT c.{column} FROM {ctx.scan('customers', 'c')} AND c.id = %(cid)s")


def _identity(condition: IdentityCondition, ctx: Context) -> Piece:
    kind = ctx.bind(condition.kind)
    source = f"SELECT customer_id FROM {ctx.scan('identities')} AND kind = {kind}"
    return Piece(predicate=f"c.id {'' if condition.present else 'NOT '}IN ({source}{ctx.only_ids('customer_id')})",
                 observe=f"SELECT namespace FROM {ctx.scan('identities')} AND customer_id = %(cid)s AND kind = {kind}",
                 many=True)


def _tag(condition: TagCondition, ctx: Context) -> Piece:
    ids = ctx.bind(sorted(set(condition.tag_ids)))
    source = (f"SELECT customer_id FROM {ctx.scan('customer_tags')} AND tag_id = ANY({ids})"
              f"{ctx.only_ids('customer_id')}")
    if condition.match == "all":
        predicate = (f"c.id IN ({source} GROUP BY customer_id "
                     f"HAVING COUNT(DISTINCT tag_id) = {len(set(condition.tag_ids))})")
    else:
        predicate = f"c.id {'NOT ' if condition.match == 'none' else ''}IN ({source})"
    return Piece(predicate=predicate, many=True,
                 observe=f"SELECT tag_id FROM {ctx.scan('customer_tags')} AND customer_id = %(cid)s "
                         f"AND tag_id = ANY({ids}) "
                         "ORDER BY tag_id")


def _channel(condition: ChannelCondition, ctx: Context) -> Piece:
    ids = ctx.bind(sorted(set(condition.channel_ids)))
    if condition.relation == "first_touch":
        return Piece(predicate=f"COALESCE(c.first_channel_id = ANY({ids}), FALSE)",
                     observe=f"SELECT c.first_channel_id FROM {ctx.scan('customers', 'c')} AND c.id = %(cid)s")
    return Piece(predicate=f"c.id IN (SELECT customer_id FROM {ctx.scan('memberships')} "
                           f"AND left_at IS NULL AND channel_id = ANY({ids}){ctx.only_ids('customer_id')})",
                 observe=f"SELECT channel_id FROM {ctx.scan('memberships')} AND customer_id = %(cid)s "
                         "AND left_at IS NULL ORDER BY channel_id", many=True)


def _consent(condition: ConsentCondition, ctx: Context) -> Piece:
    channel = ctx.bind(condition.channel)
    source = f"SELECT customer_id FROM {ctx.scan('consents')} AND channel = {channel}"
    if condition.status == "unknown":
        predicate = f"c.id NOT IN ({source}{ctx.only_ids('customer_id')})"
    else:
        predicate = f"c.id IN ({source} AND status = {ctx.bind(condition.status)}{ctx.only_ids('customer_id')})"
    return Piece(predicate=predicate, default="unknown",
                 observe=f"SELECT status FROM {ctx.scan('consents')} AND customer_id = %(cid)s "
                         f"AND channel = {channel}")


def _group(condition: GroupCondition, ctx: Context) -> Piece:
    where = " AND left_at IS NULL"
    if condition.group_ids:
        where += f" AND group_id = ANY({ctx.bind(sorted(set(condition.group_ids)))})"
    if condition.owner_userid:
        where += f" AND owner_userid = {ctx.bind(condition.owner_userid)}"
    if condition.joined_within_days:
        today = ctx.now.astimezone(ctx.zone).date()
        start = ctx.local_midnight(today - timedelta(days=condition.joined_within_days - 1))
        where += f" AND joined_at >= {ctx.bind(start)}"
    source = f"SELECT customer_id FROM {ctx.scan('group_members')}{where}"
    return Piece(predicate=f"c.id {'' if condition.in_group else 'NOT '}IN ({source}{ctx.only_ids('customer_id')})",
                 observe=f"SELECT group_id FROM {ctx.scan('group_members')} AND customer_id = %(cid)s "
                         "AND left_at IS NULL ORDER BY group_id", many=True)


def _event(condition: EventCondition, ctx: Context) -> Piece:
    name = ctx.bind(condition.event)
    join, window = _window_sql(condition.window, "e.ts", "e.customer_id", ctx)
    table = ctx.scan("events", "e", join=join)
    where = f"e.customer_id IS NOT NULL AND e.event = {name}{window}"
    measure = condition.measure
    if measure == "count":
        aggregate, zero = "COUNT(*)", True
    elif measure == "first_time":
        aggregate, zero = "MIN(e.ts)", False
    elif measure == "last_time":
        aggregate, zero = "MAX(e.ts)", False
    else:
        key = ctx.bind(condition.property)
        if measure == "sum":
            aggregate = f"COALESCE(SUM({dialects.json_number(ctx.dialect, 'e.properties', key)}), 0)"
        else:
            aggregate = f"COUNT(DISTINCT {dialects.json_text(ctx.dialect, 'e.properties', key)})"
        zero = True
    values = _values(condition, ctx, time_valued=measure in ("first_time", "last_time"))
    source = f"{table} AND {where}{ctx.only_ids('e.customer_id')}"
    predicate = _aggregate_predicate("e.customer_id", source, aggregate, condition.op, values, ctx,
                                     zero_default=zero, is_count=measure == "count")
    return Piece(predicate=predicate, default=0 if zero else None,
                 observe=f"SELECT {aggregate} FROM {table} AND {where} AND e.customer_id = %(cid)s")


def _order(condition: OrderCondition, ctx: Context) -> Piece:
    join, window = _window_sql(condition.window, "o.paid_at", "o.customer_id", ctx)
    table = ctx.scan("orders", "o", join=join)
    where = f"o.customer_id IS NOT NULL AND {PURCHASE}{window}"
    aggregate, zero = {
        "count": ("COUNT(*)", True),
        "spend": (f"COALESCE(SUM({SPEND}), 0)", True),
        "average_order_value": (f"SUM({SPEND}) * 1.0 / COUNT(*)", False),
        "first_purchase": ("MIN(o.paid_at)", False),
        "last_purchase": ("MAX(o.paid_at)", False),
    }[condition.measure]
    values = _values(condition, ctx, time_valued=condition.measure in ("first_purchase", "last_purchase"))
    source = f"{table} AND {where}{ctx.only_ids('o.customer_id')}"
    predicate = _aggregate_predicate("o.customer_id", source, aggregate, condition.op, values, ctx,
                                     zero_default=zero, is_count=condition.measure == "count")
    return Piece(predicate=predicate, default=0 if zero else None,
                 observe=f"SELECT {aggregate} FROM {table} AND {where} AND o.customer_id = %(cid)s")


def _bought(condition: BoughtCondition, ctx: Context) -> Piece:
    line = (f"l.sku = {ctx.bind(condition.sku)}" if condition.sku is not None
            else f"l.category = {ctx.bind(condition.category)}")
    join, window = _window_sql(condition.window, "o.paid_at", "o.customer_id", ctx)
    table = ctx.scan("orders", "o", join=ctx.join("order_lines", "l", "l.order_id = o.id") + join)
    where = f"o.customer_id IS NOT NULL AND {PURCHASE} AND {line}{window}"
    source = f"SELECT o.customer_id FROM {table} AND {where}{ctx.only_ids('o.customer_id')}"
    return Piece(predicate=f"c.id {'' if condition.did else 'NOT '}IN ({source})", default=0,
                 observe=f"SELECT COUNT(DISTINCT o.id) FROM {table} AND {where} AND o.customer_id = %(cid)s")


def _scores(column: str, test: str, ctx: Context, *, default_holds: bool, default: Any) -> Piece:
    source = f"SELECT customer_id FROM {ctx.scan('customer_scores')}{ctx.only_ids('customer_id')}"
    predicate = (f"c.id NOT IN ({source} AND NOT COALESCE({test}, FALSE))" if default_holds
                 else f"c.id IN ({source} AND {test})")
    return Piece(predicate=predicate, default=default,
                 observe=f"SELECT {column} FROM {ctx.scan('customer_scores')} AND customer_id = %(cid)s")


def _lifecycle(condition: LifecycleCondition, ctx: Context) -> Piece:
    stages = sorted(set(condition.stages))
    test = f"lifecycle_stage = ANY({ctx.bind(stages)})"
    return _scores("lifecycle_stage", test, ctx, default_holds="prospect" in stages, default="prospect")


def _rfm(condition: RfmCondition, ctx: Context) -> Piece:
    test = f"rfm_class = ANY({ctx.bind(sorted(set(condition.classes)))})"
    return _scores("rfm_class", test, ctx, default_holds=False, default=None)


def _value(condition: ValueCondition, ctx: Context) -> Piece:
    column = "historic_value_fen" if condition.measure == "historic" else "predicted_value_fen"
    values = _values(condition, ctx, time_valued=False)
    test = compare_sql(column, condition.op, values, ctx)
    historic = condition.measure == "historic"
    return _scores(column, test, ctx, default_holds=historic and compare_python(0, condition.op, values),
                   default=0 if historic else None)


COMPILERS = {
    AttributeCondition: _attribute, IdentityCondition: _identity, TagCondition: _tag, ChannelCondition: _channel,
    ConsentCondition: _consent, GroupCondition: _group, EventCondition: _event, OrderCondition: _order,
    BoughtCondition: _bought,
    LifecycleCondition: _lifecycle, RfmCondition: _rfm, ValueCondition: _value,
}
