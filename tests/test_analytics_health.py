"""Pond health on a brand worked out by hand: harm after touches against matched untouched customers."""

from datetime import date

import pytest

from tests.helpers.analytics import bj, seed_pond
from yutang.analytics import health
from yutang.analytics import service as analytics_service
from yutang.analytics.schemas import FatiguePoint, HealthCell, PondHealthIn

# Monday 30 November: with N = 7 the newest complete watch is the week of 16–22 November (watched to the 29th).
NOW = bj("2026-11-30 12:00")

def test_harm_after_touches_against_matched_untouched_customers(database, pipeline, client, api, tenant):
    brand, config = seed_pond(database, pipeline, client, api, tenant, monday=date(2026, 11, 16))
    with database.unit_of_work() as session:
        report = analytics_service.pond_health(session, pipeline.warehouse, actor=tenant.actor,
                                               data=PondHealthIn(weeks=1, days_after=7), now=NOW)
    assert (str(report.first_day), str(report.last_day)) == ("2026-11-16", "2026-11-22")
    # Untouched: D, E, F, G (active before; E went quiet) and I, J (not; J left): 1 in 4 and 1 in 2.
    untouched = report.untouched
    assert (untouched.customers, untouched.left, untouched.quiet, untouched.harmed) == (6, 1, 1, 2)
    assert untouched.rate == pytest.approx(2 / 6) and untouched.excess == 0

    kinds = {(k.purpose, k.origin): k for k in report.kinds}
    assert set(kinds) == {("marketing", "broadcast"), ("marketing", "single"), ("service", "single")}
    blast = kinds["marketing", "broadcast"]
    # A, B active before (control 1/4), H not (control 1/2); B went quiet, H left.
    assert (blast.customers, blast.quiet, blast.left, blast.harmed) == (3, 1, 1, 2)
    assert blast.rate == pytest.approx(2 / 3) and blast.matched_rate == pytest.approx((2 / 4 + 1 / 2) / 3)
    assert blast.excess == pytest.approx(2 / 3 - 1 / 3)
    assert (blast.channel_config_id, blast.channel_name, blast.channel_kind) == (config, "测试通道", "null")
    single = kinds["marketing", "single"]  # C, three times, counted once; withdrew consent
    assert (single.customers, single.withdrew, single.harmed) == (1, 1, 1)
    assert single.matched_rate == pytest.approx(0.25) and single.excess == pytest.approx(0.75)
    service = kinds["service", "single"]  # K, not active before, nothing followed
    assert (service.customers, service.harmed, service.matched_rate) == (1, 0, pytest.approx(0.5))

    # By marketing messages in the week: K's service message leaves it among the zero.
    curve = {p.touches: p for p in report.fatigue}
    assert set(curve) == {0, 1, 3}
    assert (curve[0].customers, curve[0].harmed) == (7, 2)
    assert curve[0].matched_rate == pytest.approx((4 / 4 + 3 / 2) / 7)
    assert (curve[1].customers, curve[1].harmed) == (3, 2) and curve[3].rate == 1.0
    # Three customers are too few to suggest a cap from.
    assert report.suggested_weekly_cap is None and report.evidence_up_to == 0


def test_a_point_of_the_curve_drills_down_to_its_customers(database, pipeline, client, api, tenant):
    brand, _ = seed_pond(database, pipeline, client, api, tenant, monday=date(2026, 11, 16))
    cell = HealthCell(report="pond_health", weeks=1, days_after=7, touches=0)

    def who(**more) -> set[str]:
        found = analytics_service.cell_customers(pipeline.warehouse, actor=tenant.actor,
                                                 cell=cell.model_copy(update=more), now=NOW)
        assert found.total == len(found.items)
        return brand.names(c.customer_id for c in found.items)

    # The curve above by name: no marketing message D, E, F, G, I, J and K (service only); E went quiet, J left.
    assert who(harm="all") == {"D", "E", "F", "G", "I", "J", "K"}
    assert who() == {"E", "J"} and who(harm="left") == {"J"} and who(harm="quiet") == {"E"}
    # One marketing message: A, B (quiet) and H (left); three: C, who withdrew.
    assert who(touches=1) == {"B", "H"} and who(touches=1, harm="all") == {"A", "B", "H"}
    assert who(touches=3, harm="withdrew") == {"C"} and who(touches=2, harm="all") == set()


def test_the_watch_only_uses_weeks_that_have_ended(database, pipeline, client, api, tenant):
    seed_pond(database, pipeline, client, api, tenant, monday=date(2026, 11, 16))
    with database.unit_of_work() as session:
        sunday = analytics_service.pond_health(session, pipeline.warehouse, actor=tenant.actor,
                                               data=PondHealthIn(weeks=2, days_after=7), now=bj("2026-11-29 23:00"))
    # On the 29th the week of the 16th is still being watched: the two weeks before it are used.
    assert (str(sunday.first_day), str(sunday.last_day)) == ("2026-11-02", "2026-11-15")
    assert sum(k.customers for k in sunday.kinds) == 0


def test_the_suggested_cap_is_the_most_touches_within_the_threshold():
    def point(k, n, excess):
        return FatiguePoint(touches=k, customers=n, left=0, withdrew=0, quiet=0, harmed=0, rate=0.1 + excess,
                            matched_rate=0.1, excess=excess)

    curve = [point(0, 500, 0), point(1, 400, 0.001), point(2, 300, 0.015), point(3, 100, 0.04), point(4, 50, 0.09)]
    assert health.suggest(curve, threshold_pp=2.0) == (2, 3)
    assert health.suggest(curve, threshold_pp=5.0) == (3, 4)
    assert health.suggest(curve, threshold_pp=10.0) == (4, 4)
    assert health.suggest([point(1, 400, 0.03)], threshold_pp=2.0) == (0, 1)
    assert health.suggest([point(1, 10, 0.0)], threshold_pp=2.0) == (None, 0)


def test_the_api_reports_and_names_bad_fields(api):
    answer = api.get("/v1/analytics/pond-health", params={"weeks": 4, "days_after": 14})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["days_after"] == 14 and body["untouched"]["customers"] == 0
    assert [c["name"] for c in body["caps_in_force"]] == [
        c["name"] for c in api.get("/v1/messaging/pressure").json()["caps"]]
    for params, field in (({"weeks": 0}, "weeks"), ({"days_after": 31}, "days_after"),
                          ({"threshold_pp": -1}, "threshold_pp")):
        bad = api.get("/v1/analytics/pond-health", params=params)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == field, bad.text
