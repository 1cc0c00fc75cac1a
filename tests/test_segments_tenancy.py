"""Tenancy by construction in the segment compiler: every FROM and JOIN of a warehouse workspace table in the SQL of
every condition kind (membership, incremental and observation queries, both dialects) carries the workspace filter.

The SQL is parsed with sqlglot, not searched as text, so a filter in the wrong scope (another subquery, under an
OR or a NOT) does not count."""

import re
from datetime import UTC, datetime

import pytest
import sqlglot
from sqlglot import exp

from yutang.segments.compiler import COMPILERS, WORKSPACE_TABLES, Context, compile_rule, piece_of
from yutang.segments.rules import parse_rule
from yutang.warehouse import schema as warehouse_schema

NOW = datetime(2026, 11, 16, 3, 30, tzinfo=UTC)
WINDOWS = [None, {"kind": "last_days", "days": 7}, {"kind": "between", "start": "2026-11-01", "end": "2026-11-10"},
           {"kind": "since_first_purchase"}]
# At least one rule per condition kind and per shape its SQL takes (exists, anti-join, aggregate, windows).
RULES = [
    {"type": "attribute", "field": "city", "op": "eq", "value": "上海"},
    {"type": "identity", "kind": "phone"}, {"type": "identity", "kind": "phone", "present": False},
    {"type": "tag", "tag_ids": [1, 2], "match": "all"}, {"type": "tag", "tag_ids": [1], "match": "any"},
    {"type": "tag", "tag_ids": [1], "match": "none"},
    {"type": "channel", "channel_ids": [4], "relation": "first_touch"}, {"type": "channel", "channel_ids": [4]},
    {"type": "consent", "channel": "sms"}, {"type": "consent", "channel": "sms", "status": "unknown"},
    {"type": "group"}, {"type": "group", "in_group": False},
    {"type": "group", "group_ids": [3], "owner_userid": "xiaomei", "joined_within_days": 7},
    *[{"type": "event", "event": "Signed In", "op": op, "value": value, **({"window": w} if w else {})}
      for w in WINDOWS for op, value in (("gte", 1), ("eq", 0), ("lt", 2), ("gte", 3))],
    {"type": "event", "event": "Signed In", "measure": "last_time", "op": "lt", "value": "2026-11-01"},
    {"type": "event", "event": "Paid", "measure": "sum", "property": "revenue", "op": "gt", "value": 1},
    {"type": "event", "event": "Paid", "measure": "distinct", "property": "sku", "op": "lt", "value": 3},
    *[{"type": "order", "measure": measure, "op": "gte", "value": value, **({"window": w} if w else {})}
      for w in WINDOWS for measure, value in (("count", 1), ("count", 2), ("spend", 100),
                                               ("average_order_value", 100), ("first_purchase", "2026-01-01"))],
    {"type": "order", "op": "eq", "value": 0},
    *[{"type": "bought", "sku": "LJ", "did": did, **({"window": w} if w else {})} for w in WINDOWS
      for did in (True, False)],
    {"type": "bought", "category": "绿茶"},
    {"type": "lifecycle_stage", "stages": ["prospect"]}, {"type": "lifecycle_stage", "stages": ["new"]},
    {"type": "rfm_class", "classes": ["important_value"]},
    {"type": "customer_value", "op": "lt", "value": 100},
    {"type": "customer_value", "measure": "predicted", "op": "gte", "value": 100},
]


def warehouse_workspace_tables() -> set[str]:
    """The warehouse tables with a workspace_id column, from the warehouse's own DDL."""
    tables = set()
    for statement in warehouse_schema.TABLES:
        match = re.match(r"\s*CREATE TABLE IF NOT EXISTS (\w+) \((.*)", statement, re.S)
        if match and re.search(r"\bworkspace_id\b", match.group(2)):
            tables.add(match.group(1))
    return tables


def _conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _filters_workspace(condition: exp.Expression | None, alias: str | None) -> bool:
    """Whether `alias.workspace_id = :w` (or the bare column for an unaliased table) is one of the ANDed terms."""
    for term in _conjuncts(condition):
        if not isinstance(term, exp.EQ):
            continue
        for column, value in ((term.left, term.right), (term.right, term.left)):
            if (isinstance(column, exp.Column) and column.name == "workspace_id" and column.table == (alias or "")
                    and isinstance(value, exp.Placeholder) and value.name == "w"):
                return True
    return False


def unfiltered(sql: str, dialect: str) -> list[str]:
    """The workspace tables read in the statement without the workspace filter in their own scope."""
    parsed = sqlglot.parse_one(re.sub(r"%\((\w+)\)s", r":\1", sql),
                               read="postgres" if dialect == "postgres" else "duckdb")
    tables = warehouse_workspace_tables()
    missing = []
    for table in parsed.find_all(exp.Table):
        if table.name not in tables:
            continue
        alias = table.alias or None
        join = table.parent if isinstance(table.parent, exp.Join) else None
        if join is not None:
            ok = _filters_workspace(join.args.get("on"), alias)
        else:
            select = table.find_ancestor(exp.Select)
            where = select.args.get("where") if select else None
            ok = _filters_workspace(where.this if where else None, alias)
        if not ok:
            missing.append(f"{table.name} {alias or ''}".strip())
    return missing


def test_the_checker_finds_an_unfiltered_read():
    assert unfiltered("SELECT customer_id FROM identities WHERE kind = %(p1)s", "duckdb") == ["identities"]
    assert unfiltered("SELECT c.id FROM customers c WHERE c.workspace_id = %(w)s OR TRUE", "duckdb") == ["customers c"]
    assert unfiltered("SELECT 1 FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.workspace_id = %(w)s",
                      "postgres") == ["order_lines l"]
    assert unfiltered("SELECT c.id FROM customers c WHERE c.workspace_id = %(w)s AND c.id IN "
                      "(SELECT customer_id FROM events WHERE workspace_id = %(p1)s)", "duckdb") == ["events"]
    assert unfiltered("SELECT c.id FROM customers c WHERE c.workspace_id = %(w)s AND c.id IN "
                      "(SELECT customer_id FROM events WHERE workspace_id = %(w)s)", "duckdb") == []


def test_the_compiler_knows_every_warehouse_workspace_table_it_reads():
    assert WORKSPACE_TABLES <= warehouse_workspace_tables()


def test_the_rules_cover_every_condition_kind():
    assert {type(parse_rule(rule)) for rule in RULES} == set(COMPILERS)


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("restrict", [False, True])
def test_every_workspace_table_read_is_filtered(dialect, restrict):
    for rule in RULES:
        node = parse_rule(rule)
        ctx = Context(workspace_id=7, timezone="Asia/Shanghai", now=NOW, dialect=dialect, restrict=restrict)
        membership = compile_rule(parse_rule({"not": {"any": [rule]}}), ctx).sql
        assert unfiltered(membership, dialect) == [], (rule, membership)
        observe = piece_of(node, Context(workspace_id=7, timezone="Asia/Shanghai", now=NOW, dialect=dialect)).observe
        assert unfiltered(observe, dialect) == [], (rule, observe)


def test_a_table_outside_the_workspace_tables_is_refused():
    ctx = Context(workspace_id=7, timezone="Asia/Shanghai", now=NOW)
    with pytest.raises(ValueError):
        ctx.scan("ingest_checkpoint")
    with pytest.raises(ValueError):
        ctx.join("workspaces", "w", "TRUE")
