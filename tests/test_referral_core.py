"""The referral rules' pure core: programme checks naming the rule, attribution, rewards, tiers, fraud flags."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yutang.referral import core
from yutang.referral.core import Context, Conversion, Edge, Person, Touch

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
FINE = {"commission_depth": 1, "rates_bp": [1_000], "reward": {"trigger": "first_order", "min_order_fen": 5_000},
        "tiers": [{"count": 3, "points": 300}, {"count": 10, "coupon_template_id": 1}]}


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"commission_depth": 3}, "commission_depth", "depth-over-two"),
    ({"commission_depth": -1}, "commission_depth", "depth-over-two"),
    ({"recruiting_reward_fen": 500}, "recruiting_reward", "no-recruiting-reward"),
    ({"recruiting_reward_points": 10}, "recruiting_reward", "no-recruiting-reward"),
    ({"entry_product_fen": 39_900}, "entry_product", "no-paid-entry"),
    ({"entry_product_sku": "VIP-PACK"}, "entry_product", "no-paid-entry"),
    ({"reward": {"trigger": "集赞"}}, "reward.trigger", "conversion-only"),
    ({"reward": {"trigger": "share"}}, "reward.trigger", "conversion-only"),
    ({"cap_bp": 3_001}, "cap_bp", "cap-per-order"),
    ({"rates_bp": [100, 100, 100]}, "rates_bp", "depth-over-two"),
    ({"tiers": [{"count": 10}, {"count": 3}]}, "tiers", "tiers-ascending"),
])
def test_a_programme_breaking_a_rule_is_refused_naming_the_field_and_rule(change, field, rule):
    found = core.check_programme(FINE | change)
    assert (field, rule) in [(v.field, v.rule) for v in found]


def test_a_lawful_programme_passes():
    assert core.check_programme(FINE) == []
    assert core.check_programme(FINE | {"commission_depth": 2, "rates_bp": [1_000, 300]}) == []
    assert core.check_programme({"reward": {"trigger": "still_friend", "days": 7}}) == []


def test_the_law_is_named_in_the_message():
    (violation,) = core.check_programme(FINE | {"commission_depth": 3})
    assert "禁止传销条例" in violation.message


@pytest.mark.parametrize(("touches", "was_customer", "expected"), [
    ([Touch(1, NOW - timedelta(days=2)), Touch(2, NOW - timedelta(days=1))], False, 1),  # first touch wins
    ([Touch(1, NOW - timedelta(days=9)), Touch(2, NOW - timedelta(days=1))], False, 2),  # 1 is outside the window
    ([Touch(1, NOW - timedelta(days=2))], True, None),  # an existing customer is not new
    ([Touch(5, NOW - timedelta(days=2))], False, None),  # oneself
    ([Touch(1, NOW + timedelta(days=1))], False, None),  # after the conversion
    ([], False, None),
])
def test_attribution(touches, was_customer, expected):
    assert core.attribute(touches, converted_at=NOW, window_days=7, referee=5,
                          referee_was_customer=was_customer) == expected


@pytest.mark.parametrize(("reward", "facts", "earned"), [
    ({"trigger": "still_friend", "days": 7}, Conversion(added_at=NOW - timedelta(days=8), still_friend=True), True),
    ({"trigger": "still_friend", "days": 7}, Conversion(added_at=NOW - timedelta(days=3), still_friend=True), False),
    ({"trigger": "still_friend", "days": 7}, Conversion(added_at=NOW - timedelta(days=8), still_friend=False), False),
    ({"trigger": "first_order", "min_order_fen": 5_000}, Conversion(first_paid_fen=5_000), True),
    ({"trigger": "first_order", "min_order_fen": 5_000}, Conversion(first_paid_fen=4_999), False),
    ({"trigger": "first_order", "min_order_fen": 0}, Conversion(), False),
    ({"trigger": "first_order"}, Conversion(first_paid_fen=9_000, refunded=True), False),
    ({"trigger": "share"}, Conversion(first_paid_fen=9_000), False),
])
def test_rewards_follow_conversion_only(reward, facts, earned):
    assert core.reward_earned(reward, facts, now=NOW) is earned


def test_tiers_and_hold():
    tiers = FINE["tiers"]
    assert [t["count"] for t in core.tiers_reached(tiers, valid=3, issued=set())] == [3]
    assert [t["count"] for t in core.tiers_reached(tiers, valid=12, issued={3})] == [10]
    assert core.tiers_reached(tiers, valid=2, issued=set()) == []
    assert core.hold_over(earned_at=NOW - timedelta(days=7), hold_days=7, now=NOW)
    assert not core.hold_over(earned_at=NOW - timedelta(days=6), hold_days=7, now=NOW)


@pytest.mark.parametrize(("inviter", "referee", "context", "codes"), [
    (Person(1, phone="h1"), Person(2, phone="h1"), Context(), ["self-referral"]),
    (Person(1, unionid="u"), Person(2, unionid="u"), Context(), ["self-referral"]),
    (Person(1, devices=frozenset({"d"})), Person(2, devices=frozenset({"d"})), Context(), ["self-referral"]),
    (Person(1, payers=frozenset({"p"})), Person(2, payers=frozenset({"p"})), Context(), ["self-referral"]),
    (Person(1), Person(2), Context(ancestors=frozenset({2})), ["circular"]),
    (Person(1), Person(2), Context(recent_invites=20, velocity_limit=20), ["velocity"]),
    (Person(1), Person(2, devices=frozenset({"x"})), Context(referee_devices={"x": 3}), ["cluster"]),
    (Person(1), Person(2), Context(coupons_from_referees=3), ["coupon-cycling"]),
    (Person(1, phone="a"), Person(2, phone="b"), Context(recent_invites=5), []),
])
def test_fraud_flags_each_say_why(inviter, referee, context, codes):
    flags = core.fraud_flags(inviter, referee, context)
    assert [f.code for f in flags] == codes
    assert all(f.reason for f in flags)


def test_tree_figures():
    edges = [Edge(1, 2, NOW, True, cost_fen=500), Edge(1, 3, NOW, False, flagged=True),
             Edge(2, 4, NOW + timedelta(hours=10), True, cost_fen=500), Edge(4, 5, NOW + timedelta(hours=30), True)]
    figures = core.tree_figures(edges, seeds={1})
    assert (figures.participants, figures.invitees, figures.valid, figures.depth) == (3, 4, 3, 3)
    assert figures.k_factor == 1.0
    assert figures.cycle_hours == 15.0  # hours 10 and 20 after the inviter's own arrival
    assert figures.cost_per_valid_fen == 333
    assert figures.flag_rate == 0.25


@given(st.lists(st.tuples(st.integers(1, 6), st.integers(-20, 2)), max_size=12), st.integers(1, 30),
       st.booleans())
def test_attribution_credits_an_inviter_who_touched_inside_the_window_and_no_earlier_one(raw, window, was_customer):
    touches = [Touch(inviter, NOW + timedelta(days=d)) for inviter, d in raw]
    winner = core.attribute(touches, converted_at=NOW, window_days=window, referee=6, referee_was_customer=was_customer)
    inside = [t for t in touches if NOW - timedelta(days=window) <= t.at <= NOW and t.inviter != 6]
    if was_customer or not inside:
        assert winner is None
    else:
        first = min(t.at for t in inside)
        assert winner in {t.inviter for t in inside if t.at == first}


@given(st.integers(-5, 10), st.booleans(), st.booleans())
def test_any_depth_outside_zero_to_two_or_recruiting_pay_is_refused(depth, recruiting, entry):
    config = {"commission_depth": depth, "recruiting_reward_fen": 100 if recruiting else 0,
              "entry_product_fen": 100 if entry else 0}
    rules = {v.rule for v in core.check_programme(config)}
    assert ("depth-over-two" in rules) == (not 0 <= depth <= 2)
    assert ("no-recruiting-reward" in rules) == recruiting
    assert ("no-paid-entry" in rules) == entry
