"""The rule parser and the rule → SQL compiler on their own: no database, table-driven."""

from datetime import UTC, datetime

import pytest

from yutang.kit.errors import Invalid
from yutang.segments.compiler import Context, compile_rule, piece_of
from yutang.segments.rules import dump, parse_rule

NOW = datetime(2026, 11, 16, 3, 30, tzinfo=UTC)  # 11:30 on 16 November in Shanghai
SHANGHAI_MIDNIGHT_10_NOV = datetime(2026, 11, 9, 16, 0, tzinfo=UTC)  # local midnight starting 10 November


def compiled(rule, *, dialect="duckdb", restrict=False):
    ctx = Context(workspace_id=7, timezone="Asia/Shanghai", now=NOW, dialect=dialect, restrict=restrict)
    return compile_rule(parse_rule(rule), ctx)


def predicate(rule, **kwargs):
    result = compiled(rule, **kwargs)
    prefix = "SELECT c.id FROM customers c WHERE c.workspace_id = %(w)s AND c.status = 'active' AND "
    assert result.sql.startswith(prefix)
    return result.sql.removeprefix(prefix), {k: v for k, v in result.params.items() if k != "w"}


CASES = [
    ("attribute eq", {"type": "attribute", "field": "city", "op": "eq", "value": "上海"},
     "COALESCE(c.city = %(p1)s, FALSE)", {"p1": "上海"}),
    ("attribute in", {"type": "attribute", "field": "gender", "op": "in", "value": ["female", "other"]},
     "COALESCE(c.gender = ANY(%(p1)s), FALSE)", {"p1": ["female", "other"]}),
    ("attribute unset", {"type": "attribute", "field": "province", "op": "is_not_set"},
     "COALESCE(c.province IS NULL, FALSE)", {}),
    ("first seen between, wall time in the zone",
     {"type": "attribute", "field": "first_seen_at", "op": "between", "value": ["2026-01-01", "2026-02-01T08:00:00"]},
     "COALESCE(c.first_seen_at BETWEEN %(p1)s AND %(p2)s, FALSE)",
     {"p1": datetime(2025, 12, 31, 16, tzinfo=UTC), "p2": datetime(2026, 2, 1, 0, tzinfo=UTC)}),
    ("identity present", {"type": "identity", "kind": "wecom_external_userid"},
     "c.id IN (SELECT customer_id FROM identities WHERE workspace_id = %(w)s AND kind = %(p1)s)",
     {"p1": "wecom_external_userid"}),
    ("identity absent", {"type": "identity", "kind": "phone", "present": False},
     "c.id NOT IN (SELECT customer_id FROM identities WHERE workspace_id = %(w)s AND kind = %(p1)s)", {"p1": "phone"}),
    ("all of two tags", {"type": "tag", "tag_ids": [3, 2, 3], "match": "all"},
     "c.id IN (SELECT customer_id FROM customer_tags WHERE workspace_id = %(w)s AND tag_id = ANY(%(p1)s) "
     "GROUP BY customer_id HAVING COUNT(DISTINCT tag_id) = 2)", {"p1": [2, 3]}),
    ("none of the tags", {"type": "tag", "tag_ids": [5], "match": "none"},
     "c.id NOT IN (SELECT customer_id FROM customer_tags WHERE workspace_id = %(w)s AND tag_id = ANY(%(p1)s))",
     {"p1": [5]}),
    ("first touch", {"type": "channel", "channel_ids": [4], "relation": "first_touch"},
     "COALESCE(c.first_channel_id = ANY(%(p1)s), FALSE)", {"p1": [4]}),
    ("current channel member", {"type": "channel", "channel_ids": [4]},
     "c.id IN (SELECT customer_id FROM memberships WHERE workspace_id = %(w)s AND left_at IS NULL "
     "AND channel_id = ANY(%(p1)s))", {"p1": [4]}),
    ("consent granted", {"type": "consent", "channel": "sms"},
     "c.id IN (SELECT customer_id FROM consents WHERE workspace_id = %(w)s AND channel = %(p1)s "
     "AND status = %(p2)s)", {"p1": "sms", "p2": "granted"}),
    ("consent never asked", {"type": "consent", "channel": "wecom", "status": "unknown"},
     "c.id NOT IN (SELECT customer_id FROM consents WHERE workspace_id = %(w)s AND channel = %(p1)s)",
     {"p1": "wecom"}),
    ("in any group", {"type": "group"},
     "c.id IN (SELECT customer_id FROM group_members WHERE workspace_id = %(w)s AND left_at IS NULL)", {}),
    ("in no group", {"type": "group", "in_group": False},
     "c.id NOT IN (SELECT customer_id FROM group_members WHERE workspace_id = %(w)s AND left_at IS NULL)", {}),
    ("in one of an owner's groups, joined in the last 7 local days",
     {"type": "group", "group_ids": [9, 3], "owner_userid": "xiaomei", "joined_within_days": 7},
     "c.id IN (SELECT customer_id FROM group_members WHERE workspace_id = %(w)s AND left_at IS NULL "
     "AND group_id = ANY(%(p1)s) AND owner_userid = %(p2)s AND joined_at >= %(p3)s)",
     {"p1": [3, 9], "p2": "xiaomei", "p3": SHANGHAI_MIDNIGHT_10_NOV}),
    ("event count >= 3 in the last 7 local days",
     {"type": "event", "event": "Product Viewed", "op": "gte", "value": 3, "window": {"kind": "last_days", "days": 7}},
     "c.id IN (SELECT e.customer_id FROM events e WHERE e.workspace_id = %(w)s AND e.customer_id IS NOT NULL "
     "AND e.event = %(p1)s AND e.ts >= %(p2)s GROUP BY e.customer_id HAVING COUNT(*) >= %(p3)s)",
     {"p1": "Product Viewed", "p2": SHANGHAI_MIDNIGHT_10_NOV, "p3": 3}),
    ("no event in a window is an anti-join",
     {"type": "event", "event": "Message Sent", "op": "eq", "value": 0, "window": {"kind": "last_days", "days": 7}},
     "c.id NOT IN (SELECT e.customer_id FROM events e WHERE e.workspace_id = %(w)s AND e.customer_id IS NOT NULL "
     "AND e.event = %(p1)s AND e.ts >= %(p2)s)", {"p1": "Message Sent", "p2": SHANGHAI_MIDNIGHT_10_NOV}),
    ("fewer than 2 includes people with none",
     {"type": "event", "event": "Signed In", "op": "lt", "value": 2},
     "c.id NOT IN (SELECT e.customer_id FROM events e WHERE e.workspace_id = %(w)s AND e.customer_id IS NOT NULL "
     "AND e.event = %(p1)s GROUP BY e.customer_id HAVING NOT COALESCE(COUNT(*) < %(p2)s, FALSE))",
     {"p1": "Signed In", "p2": 2}),
    ("between dates: local midnight to the end of the last day",
     {"type": "event", "event": "Signed In", "op": "gte", "value": 1,
      "window": {"kind": "between", "start": "2026-11-01", "end": "2026-11-10"}},
     "c.id IN (SELECT e.customer_id FROM events e WHERE e.workspace_id = %(w)s AND e.customer_id IS NOT NULL "
     "AND e.event = %(p1)s AND e.ts >= %(p2)s AND e.ts < %(p3)s)",
     {"p1": "Signed In", "p2": datetime(2026, 10, 31, 16, tzinfo=UTC), "p3": datetime(2026, 11, 10, 16, tzinfo=UTC)}),
    ("last event time", {"type": "event", "event": "Signed In", "measure": "last_time", "op": "lt",
                         "value": "2026-11-01"},
     "c.id IN (SELECT e.customer_id FROM events e WHERE e.workspace_id = %(w)s AND e.customer_id IS NOT NULL "
     "AND e.event = %(p1)s GROUP BY e.customer_id HAVING MAX(e.ts) < %(p2)s)",
     {"p1": "Signed In", "p2": datetime(2026, 10, 31, 16, tzinfo=UTC)}),
    ("order spend", {"type": "order", "measure": "spend", "op": "gte", "value": 50000},
     "c.id IN (SELECT o.customer_id FROM orders o WHERE o.workspace_id = %(w)s AND o.customer_id IS NOT NULL "
     "AND o.status IN ('completed', 'paid', 'partially_refunded', 'shipped') AND o.paid_fen > o.refunded_fen "
     "GROUP BY o.customer_id "
     "HAVING COALESCE(SUM((o.paid_fen - o.refunded_fen)), 0) >= %(p1)s)", {"p1": 50000}),
    ("never bought", {"type": "order", "op": "eq", "value": 0},
     "c.id NOT IN (SELECT o.customer_id FROM orders o WHERE o.workspace_id = %(w)s AND o.customer_id IS NOT NULL "
     "AND o.status IN ('completed', 'paid', 'partially_refunded', 'shipped') AND o.paid_fen > o.refunded_fen)", {}),
    ("did not buy a category", {"type": "bought", "category": "绿茶", "did": False},
     "c.id NOT IN (SELECT o.customer_id FROM orders o JOIN order_lines l ON l.order_id = o.id "
     "AND l.workspace_id = %(w)s WHERE "
     "o.workspace_id = %(w)s AND o.customer_id IS NOT NULL AND o.status IN ('completed', 'paid', "
     "'partially_refunded', 'shipped') AND o.paid_fen > o.refunded_fen AND l.category = %(p1)s)", {"p1": "绿茶"}),
    ("prospects include the unscored", {"type": "lifecycle_stage", "stages": ["prospect", "new"]},
     "c.id NOT IN (SELECT customer_id FROM customer_scores WHERE workspace_id = %(w)s "
     "AND NOT COALESCE(lifecycle_stage = ANY(%(p1)s), FALSE))", {"p1": ["new", "prospect"]}),
    ("rfm class", {"type": "rfm_class", "classes": ["important_value"]},
     "c.id IN (SELECT customer_id FROM customer_scores WHERE workspace_id = %(w)s "
     "AND rfm_class = ANY(%(p1)s))", {"p1": ["important_value"]}),
    ("historic value under a bar includes the unscored", {"type": "customer_value", "op": "lt", "value": 100},
     "c.id NOT IN (SELECT customer_id FROM customer_scores WHERE workspace_id = %(w)s "
     "AND NOT COALESCE(historic_value_fen < %(p1)s, FALSE))", {"p1": 100}),
    ("combinators", {"any": [{"not": {"type": "identity", "kind": "phone"}}, {"all": []}]},
     "((NOT c.id IN (SELECT customer_id FROM identities WHERE workspace_id = %(w)s AND kind = %(p1)s)) OR TRUE)",
     {"p1": "phone"}),
]


