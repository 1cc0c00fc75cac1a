"""Sell-then-produce forecasting: a suggested quantity by weekday, and the error of each round."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yutang.groupbuy import forecast

MONDAY = date(2098, 6, 2)


def _weeks(weeks: int, pattern=(20, 20, 20, 20, 40, 60, 60)) -> dict[date, int]:
    return {MONDAY + timedelta(days=i): pattern[i % 7] for i in range(weeks * 7)}


def test_two_weeks_of_daily_rounds_forecast_the_weekday_pattern():
    history = _weeks(4)
    saturday = MONDAY + timedelta(days=28 + 5)
    tuesday = MONDAY + timedelta(days=28 + 1)
    # The next day after four weeks is a Monday (20); Saturdays sell 60
    assert forecast.suggest(history, MONDAY + timedelta(days=28)) == 20
    assert forecast.suggest(history | {MONDAY + timedelta(days=28 + i): 20 if i < 4 else 40 for i in range(5)},
                            saturday) == 60
    assert forecast.suggest(history | {MONDAY + timedelta(days=28): 20}, tuesday) == 20


@pytest.mark.parametrize("history, day, expected", [
    ({}, MONDAY, 0),
    ({MONDAY: 10, MONDAY + timedelta(days=7): 20, MONDAY + timedelta(days=3): 99}, MONDAY + timedelta(days=14), 15),
    ({MONDAY: 10, MONDAY + timedelta(days=1): 30}, MONDAY + timedelta(days=2), 20),  # no same weekday: all rounds
])
def test_short_or_gappy_history_uses_the_same_weekday_mean(history, day, expected):
    assert forecast.suggest(history, day) == expected


def test_each_round_is_scored_against_a_forecast_from_before_it():
    history = _weeks(3) | {MONDAY + timedelta(days=21): 30}
    last = forecast.rounds(history, last=1)[0]
    assert (last.day, last.forecast, last.actual, last.error) == (MONDAY + timedelta(days=21), 20, 30, 10)
    assert forecast.mean_absolute_percentage([last]) == pytest.approx(10 / 30)


@given(st.dictionaries(st.integers(0, 40).map(lambda i: MONDAY + timedelta(days=i)), st.integers(0, 500),
                       max_size=40))
def test_a_suggestion_is_never_negative_nor_uses_the_future(history):
    day = MONDAY + timedelta(days=20)
    past = {d: units for d, units in history.items() if d < day}
    assert forecast.suggest(history, day) == forecast.suggest(past, day) >= 0
