"""The journey step semantics as a pure core: graph checks, waits in local time, branches, filters, re-entry."""

from datetime import UTC, datetime, timedelta

import pytest

from yutang.journeys import core, graph
from yutang.journeys.graph import Branch, PropertyFilter, Reentry, Wait
from yutang.kit.errors import Invalid

T0 = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # Saturday; Berlin moves to summer time at 01:00 UTC on the 29th


def _wait(**kwargs) -> Wait:
    return Wait(kind="wait", next="x", **kwargs)


@pytest.mark.parametrize("wait, zone, now, due", [
    (_wait(hours=2), "Asia/Shanghai", T0, T0 + timedelta(hours=2)),
    (_wait(days=3), "Europe/Berlin", T0, T0 + timedelta(days=3)),
    # 12:00 UTC is 20:00 in Shanghai: today's 21:00 is still ahead.
    (_wait(at="21:00"), "Asia/Shanghai", T0, datetime(2026, 3, 28, 13, 0, tzinfo=UTC)),
    # 09:30 has passed in Shanghai today: tomorrow's.
    (_wait(at="09:30"), "Asia/Shanghai", T0, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    # The same wait for Berlin: 09:30 on the 29th is summer time (UTC+2), not the UTC+1 of the 28th.
    (_wait(at="09:30"), "Europe/Berlin", T0, datetime(2026, 3, 29, 7, 30, tzinfo=UTC)),
    (_wait(at="09:30", days=2), "Europe/Berlin", T0, datetime(2026, 3, 30, 7, 30, tzinfo=UTC)),
    # 02:30 does not exist in Berlin on the 29th: the wait ends at the real instant after the gap.
    (_wait(at="02:30", days=1), "Europe/Berlin", T0, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
])
def test_a_wait_falls_due_in_the_workspace_s_zone(wait, zone, now, due):
    assert core.due_at(wait, now=now, zone=zone) == due


@pytest.mark.parametrize("filters, properties, passes", [
    ([], {}, True),
    ([PropertyFilter(property="total", op="gte", value=100)], {"total": 120}, True),
    ([PropertyFilter(property="total", op="gte", value=100)], {"total": 99}, False),
    ([PropertyFilter(property="total", op="gte", value=100)], {}, False),
    ([PropertyFilter(property="store.city", value="上海")], {"store": {"city": "上海"}}, True),
    ([PropertyFilter(property="store.city", op="ne", value="上海")], {"store": {"city": "北京"}}, True),
    ([PropertyFilter(property="coupon", op="exists")], {"coupon": None}, True),
    ([PropertyFilter(property="coupon", op="exists", value=False)], {"coupon": 1}, False),
    ([PropertyFilter(property="n", op="lt", value="x")], {"n": 1}, False),
])
def test_event_property_filters(filters, properties, passes):
    assert core.passes(filters, properties) is passes


@pytest.mark.parametrize("condition, facts, way", [
    ({"kind": "segment", "segment_id": 3}, core.Facts(segments=frozenset({3})), "a"),
    ({"kind": "segment", "segment_id": 3}, core.Facts(), "b"),
    ({"kind": "event", "event": "Order Paid"}, core.Facts(last_seen={"Order Paid": T0}, since=T0), "a"),
    ({"kind": "event", "event": "Order Paid"},
     core.Facts(last_seen={"Order Paid": T0 - timedelta(seconds=1)}, since=T0), "b"),  # before the wait began
    ({"kind": "event", "event": "Order Paid"}, core.Facts(since=T0), "b"),
])
def test_a_branch_goes_the_way_its_condition_says(condition, facts, way):
    branch = Branch(kind="branch", condition=condition, yes="a", no="b")
    assert core.choose(branch, facts) == way


@pytest.mark.parametrize("policy, days, last, active, allowed", [
    (Reentry.NEVER, None, None, False, True),
    (Reentry.NEVER, None, T0, False, False),
    (Reentry.ALWAYS, None, T0, False, True),
    (Reentry.ALWAYS, None, T0, True, False),
    (Reentry.AFTER, 7, T0 - timedelta(days=6), False, False),
    (Reentry.AFTER, 7, T0 - timedelta(days=7), False, True),
])
def test_reentry_policy(policy, days, last, active, allowed):
    assert core.may_enter(policy, days=days, last_entered=last, active=active, now=T0) is allowed


def test_backoff_grows_and_parks_after_the_last_attempt():
    assert [core.backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=4),
                                                    timedelta(minutes=16)]
    assert core.MAX_ATTEMPTS == 5


def _definition(steps: dict, start: str = "a") -> dict:
    return {"entry": {"kind": "api"}, "start": start, "steps": steps}


@pytest.mark.parametrize("steps, start, field", [
    ({"a": {"kind": "wait", "hours": 1, "next": "b"}}, "a", "definition.steps.a.next"),
    ({"a": {"kind": "exit"}}, "z", "definition.start"),
    ({"a": {"kind": "exit"}, "b": {"kind": "exit"}}, "a", "definition.steps.b"),
    ({"a": {"kind": "tag", "add": [1], "next": "b"}, "b": {"kind": "tag", "remove": [1], "next": "a"}}, "a",
     "definition.steps.a"),
    ({"a": {"kind": "wait", "days": 400, "next": "b"}, "b": {"kind": "exit"}}, "a", "definition.steps.a.wait.days"),
    ({"a": {"kind": "wait", "days": 300, "hours": 2000, "next": "b"}, "b": {"kind": "exit"}}, "a",
     "definition.steps.a.wait"),
    ({"a": {"kind": "wait", "at": "25:00", "next": "b"}, "b": {"kind": "exit"}}, "a", "definition.steps.a.wait.at"),
    ({"a": {"kind": "wait", "next": "b"}, "b": {"kind": "exit"}}, "a", "definition.steps.a.wait"),
    ({"a": {"kind": "tag", "next": "b"}, "b": {"kind": "exit"}}, "a", "definition.steps.a.tag"),
    ({"a": {"kind": "wiat", "next": "b"}}, "a", "definition.steps.a"),
])
def test_a_bad_graph_is_refused_naming_the_step(steps, start, field):
    with pytest.raises(Invalid) as refused:
        graph.parse(_definition(steps, start))
    assert refused.value.errors[0].field == field


def test_a_loop_through_a_wait_is_allowed():
    parsed = graph.parse(_definition({"a": {"kind": "tag", "add": [1], "next": "w"},
                                      "w": {"kind": "wait", "days": 1, "next": "a"}}))
    assert parsed.start == "a"


W0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
WAIT_FOR = graph.WaitFor(kind="wait_for", event="Order Paid", days=3, next="thanks", timeout="nudge")
WAIT_UNTIL = graph.WaitUntil(kind="wait_until", condition={"kind": "segment", "segment_id": 7}, check_minutes=60,
                             max_days=2, next="in", timeout="out")


@pytest.mark.parametrize(("seen", "way"), [
    ({}, "nudge"),
    ({"Order Paid": W0 + timedelta(hours=5)}, "thanks"),
    ({"Order Paid": W0 - timedelta(hours=5)}, "nudge"),  # before the wait began: not this time
    ({"Order Placed": W0 + timedelta(hours=5)}, "nudge"),
])
def test_waiting_for_an_event_goes_next_or_times_out(seen, way):
    assert core.waited_for(WAIT_FOR, core.Facts(last_seen=seen, since=W0)) == way
    assert core.first_due(WAIT_FOR, now=W0, zone="Asia/Shanghai") == W0 + timedelta(days=3)


@pytest.mark.parametrize(("segments", "now", "outcome"), [
    (frozenset({7}), W0 + timedelta(hours=1), "in"),
    (frozenset(), W0 + timedelta(hours=1), core.Recheck(at=W0 + timedelta(hours=2))),
    (frozenset(), W0 + timedelta(days=2) - timedelta(minutes=10), core.Recheck(at=W0 + timedelta(days=2))),
    (frozenset(), W0 + timedelta(days=2), "out"),
    (frozenset({7}), W0 + timedelta(days=3), "in"),
])
def test_waiting_until_a_condition_holds_rechecks_until_its_maximum(segments, now, outcome):
    assert core.waited_until(WAIT_UNTIL, core.Facts(segments=segments, since=W0), now=now) == outcome
    assert core.first_due(WAIT_UNTIL, now=W0, zone="Asia/Shanghai") == W0


def test_a_loop_through_a_wait_for_is_allowed_and_a_wait_for_needs_a_timeout():
    graph.parse({"entry": {"kind": "api"}, "start": "a", "steps": {
        "a": {"kind": "wait_for", "event": "E", "hours": 1, "next": None, "timeout": "b"},
        "b": {"kind": "branch", "condition": {"kind": "event", "event": "E"}, "yes": None, "no": "a"}}})
    with pytest.raises(Invalid) as caught:
        graph.parse({"entry": {"kind": "api"}, "start": "a", "steps": {"a": {"kind": "wait_for", "event": "E"}}})
    assert caught.value.errors[0].field.startswith("definition.steps.a")
