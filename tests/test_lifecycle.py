"""Lifecycle stages, RFM and value computed in the warehouse (DuckDB or PostgreSQL, as the suite runs), through the
real order, event and relay paths; settings and overview through the API."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tests.helpers.lifecycle import NOW, SETTINGS, Shop, ago
from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn
from yutang.lifecycle import core, tasks, value


@pytest.fixture
def shop(database, client, api, tenant, pipeline) -> Shop:
    assert api.put("/v1/lifecycle/settings", json=SETTINGS).status_code == 200
    return Shop(database, client, api, tenant, pipeline)


def test_stages_follow_the_settings_and_the_workspace_time_zone(shop):
    shop.customer("prospect")
    shop.events("prospect", [ago(1)] * 8)  # engaged but never bought
    shop.order("new", ago(5))
    shop.order("repeat", ago(50))
    shop.order("repeat", ago(3))
    shop.events("repeat", [ago(2)] * 4 + [ago(31)] * 10)  # four in the window: one short of engaged
    shop.order("engaged", ago(40))
    shop.order("engaged", ago(10))
    shop.events("engaged", [ago(d) for d in (1, 2, 3, 4, 29)])
    shop.order("referrer", ago(40))
    shop.order("referrer", ago(10))
    shop.events("referrer", [ago(200)], event="Referral Completed")
    shop.order("at risk", ago(61))
    shop.order("lapsing loyal", ago(100))
    shop.order("lapsing loyal", ago(70))
    shop.events("lapsing loyal", [ago(1)] * 9, event="Referral Completed")
    shop.order("dormant", ago(130))
    shop.order("churned", ago(400))
    shop.order("refunded", ago(5), status="refunded", refunded_fen=10_000)
    shop.order("unpaid", ago(5), status="pending")
    # 00:30 on 22 September in Beijing is 59 local days before 20 November, although 60 days by UTC dates.
    shop.order("midnight", datetime(2026, 9, 21, 16, 30, tzinfo=UTC))
    shop.order("future", NOW + timedelta(days=1))  # not yet paid as of the refresh

    report = shop.compute()
    stages = {name: row[0] for name, row in shop.scores().items()}
    assert stages == {"prospect": "prospect", "new": "new", "repeat": "repeat", "engaged": "loyal",
                      "referrer": "loyal", "at risk": "at_risk", "lapsing loyal": "at_risk", "dormant": "dormant",
                      "churned": "churned", "refunded": "prospect", "unpaid": "prospect", "midnight": "new",
                      "future": "prospect"}
    assert report.customers == len(stages) and report.baseline and report.transitions == 0


def test_a_stage_change_is_an_event_recorded_once(shop, pipeline, api):
    shop.order("anna", ago(20))
    shop.customer("bo")
    first = shop.compute()
    assert first.baseline and first.transitions == 0
    shop.order("anna", ago(1))  # a second purchase: new -> repeat
    shop.order("bo", ago(1))  # a first one: prospect -> new
    shop.customer("cai")  # seen for the first time as a prospect: no change
    second = shop.compute()
    assert not second.baseline and second.transitions == 2
    again = shop.compute(NOW + timedelta(hours=1))  # same day, nothing changed
    assert again.transitions == 0
    rows = pipeline.warehouse.query(
        "SELECT customer_id, message_id, properties, source FROM events WHERE workspace_id = %(w)s "
        "AND event = 'Lifecycle Stage Changed' ORDER BY customer_id", {"w": shop.tenant.id})
    assert [(r[0], r[3]) for r in rows] == [(shop.ids["anna"], "yutang"), (shop.ids["bo"], "yutang")]
    props = [json.loads(r[2]) if isinstance(r[2], str) else r[2] for r in rows]
    assert props == [{"from": "new", "to": "repeat"}, {"from": "prospect", "to": "new"}]
    assert rows[0][1] == f"yutang:lifecycle:{shop.ids['anna']}:20261120:new>repeat"
    # Sixty-one days later Anna lapses: one more transition.
    later = shop.compute(NOW + timedelta(days=61))
    assert later.transitions == 2  # anna and bo are both at risk by then
    timeline = api.get(f"/v1/customers/{shop.ids['anna']}/timeline", params={"kind": "event"}).json()
    assert [e["name"] for e in timeline["items"]].count("Lifecycle Stage Changed") == 2


def _percent_ranks(values: list[float]) -> list[float]:
    n = len(values)
    return [0.0 if n == 1 else sum(other < v for other in values) / (n - 1) for v in values]


def test_rfm_scores_are_quintiles_with_ties_and_classes_follow(shop):
    # (orders within the window as days ago, fen each); one customer bought only outside the window.
    plan = {"a": ([3], 5_000), "b": ([10, 200], 20_000), "c": ([30, 60, 90], 8_000), "d": ([5, 6], 50_000),
            "e": ([100], 1_000), "f": ([300, 20, 40, 80], 15_000), "g": ([2], 5_000), "old": ([400], 99_000)}
    for name, (days, fen) in plan.items():
        for d in days:
            shop.order(name, ago(d), fen)
    shop.order("partly", ago(15), 30_000, status="partially_refunded", refunded_fen=12_000)
    plan["partly"] = ([15], 18_000)
    shop.compute()
    scores = shop.scores()
    scored = [n for n in plan if n != "old"]
    last = [-min(plan[n][0]) for n in scored]
    freq = [len(plan[n][0]) for n in scored]
    money = [len(plan[n][0]) * plan[n][1] for n in scored]
    for i, name in enumerate(scored):
        r, f, m = (core.score(p[i]) for p in (_percent_ranks(last), _percent_ranks(freq), _percent_ranks(money)))
        assert scores[name][1:5] == (r, f, m, core.rfm_class(r, f, m)), name
    assert scores["old"][1:5] == (None, None, None, None)  # no purchase in the 365-day window
    assert scores["old"][5] == 99_000  # historic value covers every purchase
    assert scores["partly"][5] == 18_000  # net of refunds
    assert scores["d"][5] == 100_000


@pytest.mark.slow
def test_predicted_value_comes_from_the_fitted_models(shop):
    rng = np.random.default_rng(7)
    histories = {}
    for n in range(40):
        first = float(rng.integers(30, 700))
        repeats = sorted(rng.uniform(0, first, size=int(rng.poisson(1.5))), reverse=True)
        days = [first] + [float(d) for d in repeats if first - d > 0.5]
        fen = [int(rng.integers(3_000, 30_000)) for _ in days]
        histories[f"c{n}"] = list(zip(days, fen, strict=True))
        for d, f in histories[f"c{n}"]:
            shop.order(f"c{n}", ago(d), f)
    shop.customer("never")
    report = shop.compute()
    assert report.model is not None, report.model_error
    # Fit the same inputs here from the plan: x repeat purchases, t_x and T in days, mean repeat value.
    names = sorted(histories, key=lambda n: shop.ids[n])
    x = np.array([len(histories[n]) - 1 for n in names], dtype=float)
    t_x = np.array([histories[n][0][0] - histories[n][-1][0] for n in names])
    T = np.array([histories[n][0][0] for n in names])
    mean = np.array([np.mean([f for _, f in histories[n][1:]]) if len(histories[n]) > 1 else 0.0 for n in names])
    # As the refresh does for a small workspace: fitted exactly, alpha in weeks and v in fen; predicting in days.
    weekly = value.fit_bgnbd(x, t_x / 7, T / 7)
    bgnbd = value.BgNbd(r=weekly.r, alpha=weekly.alpha * 7, a=weekly.a, b=weekly.b)
    gg = value.fit_gamma_gamma(x, mean)
    assert report.model["units"] == {"alpha": "week", "v": "fen"} and report.model["purchases"] == "order"
    assert report.model["gamma_gamma"]["q"] == pytest.approx(gg.q, rel=1e-4)
    assert report.model["gamma_gamma"]["v"] == pytest.approx(gg.v, rel=1e-3)
    assert report.model["bgnbd"]["r"] == pytest.approx(weekly.r, rel=0.02)
    assert report.model["bgnbd"]["alpha"] == pytest.approx(weekly.alpha, rel=0.02)
    expected = bgnbd.expected_purchases(365, x, t_x, T) * gg.expected_value(x, mean)
    scores = shop.scores()
    stored = np.array([scores[n][6] for n in names], dtype=float)
    # On 40 customers the drop-out parameters (a, b) are weakly identified, so the two fits stop at slightly
    # different points of a flat likelihood; predictions agree to 1% (a wrong input, e.g. x off by one or T in
    # another unit, moves them by far more).
    assert np.allclose(stored, expected, rtol=0.01)
    assert scores["never"][6] is None and scores["never"][5] == 0


def test_too_little_data_leaves_predicted_value_empty_and_says_why(shop):
    shop.order("solo", ago(3))
    report = shop.compute()
    assert report.model is None and "BG/NBD needs" in report.model_error
    assert shop.scores()["solo"][6] is None


def test_settings_api_validates_and_audits(api, client, tenant):
    defaults = api.get("/v1/lifecycle/settings")
    assert defaults.status_code == 200 and defaults.json()["churned_days"] == core.Thresholds().churned_days
    bad = api.put("/v1/lifecycle/settings", json=SETTINGS | {"dormant_days": 60})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["field"] == "dormant_days"
    assert api.put("/v1/lifecycle/settings", json=SETTINGS | {"repeat_orders": 1}).json()["field"] == "repeat_orders"
    missing = {k: v for k, v in SETTINGS.items() if k != "at_risk_days"}
    assert api.put("/v1/lifecycle/settings", json=missing).json()["field"] == "at_risk_days"
    assert api.put("/v1/lifecycle/settings", json=SETTINGS | {"extra": 1}).status_code == 422
    assert api.get("/v1/lifecycle/settings").json() == defaults.json()  # nothing stored by refused requests
    assert api.put("/v1/lifecycle/settings", json=SETTINGS).json() == SETTINGS
    assert api.get("/v1/lifecycle/settings").json() == SETTINGS
    audit = api.get("/v1/audit-log").json()
    entries = audit["items"] if isinstance(audit, dict) else audit
    assert any(e["action"] == "lifecycle.settings_changed" for e in entries)
    analyst = api.post("/v1/members", json={"name": "a", "role": "analyst"}).json()["api_key"]["secret"]
    headers = {"Authorization": f"Bearer {analyst}"}
    assert client.put("/v1/lifecycle/settings", json=SETTINGS, headers=headers).status_code == 403
    assert client.post("/v1/lifecycle/compute", headers=headers).status_code == 403
    assert client.get("/v1/lifecycle/overview", headers=headers).status_code == 200


def test_compute_and_overview_through_the_api(shop, api, other_tenant, client):
    shop.order("a", datetime.now(UTC) - timedelta(days=2), 20_000)
    shop.order("b", datetime.now(UTC) - timedelta(days=9), 60_000)
    shop.order("b", datetime.now(UTC) - timedelta(days=1), 60_000)
    shop.customer("p1")
    shop.customer("p2")
    computed = api.post("/v1/lifecycle/compute")
    assert computed.status_code == 200, computed.text
    assert computed.json()["customers"] == 4 and computed.json()["baseline"] is True
    overview = api.get("/v1/lifecycle/overview").json()
    stages = {s["stage"]: s["customers"] for s in overview["stages"]}
    assert [s["stage"] for s in overview["stages"]] == list(core.STAGES)
    assert stages == {"prospect": 2, "new": 1, "repeat": 1, "loyal": 0, "at_risk": 0, "dormant": 0, "churned": 0}
    assert overview["customers"] == 4 and overview["unscored"] == 2
    assert sum(c["customers"] for c in overview["rfm_classes"]) == 2
    assert overview["historic_value_fen"] == 140_000
    buckets = {(b["min_fen"], b["max_fen"]): b["historic"] for b in overview["value_buckets"]}
    assert buckets[(0, 1)] == 2 and buckets[(10_000, 50_000)] == 1 and buckets[(100_000, 500_000)] == 1
    # Another workspace sees its own (empty) overview, not this one.
    other = client.get("/v1/lifecycle/overview", headers=other_tenant.headers).json()
    assert other["customers"] == 0 and other["computed_at"] is None


def test_a_refresh_touches_only_its_own_workspace(shop, database, pipeline, other_tenant):
    shop.order("mine", ago(3))
    shop.compute()
    with database.unit_of_work() as session:
        customers_service.resolve_or_create(session, actor=other_tenant.actor, data=CustomerIn(
            name="theirs", identities=[{"kind": "app_user_id", "value": "theirs"}]))
    pipeline.catch_up()
    theirs = tasks.compute(database.factory, pipeline.warehouse, actor=other_tenant.actor, now=NOW)
    assert theirs.customers == 1 and theirs.baseline
    assert shop.scores() == {"mine": ("new", 1, 1, 1, "general_recovery", 10_000, None)}
    rows = pipeline.warehouse.query("SELECT workspace_id, lifecycle_stage FROM customer_scores "
                                    "WHERE workspace_id IN (%(a)s, %(b)s) ORDER BY 1",
                                    {"a": shop.tenant.id, "b": other_tenant.id})
    assert rows == [(shop.tenant.id, "new"), (other_tenant.id, "prospect")]
