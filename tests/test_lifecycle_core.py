"""The pure lifecycle rules: stage from facts, quintile scores, RFM classes, local-day windows (no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from yutang.lifecycle import core
from yutang.lifecycle.core import Facts, Thresholds

T = Thresholds(repeat_orders=2, loyal_events=10, loyal_event_days=30, loyal_referrals=1, at_risk_days=60,
               dormant_days=120, churned_days=240)


@pytest.mark.parametrize(("orders", "days", "events", "referrals", "expected"), [
    (0, None, 0, 0, "prospect"),
    (0, None, 500, 3, "prospect"),  # engagement and referrals without a purchase stay prospects
    (1, 0, 0, 0, "new"),
    (1, 59, 100, 5, "new"),  # one order is never loyal, however engaged
    (2, 0, 0, 0, "repeat"),
    (2, 10, 9, 0, "repeat"),  # one event short of engaged
    (2, 10, 10, 0, "loyal"),  # engaged
    (2, 10, 0, 1, "loyal"),  # referred someone
    (7, 59, 0, 0, "repeat"),
    (1, 60, 0, 0, "at_risk"),  # the day the threshold is reached
    (9, 60, 99, 9, "at_risk"),  # lapsing outranks loyalty
    (1, 119, 0, 0, "at_risk"),
    (1, 120, 0, 0, "dormant"),
    (3, 239, 0, 0, "dormant"),
    (1, 240, 0, 0, "churned"),
    (40, 2000, 0, 0, "churned"),
])
def test_stage_from_facts(orders, days, events, referrals, expected):
    assert core.stage(Facts(orders=orders, days_since_last_purchase=days, recent_events=events,
                            referrals=referrals), T) == expected


def test_repeat_threshold_is_a_setting():
    three = Thresholds(repeat_orders=3)
    assert core.stage(Facts(2, 1, 0, 0), three) == "new"
    assert core.stage(Facts(3, 1, 0, 0), three) == "repeat"


@pytest.mark.parametrize(("percent_rank", "expected"), [
    (0.0, 1), (0.1999, 1), (0.2, 2), (0.39, 2), (0.4, 3), (0.6, 4), (0.7999, 4), (0.8, 5), (0.99, 5), (1.0, 5),
])
def test_scores_are_quintiles_of_the_percent_rank(percent_rank, expected):
    assert core.score(percent_rank) == expected


@pytest.mark.parametrize(("r", "f", "m", "expected"), [
    (5, 5, 5, "important_value"), (3, 3, 3, "important_value"),
    (4, 1, 5, "important_development"), (1, 4, 3, "important_retention"), (2, 2, 5, "important_recovery"),
    (5, 3, 2, "general_value"), (3, 2, 1, "general_development"), (2, 5, 2, "general_retention"),
    (1, 1, 1, "general_recovery"), (2, 2, 2, "general_recovery"),
])
def test_rfm_classes(r, f, m, expected):
    assert core.rfm_class(r, f, m) == expected


def test_every_class_is_reachable_and_named():
    reached = {core.rfm_class(r, f, m) for r in (1, 5) for f in (1, 5) for m in (1, 5)}
    assert reached == set(core.RFM_CLASSES)


@pytest.mark.parametrize(("then", "now", "zone", "days"), [
    # 23:30 and 00:30 Beijing time are different local days although an hour apart.
    ("2026-11-10T15:30:00+00:00", "2026-11-10T16:30:00+00:00", "Asia/Shanghai", 1),
    ("2026-11-10T15:30:00+00:00", "2026-11-10T16:30:00+00:00", "UTC", 0),
    ("2026-01-01T00:00:00+08:00", "2026-03-02T23:59:00+08:00", "Asia/Shanghai", 60),
])
def test_days_since_counts_local_calendar_days(then, now, zone, days):
    assert core.days_since(datetime.fromisoformat(then), datetime.fromisoformat(now), zone) == days


def test_window_start_is_local_midnight_and_matches_days_since():
    now = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 on 20 November in Shanghai
    start = core.window_start(now, 30, "Asia/Shanghai")
    assert start.astimezone(UTC) == datetime(2026, 10, 21, 16, 0, tzinfo=UTC)  # 22 Oct 00:00 Beijing time
    # The SQL tests "before the start" where the core counts days: an instant at the start is 29 local days old,
    # the one just before it 30.
    assert core.days_since(start, now, "Asia/Shanghai") == 29
    assert core.days_since(start - timedelta(microseconds=1), now, "Asia/Shanghai") == 30
