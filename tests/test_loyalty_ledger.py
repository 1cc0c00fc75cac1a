"""The points ledger: the pure core (FEFO, expiry dates, reversal) and the store under random sequences."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.customers import new_customer
from tests.helpers.loyalty import assert_consistent, ledger_state
from tests.helpers.tenants import make_tenant
from yutang.loyalty import config, ledger, points
from yutang.loyalty.errors import NotEnoughPoints
from yutang.loyalty.schemas import SettingsIn

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
ZONE = "Asia/Shanghai"


# The pure core.

def test_fefo_spends_first_expiring_lot_first_and_never_expiring_last():
    lots = [ledger.Lot(1, 100, None), ledger.Lot(2, 50, NOW + timedelta(days=30)),
            ledger.Lot(3, 70, NOW + timedelta(days=10)), ledger.Lot(4, 80, NOW - timedelta(days=1))]
    assert ledger.allocate(lots, 100, now=NOW) == [(3, 70), (2, 30)]
    assert ledger.available(lots, now=NOW) == 220  # lot 4 has expired
    with pytest.raises(ledger.InsufficientPoints):
        ledger.allocate(lots, 221, now=NOW)
    assert ledger.expiring(lots, now=NOW) == [(4, 80)]


def test_rolling_expiry_ends_with_the_local_day_n_months_on():
    # 2026-01-31 01:00 in Beijing is 2026-01-30 17:00 UTC; one month on is the 28th of February, local end of day.
    earned = datetime(2026, 1, 30, 17, 0, tzinfo=UTC)
    expires = ledger.expiry_for(earned, policy="rolling", months=1, fixed_month_day=None, zone=ZONE)
    assert expires == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # 2026-03-01 00:00 in Beijing
    fixed = ledger.expiry_for(earned, policy="fixed", months=0, fixed_month_day="12-31", zone=ZONE)
    assert fixed == datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
    assert ledger.expiry_for(earned, policy="never", months=0, fixed_month_day=None, zone=ZONE) is None


def test_reversal_takes_from_its_own_lot_first_then_reports_the_shortfall():
    lots = [ledger.Lot(1, 10, NOW + timedelta(days=1)), ledger.Lot(2, 30, NOW + timedelta(days=90))]
    assert ledger.reversal(lots, 35, now=NOW, origin_lot_id=2) == ([(2, 30), (1, 5)], 0)
    assert ledger.reversal(lots, 50, now=NOW, origin_lot_id=2) == ([(2, 30), (1, 10)], 10)


def test_pro_rata_reverses_everything_at_a_full_refund():
    assert ledger.pro_rata(99, refunded_fen=3332, paid_fen=9999) == 32  # rounds down
    assert ledger.pro_rata(99, refunded_fen=9999, paid_fen=9999) == 99
    assert ledger.pro_rata(99, refunded_fen=0, paid_fen=9999) == 0


# Random sequences: earn (with an age, so some lots are already past expiry), redeem, expire, reverse part of an
# earlier earn, and repeats of earlier keys.
OPS = st.lists(st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 500), st.integers(0, 90)),
    st.tuples(st.just("redeem"), st.integers(1, 600), st.just(0)),
    st.tuples(st.just("expire"), st.just(0), st.just(0)),
    st.tuples(st.just("reverse"), st.integers(1, 500), st.integers(0, 20)),
    st.tuples(st.just("repeat"), st.integers(0, 30), st.just(0)),
), min_size=1, max_size=25)

MONTH = {"policy": "rolling", "months": 1, "fixed_month_day": None, "zone": ZONE}


def _run_book(book: ledger.Book, ops, now: datetime) -> list[tuple]:
    """Apply ops to the pure book; returns the list of calls made (for replay on the store)."""
    calls, earned = [], []
    for number, (op, amount, extra) in enumerate(ops):
        key = f"k{number}"
        if op == "earn":
            at = now - timedelta(days=extra)
            calls.append(("earn", key, amount, at))
            book.earn(key, amount, expires_at=ledger.expiry_for(at, **MONTH))
            earned.append(key)
        elif op == "redeem":
            calls.append(("redeem", key, amount))
            try:
                book.redeem(key, amount, now=now)
            except ledger.InsufficientPoints:
                pass
        elif op == "expire":
            calls.append(("expire",))
            book.expire(now=now)
        elif op == "reverse" and earned:
            earn_key = earned[extra % len(earned)]
            calls.append(("reverse", key, earn_key, amount))
            book.reverse(key, earn_key, amount, now=now)
        elif op == "repeat" and calls:
            calls.append(calls[amount % len(calls)])
            again = calls[-1]
            if again[0] == "earn":
                book.earn(again[1], again[2], expires_at=ledger.expiry_for(again[3], **MONTH))
            elif again[0] == "redeem":
                try:
                    book.redeem(again[1], again[2], now=now)
                except ledger.InsufficientPoints:
                    pass
            elif again[0] == "reverse":
                book.reverse(again[1], again[2], again[3], now=now)
            else:
                book.expire(now=now)
        _check_book(book, now)
    return calls


def _check_book(book: ledger.Book, now: datetime) -> None:
    assert book.balance == sum(entry.points for entry in book.entries.values())
    assert all(lot.remaining >= 0 for lot in book.lots)
    assert sum(lot.remaining for lot in book.lots) == max(book.balance, 0)
    assert book.shortfall == sum(entry.shortfall for entry in book.entries.values())


@pytest.mark.slow
@given(ops=OPS, allow_negative=st.booleans())
@settings(max_examples=300, deadline=None)
def test_pure_book_keeps_its_invariants(ops, allow_negative):
    book = ledger.Book(allow_negative=allow_negative)
    _run_book(book, ops, NOW)
    if not allow_negative:
        assert book.balance >= 0


@pytest.fixture(scope="module")
def shared(database):
    """One tenant for the store's property test (hypothesis runs many examples per test)."""
    return make_tenant(database)


@pytest.mark.slow
@given(ops=OPS, allow_negative=st.booleans())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_store_matches_the_pure_book(database, shared, ops, allow_negative):
    actor = shared.actor
    with database.unit_of_work() as session:
        config.update_settings(session, actor=actor, data=SettingsIn(expiry_policy="rolling", expiry_months=1,
                                                                     allow_negative=allow_negative))
    customer_id = new_customer(database, actor)
    now = datetime.now(UTC)
    book = ledger.Book(allow_negative=allow_negative)
    calls = _run_book(book, ops, now)
    prefix = f"c{customer_id}:"
    earn_ids: dict[str, int] = {}
    for call in calls:
        with database.unit_of_work() as session:
            if call[0] == "earn":
                entry, _ = points.earn(session, actor=actor, customer_id=customer_id, points=call[2],
                                       key=prefix + call[1], occurred_at=call[3])
                earn_ids[call[1]] = entry.id
            elif call[0] == "redeem":
                try:
                    points.redeem(session, actor=actor, customer_id=customer_id, points=call[2], key=prefix + call[1])
                except NotEnoughPoints:
                    pass
            elif call[0] == "expire":
                points.expire_customer(session, workspace_id=actor.workspace_id, customer_id=customer_id, now=now)
            else:
                points.reverse(session, actor=actor, entry_id=earn_ids[call[2]], key=prefix + call[1],
                               points=call[3])
        with database.unit_of_work() as session:
            assert_consistent(ledger_state(session, customer_id))
    with database.unit_of_work() as session:
        state = ledger_state(session, customer_id)
    assert state["balance"] == book.balance
    assert state["shortfall"] == book.shortfall
    assert state["keys"] == len(book.entries)