@pytest.mark.parametrize(("rule", "sql", "params"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_compiles_to(rule, sql, params):
    assert predicate(rule) == (sql, params)


def test_since_first_purchase_joins_the_first_paid_order():
    sql, params = predicate({"type": "event", "event": "Product Viewed", "op": "gte", "value": 2,
                             "window": {"kind": "since_first_purchase"}})
    assert "JOIN (SELECT o.customer_id AS fp_customer, MIN(o.paid_at) AS fp_at FROM orders o" in sql
    assert "ON fp.fp_customer = e.customer_id" in sql and "AND e.ts >= fp.fp_at" in sql
    assert params == {"p1": "Product Viewed", "p2": 2}


def test_property_sums_differ_by_dialect_only_in_json_access():
    rule = {"type": "event", "event": "Order Completed", "measure": "sum", "property": "revenue", "op": "gt",
            "value": 100}
    duck, _ = predicate(rule)
    pg, _ = predicate(rule, dialect="postgres")
    assert "json_type(e.properties -> %(p2)s)" in duck and "jsonb_typeof(e.properties -> %(p2)s)" in pg
    assert duck.split("HAVING")[0] == pg.split("HAVING")[0]


def test_incremental_restricts_every_scan_to_the_touched_ids():
    sql = compiled({"all": [{"type": "tag", "tag_ids": [1]}, {"type": "event", "event": "x", "op": "gte", "value": 1},
                            {"type": "order", "op": "gte", "value": 1}]}, restrict=True).sql
    assert sql.count("= ANY(%(ids)s)") == 4  # the customer row and each of the three scans


def test_observations_come_with_the_defaults_for_people_with_nothing_recorded():
    ctx = Context(workspace_id=7, timezone="Asia/Shanghai", now=NOW)
    piece = piece_of(parse_rule({"type": "order", "measure": "spend", "op": "gt", "value": 1}), ctx)
    assert piece.default == 0 and "o.customer_id = %(cid)s" in piece.observe
    assert piece_of(parse_rule({"type": "consent", "channel": "sms"}), ctx).default == "unknown"


def test_dump_round_trips():
    rule = {"all": [{"type": "tag", "tag_ids": [1], "match": "any"},
                    {"not": {"type": "event", "event": "x", "measure": "count", "op": "gte", "value": 1,
                             "window": {"kind": "last_days", "days": 3}}}]}
    assert parse_rule(dump(parse_rule(rule))) == parse_rule(rule)


ERRORS = [
    ("window days below 1",
     {"all": [{"type": "tag", "tag_ids": [1]}, {"type": "tag", "tag_ids": [1]},
              {"any": [{"type": "event", "event": "x", "op": "gte", "value": 1,
                        "window": {"kind": "last_days", "days": 0}}]}]},
     "rule.all[2].any[0].window.days"),
    ("last_days without days", {"type": "event", "event": "x", "op": "gte", "value": 1,
                                "window": {"kind": "last_days"}}, "rule.window.days"),
    ("between backwards", {"type": "order", "op": "gte", "value": 1,
                           "window": {"kind": "between", "start": "2026-02-01", "end": "2026-01-01"}},
     "rule.window.end"),
    ("unknown type", {"all": [{"type": "mood"}]}, "rule.all[0].type"),
    ("not an object", {"any": [3]}, "rule.any[0]"),
    ("empty any", {"any": []}, "rule.any"),
    ("combinator with company", {"all": [], "type": "tag"}, "rule"),
    ("unknown field", {"not": {"type": "tag", "tag_ids": [1], "colour": "red"}}, "rule.not.colour"),
    ("unknown attribute", {"type": "attribute", "field": "shoe_size", "op": "eq", "value": 1}, "rule.field"),
    ("text compared with gt", {"type": "attribute", "field": "city", "op": "gt", "value": "x"}, "rule.op"),
    ("count compared with text", {"type": "event", "event": "x", "op": "gte", "value": "three"}, "rule.value"),
    ("between needs two", {"type": "order", "measure": "spend", "op": "between", "value": [1]}, "rule.value"),
    ("bad date", {"type": "order", "measure": "last_purchase", "op": "gt", "value": "yesterday"}, "rule.value"),
    ("sum without a property", {"type": "event", "event": "x", "measure": "sum", "op": "gt", "value": 1},
     "rule.property"),
    ("bought needs sku or category", {"type": "bought"}, "rule.sku"),
    ("unknown stage", {"type": "lifecycle_stage", "stages": ["happy"]}, "rule.stages[0]"),
    ("unknown rfm class", {"type": "rfm_class", "classes": ["vip"]}, "rule.classes[0]"),
    ("unknown identity kind", {"type": "identity", "kind": "fax"}, "rule.kind"),
    ("in without a list", {"type": "attribute", "field": "city", "op": "in", "value": "上海"}, "rule.value"),
    ("too deep", {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"all": []}}}}}}}}},
     "rule.not.not.not.not.not.not.not.not"),
]


@pytest.mark.parametrize(("rule", "field"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_invalid_rule_names_the_node(rule, field):
    with pytest.raises(Invalid) as caught:
        parse_rule(rule)
    assert caught.value.errors[0].field == field, caught.value.errors


def test_every_fault_is_reported_at_once():
    with pytest.raises(Invalid) as caught:
        parse_rule({"all": [{"type": "tag", "tag_ids": []}, {"type": "identity", "kind": "fax"}]})
    assert [e.field for e in caught.value.errors] == ["rule.all[0].tag_ids", "rule.all[1].kind"]


def test_too_many_conditions():
    with pytest.raises(Invalid) as caught:
        parse_rule({"any": [{"type": "identity", "kind": "phone"}] * 51})
    assert caught.value.errors[0].field == "rule"
