"""Contact-pressure rules, table-driven: caps (global and per channel, rolling), WeCom's monthly cap, quiet hours
in the customer's or workspace's zone, consent and refusal, priorities and dedup across audiences."""

from datetime import UTC, datetime, time, timedelta

import pytest

from yutang.messaging.pressure import Candidate, Cap, Customer, Rules, Sent, decide

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
RULES = Rules(caps=(Cap("weekly", 2, timedelta(days=7)), Cap("sms-daily", 1, timedelta(days=1), channel="sms")),
              quiet_start=time(21), quiet_end=time(9), wecom_group_sends_per_month=4)
NO_CAPS = Rules(caps=(), wecom_group_sends_per_month=4)


def ago(**delta) -> datetime:
    return NOW - timedelta(**delta)


def c(campaign=1, channel="email", priority=0, purpose="marketing", group=False) -> Candidate:
    return Candidate(customer_id=7, campaign_id=campaign, channel=channel, priority=priority, purpose=purpose,
                     wecom_group_send=group)


CASES = [
    ("plain marketing goes out", {}, [c()], NOW, RULES, [(True, None)]),
    ("refusal of personalised marketing", {"refuses_personalised": True}, [c()], NOW, RULES,
     [(False, "refuses_personalised")]),
    ("refusal does not stop service", {"refuses_personalised": True}, [c(purpose="service")], NOW, RULES,
     [(True, None)]),
    ("consent withdrawn on one channel only", {"consents": {"email": "withdrawn", "sms": "granted"}},
     [c(1, "email"), c(2, "sms")], NOW, RULES, [(False, "consent_withdrawn:email"), (True, None)]),
    ("weekly cap reached", {"history": (Sent(ago(days=1), "sms"), Sent(ago(days=6), "wecom"))}, [c()], NOW, RULES,
     [(False, "cap:weekly")]),
    ("the window rolls", {"history": (Sent(ago(days=1), "sms"), Sent(ago(days=8), "wecom"))}, [c()], NOW, RULES,
     [(True, None)]),
    ("service sends do not count", {"history": (Sent(ago(days=1), "sms", "service"),
                                                Sent(ago(days=2), "email", "service"))}, [c()], NOW, RULES,
     [(True, None)]),
    ("per-channel cap", {"history": (Sent(ago(hours=3), "sms"),)}, [c(1, "sms"), c(2, "email")], NOW, RULES,
     [(False, "cap:sms-daily"), (True, None)]),
    ("the higher priority wins the last slot", {"history": (Sent(ago(days=2), "email"),)},
     [c(1, priority=1), c(2, priority=5)], NOW, RULES, [(False, "cap:weekly"), (True, None)]),
    ("two campaigns fit under the cap", {}, [c(1), c(2)], NOW, RULES, [(True, None), (True, None)]),
    ("a third is capped by the two before it in the same run", {}, [c(1), c(2), c(3)], NOW, RULES,
     [(True, None), (True, None), (False, "cap:weekly")]),
    ("overlapping audiences: the same campaign once", {}, [c(1), c(1)], NOW, RULES,
     [(True, None), (False, "duplicate")]),
    ("quiet hours in the workspace zone", {}, [c()], datetime(2026, 11, 25, 14, 0, tzinfo=UTC), RULES,
     [(False, "quiet_hours")]),
    ("quiet hours in the customer's own zone", {"timezone": "Europe/London"}, [c()],
     datetime(2026, 11, 25, 14, 0, tzinfo=UTC), RULES, [(True, None)]),
    ("before the quiet window ends in the morning", {}, [c()], datetime(2026, 11, 25, 0, 30, tzinfo=UTC), RULES,
     [(False, "quiet_hours")]),
    ("at night a capped customer is suppressed by the cap, not deferred", {"history": (
        Sent(datetime(2026, 11, 24, 2, 0, tzinfo=UTC), "email"), Sent(datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
                                                                     "email"))},
     [c()], datetime(2026, 11, 25, 14, 0, tzinfo=UTC), RULES, [(False, "cap:weekly")]),
    ("messages deferred past the quiet hours count against the cap", {}, [c(1), c(2), c(3)],
     datetime(2026, 11, 25, 14, 0, tzinfo=UTC), RULES,
     [(False, "quiet_hours"), (False, "quiet_hours"), (False, "cap:weekly")]),
    ("service ignores quiet hours", {}, [c(purpose="service")], datetime(2026, 11, 25, 14, 0, tzinfo=UTC), RULES,
     [(True, None)]),
    ("WeCom monthly cap", {"history": tuple(Sent(ago(days=d), "wecom", wecom_group_send=True) for d in (1, 3, 9, 15))},
     [c(channel="wecom", group=True)], NOW, NO_CAPS, [(False, "wecom_monthly_cap")]),
    ("WeCom month is the local month", {"history": (
        *(Sent(ago(days=d), "wecom", wecom_group_send=True) for d in (1, 3, 9)),
        Sent(datetime(2026, 10, 31, 17, 0, tzinfo=UTC), "wecom", wecom_group_send=True))},  # Nov 1, 01:00 local
     [c(channel="wecom", group=True)], NOW, NO_CAPS, [(False, "wecom_monthly_cap")]),
    ("WeCom sends of last month do not count", {"history": (
        *(Sent(ago(days=d), "wecom", wecom_group_send=True) for d in (1, 3, 9)),
        Sent(datetime(2026, 10, 31, 15, 0, tzinfo=UTC), "wecom", wecom_group_send=True))},  # Oct 31, 23:00 local
     [c(channel="wecom", group=True)], NOW, NO_CAPS, [(True, None)]),
    ("WeCom 1:1 messages are not group sends", {"history": tuple(Sent(ago(days=d), "wecom", wecom_group_send=True)
                                                                 for d in (1, 3, 9, 15))},
     [c(channel="wecom")], NOW, NO_CAPS, [(True, None)]),
]


@pytest.mark.parametrize(("name", "customer", "candidates", "now", "rules", "expected"), CASES,
                         ids=[case[0] for case in CASES])
def test_pressure(name, customer, candidates, now, rules, expected):
    decisions = decide(candidates, {7: Customer(id=7, **customer)}, rules, now)
    assert [(d.send, d.reason) for d in decisions] == expected
    assert [(d.customer_id, d.campaign_id) for d in decisions] == [(x.customer_id, x.campaign_id)
                                                                   for x in candidates]


def test_quiet_hours_say_when_to_retry():
    evening = decide([c()], {}, RULES, datetime(2026, 11, 25, 14, 0, tzinfo=UTC))[0]  # 22:00 local
    assert evening.retry_at == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 09:00 local next morning
    morning = decide([c()], {}, RULES, datetime(2026, 11, 25, 0, 30, tzinfo=UTC))[0]  # 08:30 local
    assert morning.retry_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    daytime = Rules(quiet_start=time(12), quiet_end=time(14))
    lunch = decide([c()], {}, daytime, datetime(2026, 11, 25, 4, 30, tzinfo=UTC))[0]  # 12:30 local
    assert lunch.reason == "quiet_hours" and lunch.retry_at == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def test_customers_are_decided_independently():
    other = Candidate(customer_id=8, campaign_id=1, channel="email")
    decisions = decide([c(1), other, c(2), c(3)], {7: Customer(id=7), 8: Customer(id=8, refuses_personalised=True)},
                       RULES, NOW)
    assert [(d.customer_id, d.send, d.reason) for d in decisions] == [
        (7, True, None), (8, False, "refuses_personalised"), (7, True, None), (7, False, "cap:weekly")]
