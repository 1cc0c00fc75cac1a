"""The group-buy rules as a pure core: deposits, joining limits, the cut-off, endings, after-sales, masking."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yutang.groupbuy.core import (
    Decision,
    DepositKind,
    Ending,
    LineStatus,
    Settlement,
    after_sale,
    at_cutoff,
    decide,
    deposit_problem,
    join_problem,
    masked,
    settle,
    upfront_fen,
    verification_problem,
)

E, A, F, N = DepositKind.EARNEST, DepositKind.ADVANCE, DepositKind.FULL, DepositKind.NONE
fen = st.integers(min_value=0, max_value=10**9)
qty = st.integers(min_value=1, max_value=1000)


@pytest.mark.parametrize("kind, price, deposit, refused", [
    (N, 1000, 0, False),
    (N, 1000, 100, True),
    (E, 1000, 200, False),    # exactly 20%
    (E, 1000, 201, True),     # above 20% has no 定金 effect: refused
    (E, 1000, 0, True),
    (E, 999, 199, False),
    (E, 999, 200, True),      # 200 × 5 = 1000 > 999
    (A, 1000, 500, False),    # 订金 may exceed 20%
    (A, 1000, 1000, False),
    (A, 1000, 1001, True),
    (A, 1000, 0, True),
    (F, 1000, 1000, False),
    (F, 1000, 0, False),      # 0 means "the price"
    (F, 1000, 900, True),
    (E, 1000, -1, True),
])
def test_a_deposit_fits_its_kind_and_price(kind, price, deposit, refused):
    assert (deposit_problem(kind, price_fen=price, deposit_fen=deposit) is not None) is refused


@given(price=fen, deposit=fen)
def test_an_accepted_earnest_is_never_above_a_fifth(price, deposit):
    if deposit_problem(E, price_fen=price, deposit_fen=deposit) is None:
        assert 0 < deposit and deposit * 5 <= price


@pytest.mark.parametrize("kind, upfront", [(N, 0), (E, 600), (A, 600), (F, 3000)])
def test_what_a_buyer_pays_on_joining(kind, upfront):
    assert upfront_fen(kind, price_fen=1000, deposit_fen=200, quantity=3) == upfront


@pytest.mark.parametrize("quantity, limit, mine, remaining, refused", [
    (1, None, 0, None, False),
    (2, 2, 0, 10, False),
    (3, 2, 0, 10, True),       # over the per-person limit
    (1, 2, 2, 10, True),       # limit reached by earlier joins
    (5, None, 0, 5, False),    # exactly the cap
    (6, None, 0, 5, True),     # over the cap
    (0, None, 0, None, True),
])
def test_joining_respects_limits_and_cap(quantity, limit, mine, remaining, refused):
    problem = join_problem(quantity=quantity, per_person_limit=limit, already_mine=mine, remaining=remaining)
    assert (problem is not None) is refused


@given(requests=st.lists(st.tuples(st.integers(0, 5), qty.map(lambda q: q % 7 + 1)), max_size=60),
       cap=st.integers(0, 50), limit=st.integers(1, 10))
def test_accepted_joins_never_exceed_the_cap_or_a_person_s_limit(requests, cap, limit):
    remaining, mine = cap, {}
    for person, quantity in requests:
        if join_problem(quantity=quantity, per_person_limit=limit, already_mine=mine.get(person, 0),
                        remaining=remaining) is None:
            remaining -= quantity
            mine[person] = mine.get(person, 0) + quantity
    assert remaining >= 0 and sum(mine.values()) == cap - remaining
    assert all(taken <= limit for taken in mine.values())


@pytest.mark.parametrize("minimum, total, decision", [
    (10, 9, Decision.CANCELLED), (10, 10, Decision.AHEAD), (10, 11, Decision.AHEAD), (0, 0, Decision.AHEAD),
])
def test_an_item_goes_ahead_by_its_minimum(minimum, total, decision):
    assert decide(minimum=minimum, total=total) is decision


@pytest.mark.parametrize("decision, paid, settlement", [
    (Decision.CANCELLED, 600, Settlement(refund_fen=600)),
    (Decision.AHEAD, 600, Settlement(balance_due_fen=2400)),
    (Decision.AHEAD, 3000, Settlement()),
    (Decision.AHEAD, 0, Settlement(balance_due_fen=3000)),
])
def test_the_cut_off_refunds_cancelled_lines_and_asks_the_balance_of_confirmed_ones(decision, paid, settlement):
    assert at_cutoff(decision, price_fen=1000, quantity=3, paid_fen=paid) == settlement


@pytest.mark.parametrize("kind, ending, paid, settlement", [
    # 定金 of 200 fen × 3: a buyer who walks away forfeits it, a seller who defaults returns it double.
    (E, Ending.BUYER_WALKED_AWAY, 600, Settlement(kept_fen=600)),
    (E, Ending.BUYER_WALKED_AWAY, 3000, Settlement(refund_fen=2400, kept_fen=600)),
    (E, Ending.SELLER_DEFAULTED, 600, Settlement(refund_fen=1200)),
    (E, Ending.SELLER_DEFAULTED, 3000, Settlement(refund_fen=3600)),
    (E, Ending.CANCELLED_BY_MINIMUM, 600, Settlement(refund_fen=600)),   # missing the minimum is nobody's default
    (E, Ending.PICKED_UP, 3000, Settlement(kept_fen=3000)),
    # 订金 is refundable either way.
    (A, Ending.BUYER_WALKED_AWAY, 600, Settlement(refund_fen=600)),
    (A, Ending.SELLER_DEFAULTED, 600, Settlement(refund_fen=600)),
    # Prepaid goods were made for the buyer: a no-show keeps them waiting, nothing is refunded by itself.
    (F, Ending.BUYER_WALKED_AWAY, 3000, Settlement(kept_fen=3000)),
    (F, Ending.SELLER_DEFAULTED, 3000, Settlement(refund_fen=3000)),
    (N, Ending.BUYER_WALKED_AWAY, 0, Settlement()),
])
def test_how_a_line_ends(kind, ending, paid, settlement):
    assert settle(kind, ending, deposit_fen=200, quantity=3, paid_fen=paid) == settlement


@given(kind=st.sampled_from(list(DepositKind)), ending=st.sampled_from(list(Ending)), deposit=fen, quantity=qty,
       paid=fen)
def test_an_ending_moves_only_what_was_paid_except_the_doubled_earnest(kind, ending, deposit, quantity, paid):
    result = settle(kind, ending, deposit_fen=deposit, quantity=quantity, paid_fen=paid)
    assert result.refund_fen >= 0 and result.kept_fen >= 0
    if kind is E and ending is Ending.SELLER_DEFAULTED:
        assert result.refund_fen == paid + min(deposit * quantity, paid) and result.kept_fen == 0
    else:
        assert result.refund_fen + result.kept_fen == paid


@pytest.mark.parametrize("paid, cost, refund, returned, revenue, cost_after, profit", [
    (1000, 400, 1000, False, 0, 400, -400),     # fresh: refund without return, revenue 0, cost kept
    (1000, 400, 0, False, 1000, 400, 600),
    (1000, 400, 500, False, 500, 400, 100),
    (1000, 400, 1000, True, 0, 0, 0),           # returned goods take their cost back
    (1000, 400, 500, True, 500, 200, 300),
])
def test_after_sales_show_revenue_and_cost_honestly(paid, cost, refund, returned, revenue, cost_after, profit):
    figures = after_sale(paid_fen=paid, cost_fen=cost, refund_fen=refund, returned=returned)
    assert (figures.revenue_fen, figures.cost_fen, figures.profit_fen) == (revenue, cost_after, profit)


@given(paid=fen, cost=fen, share=st.floats(0, 1))
def test_a_refund_without_return_never_lowers_the_cost(paid, cost, share):
    refund = int(paid * share)
    figures = after_sale(paid_fen=paid, cost_fen=cost, refund_fen=refund, returned=False)
    assert figures.cost_fen == cost and figures.revenue_fen == paid - refund


def test_a_refund_above_what_was_paid_is_refused():
    with pytest.raises(ValueError):
        after_sale(paid_fen=100, cost_fen=10, refund_fen=101, returned=False)


@pytest.mark.parametrize("name, shown", [("王小明", "王*"), ("王", "王*"), ("Alice", "A*"), ("", "*"), (None, "*"),
                                         ("  李四 ", "李*")])
def test_names_on_the_public_list_are_masked(name, shown):
    assert masked(name) == shown


@given(st.text())
def test_a_masked_name_shows_at_most_one_character(name):
    shown = masked(name)
    assert shown.endswith("*") and len(shown) <= 2


@pytest.mark.parametrize("status, refused", [(LineStatus.CONFIRMED, False), (LineStatus.PICKED_UP, True),
                                             (LineStatus.JOINED, True), (LineStatus.CANCELLED, True),
                                             (LineStatus.REFUNDED, True), (LineStatus.NO_SHOW, True)])
def test_a_code_verifies_once_and_only_for_a_confirmed_line(status, refused):
    assert (verification_problem(status) is not None) is refused
