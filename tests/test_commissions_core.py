"""The commission rules' pure core: shares per line and level, the cap, refunds reversing exactly, payouts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yutang.commissions import core
from yutang.commissions.core import Line, Rates, State

LINES = [Line(1, "TEA-1", "tea", 10_000), Line(2, "CUP-1", "ware", 5_000), Line(3, "GIFT", None, 2_000)]


@pytest.mark.parametrize(("depth", "chain", "expected"), [
    (0, [7, 8], []),
    (1, [7, 8], [(1, 1, 7, 1_000), (2, 1, 7, 750), (3, 1, 7, 100)]),
    (2, [7, 8], [(1, 1, 7, 1_000), (2, 1, 7, 750), (3, 1, 7, 100), (1, 2, 8, 200), (2, 2, 8, 100),
                 (3, 2, 8, 40)]),
    (2, [7], [(1, 1, 7, 1_000), (2, 1, 7, 750), (3, 1, 7, 100)]),  # no second level above a lone distributor
])
def test_shares_per_line_and_level_use_sku_then_category_then_default(depth, chain, expected):
    rates = [Rates(default_bp=500, by_sku=(("TEA-1", 1_000),), by_category=(("ware", 1_500),)), Rates(200)]
    shares = core.compute(LINES, chain=chain, rates=rates, depth=depth, paid_fen=17_000)
    assert [(s.line_no, s.level, s.beneficiary, s.amount_fen) for s in shares] == expected


def test_depth_three_is_refused_by_the_core_itself():
    with pytest.raises(ValueError, match="0, 1 or 2"):
        core.compute(LINES, chain=[1, 2, 3], rates=[Rates(100)] * 3, depth=3, paid_fen=17_000)


@pytest.mark.parametrize(("refunded", "expected_base"), [(0, 10_000), (4_000, 6_000), (10_000, 0)])
def test_commission_is_on_the_paid_non_refunded_amount(refunded, expected_base):
    line = Line(1, "TEA-1", "tea", 10_000, refunded)
    shares = core.compute([line], chain=[7], rates=[Rates(1_000)], depth=1, paid_fen=10_000)
    assert sum(s.amount_fen for s in shares) == expected_base // 10
    assert all(s.base_fen == expected_base for s in shares)


def test_cap_per_order_scales_shares_down_to_thirty_percent_exactly():
    shares = core.compute(LINES, chain=[7, 8], rates=[Rates(2_500), Rates(2_000)], depth=2, paid_fen=17_000)
    assert sum(s.amount_fen for s in shares) == 17_000 * 3_000 // 10_000
    uncapped = core.compute(LINES, chain=[7], rates=[Rates(1_000)], depth=1, paid_fen=17_000)
    assert sum(s.amount_fen for s in uncapped) == 1_700


@pytest.mark.parametrize(("order_refunded", "lines", "expected"), [
    (0, [Line(1, "A", None, 100), Line(2, "B", None, 300)], [0, 0]),
    (100, [Line(1, "A", None, 100), Line(2, "B", None, 300)], [25, 75]),
    (100, [Line(1, "A", None, 100, 100), Line(2, "B", None, 300)], [100, 0]),  # the line named it already
    (400, [Line(1, "A", None, 100), Line(2, "B", None, 300)], [100, 300]),
    (1, [Line(1, "A", None, 100), Line(2, "B", None, 100)], [1, 0]),  # largest remainder, first line on a tie
])
def test_order_level_refunds_are_spread_over_the_lines(order_refunded, lines, expected):
    spread = core.attribute_refunds(lines, order_refunded_fen=order_refunded)
    assert [line.refunded_fen for line in spread] == expected


@pytest.mark.parametrize(("amount", "base", "refunded", "reversed_", "due"), [
    (1_000, 10_000, 0, 0, 0),
    (1_000, 10_000, 5_000, 0, 500),
    (1_000, 10_000, 5_000, 500, 0),  # the same refund twice reverses nothing more
    (1_000, 10_000, 10_000, 500, 500),  # then the rest of the line
    (1_000, 10_000, 12_000, 0, 1_000),  # never past the amount
    (333, 1_000, 1, 0, 1),  # rounded up: a whole refund always reverses all
])
def test_reversal_due(amount, base, refunded, reversed_, due):
    assert core.reversal_due(amount_fen=amount, base_fen=base, refunded_since_fen=refunded,
                             reversed_fen=reversed_) == due


def test_payout_takes_whole_available_entries_up_to_the_limit():
    assert core.payout_pick([(1, 300), (2, 500), (3, 100)], limit_fen=None) == [1, 2, 3]
    assert core.payout_pick([(1, 300), (2, 500), (3, 100)], limit_fen=450) == [1, 3]
    assert core.payout_pick([(1, 300), (2, 0)], limit_fen=0) == []
    assert core.withholding(80_000, rate_bp=2_000) == 16_000
    assert core.state_after_reversal(State.FROZEN, amount_fen=100, reversed_fen=100) is State.REVERSED
    assert core.state_after_reversal(State.FROZEN, amount_fen=100, reversed_fen=40) is State.FROZEN


amounts = st.integers(min_value=0, max_value=10**7)
line_lists = st.lists(st.tuples(amounts, st.integers(0, 100)), min_size=1, max_size=6).map(
    lambda items: [Line(i + 1, f"S{i}", None, a, a * p // 100) for i, (a, p) in enumerate(items)])


@given(line_lists, st.lists(st.integers(0, 10_000), min_size=2, max_size=2), st.integers(0, 2),
       st.integers(0, 3_000))
def test_shares_never_pass_the_cap_nor_a_lines_kept_amount(lines, rates, depth, cap):
    paid = sum(line.amount_fen for line in lines)
    shares = core.compute(lines, chain=[1, 2], rates=[Rates(r) for r in rates], depth=depth, paid_fen=paid, cap_bp=cap)
    kept = paid - sum(line.refunded_fen for line in lines)
    assert sum(s.amount_fen for s in shares) <= kept * cap // 10_000
    assert all(0 < s.amount_fen <= s.base_fen for s in shares)
    assert all(s.level <= depth for s in shares)


@given(st.integers(1, 10**6), st.integers(1, 10**7), st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_refunds_in_any_steps_reverse_in_all_what_one_refund_of_the_sum_would(amount, base, steps):
    # Given an entry and refunds growing step by step, each reversing what is due at that point
    amount = min(amount, base)
    reversed_, refunded = 0, 0
    for step in steps:
        refunded = min(refunded + step, base)
        due = core.reversal_due(amount_fen=amount, base_fen=base, refunded_since_fen=refunded, reversed_fen=reversed_)
        assert due >= 0
        reversed_ += due
    # Then the total reversed equals the target for the total refunded; never more than the entry
    assert reversed_ == core.reversal_target(amount_fen=amount, base_fen=base, refunded_since_fen=refunded)
    assert reversed_ <= amount
    if refunded == base:
        assert reversed_ == amount


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=8), st.integers(0, 10**7))
def test_order_refunds_spread_add_up_and_stay_within_each_line(amounts, refunded):
    lines = [Line(i, "S", None, a) for i, a in enumerate(amounts)]
    spread = core.attribute_refunds(lines, order_refunded_fen=refunded)
    assert sum(line.refunded_fen for line in spread) == min(refunded, sum(amounts))
    assert all(0 <= line.refunded_fen <= line.amount_fen for line in spread)


@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 10**6)), max_size=10), st.integers(0, 10**7))
def test_payout_never_exceeds_the_limit(entries, limit):
    entries = [(i, fen) for i, (_, fen) in enumerate(entries)]
    taken = core.payout_pick(entries, limit_fen=limit)
    assert sum(dict(entries)[i] for i in taken) <= limit
