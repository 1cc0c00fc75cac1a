"""Experiment steps on the stores: hashed assignment at the step, exposures logged once (and into the warehouse),
metrics recorded from events within their window, and results readable only at the fixed horizon."""

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.helpers.customers import post_customer
from tests.helpers.events import basic, new_source
from tests.helpers.journeys import enrol, live_journey
from yutang.journeys import core, service
from yutang.journeys.graph import Variant
from yutang.journeys.models import JourneyExposure
from yutang.workspaces.access import system_actor

EXPERIMENT = {"kind": "experiment", "name": "欢迎语测试", "variants": [{"key": "control", "next": None},
                                                                  {"key": "warm", "next": "mark"}],
              "guardrails": [{"event": "Unsubscribed", "within_days": 7}], "min_per_variant": 10, "horizon_days": 7}


def _track(client, key, user, event, message_id):
    body = {"type": "track", "userId": user, "event": event, "messageId": message_id, "properties": {}}
    assert client.post("/v1/track", json=body, headers=basic(key)).status_code == 200


def _tag(api) -> int:
    group = api.post("/v1/tag-groups", json={"name": "实验" + secrets.token_hex(3), "tags": ["暖心"]}).json()
    return group["tags"][0]["id"]


def test_an_experiment_assigns_logs_exposures_and_reads_results_at_the_horizon(api, client, pipeline, tenant,
                                                                                database):
    key = new_source(api)
    tag_id = _tag(api)
    journey = live_journey(api, {"entry": {"kind": "api"}, "goal": {"event": "Order Placed", "within_days": 7},
                                 "start": "split", "steps": {"split": EXPERIMENT,
                                                             "mark": {"kind": "tag", "add": [tag_id]}}},
                           name="实验旅程")
    users = {post_customer(api, f"实验{i}", app_user_id=f"ex-{tenant.id}-{i}"): f"ex-{tenant.id}-{i}"
             for i in range(40)}
    ids = {customer: enrol(api, journey["id"], customer)["enrolment"]["id"] for customer in users}
    client.app.state.journeys.run_until_idle()
    salt = f"journey:{journey['id']}:split"
    variants = [Variant(key="control"), Variant(key="warm")]
    expected = {customer: core.assign(salt, customer, variants).key for customer in users}
    with database.read_only() as session:
        logged = dict(session.execute(select(JourneyExposure.customer_id, JourneyExposure.variant)
                                      .where(JourneyExposure.journey_id == journey["id"])).all())
    assert logged == expected
    for customer, variant in expected.items():  # the variant's path was taken
        tags = [t["tag_id"] for t in api.get(f"/v1/customers/{customer}/archive").json()["tags"]]
        assert tags == ([tag_id] if variant == "warm" else [])
        assert api.get(f"/v1/journeys/enrolments/{ids[customer]}").json()["status"] == "done"
    # Buyers and unsubscribers: the goal counts through the enrolment, the guardrail through the exposure.
    buyers = [c for c in users if expected[c] == "warm"][:8] + [c for c in users if expected[c] == "control"][:2]
    leavers = [c for c in users if expected[c] == "control"][:1]
    for customer in buyers:
        _track(client, key, users[customer], "Order Placed", f"op-{customer}")
    for customer in leavers:
        _track(client, key, users[customer], "Unsubscribed", f"un-{customer}")
    pipeline.catch_up()
    results = api.get(f"/v1/journeys/{journey['id']}/experiments/split")
    assert results.status_code == 200, results.text
    found = results.json()
    n_control = sum(v == "control" for v in expected.values())
    assert [(v["variant"], v["exposures"]) for v in found["variants"]] == [("control", n_control),
                                                                          ("warm", 40 - n_control)]
    by = {(m["metric"], m["variant"]): m for m in found["metrics"]}
    assert by[("goal", "control")]["hits"] == 2 and by[("goal", "warm")]["hits"] == 8
    assert by[("goal", "warm")]["primary"] and by[("goal", "warm")]["p"] is not None
    assert by[("goal", "warm")]["adjusted_p"] is not None and by[("goal", "control")]["p"] is None
    assert by[("Unsubscribed", "control")]["hits"] == 1 and not by[("Unsubscribed", "warm")]["primary"]
    # A fixed horizon: not readable before 7 days of horizon plus the 7-day goal window.
    assert found["readable"] is False and "horizon" in found["waiting_for"]
    first = datetime.fromisoformat(found["first_exposure_at"])
    assert datetime.fromisoformat(found["readable_at"]) == first + timedelta(days=14)
    assert found["srm_alarm"] is False
    # An exposure is logged once per enrolment and step, and reaches the warehouse as Experiment Exposure.
    pipeline.catch_up()
    events = pipeline.warehouse.query("SELECT COUNT(*) FROM events WHERE workspace_id = %(w)s "
                                      "AND event = 'Experiment Exposure'", {"w": tenant.id})
    assert events[0][0] == 40
    with database.read_only() as session:
        assert session.scalar(select(func.count()).select_from(JourneyExposure)) >= 40


def test_results_are_readable_after_the_horizon_and_unknown_steps_are_404(api, client, database, tenant):
    journey = live_journey(api, {"entry": {"kind": "api"}, "goal": {"event": "Order Placed", "within_days": 1},
                                 "start": "split", "steps": {"split": {
                                     **EXPERIMENT, "horizon_days": 1, "guardrails": [],
                                     "variants": [{"key": "control"}, {"key": "warm"}]}}}, name="短实验")
    for i in range(30):
        enrol(api, journey["id"], post_customer(api, f"短{i}"))
    client.app.state.journeys.run_until_idle()
    with database.read_only() as session:
        counts = dict(session.execute(select(JourneyExposure.variant, func.count())
                                      .where(JourneyExposure.journey_id == journey["id"])
                                      .group_by(JourneyExposure.variant)).all())
    found = api.get(f"/v1/journeys/{journey['id']}/experiments/split").json()
    readable_at = datetime.fromisoformat(found["readable_at"])
    assert readable_at > datetime.now(UTC)
    waiting = ["horizon"] + (["sample"] if min(counts.values()) < 10 else [])
    assert found["waiting_for"] == waiting
    with database.read_only() as session:  # read at the horizon: the same figures, now readable
        later = service.experiment_results(session, actor=system_actor(tenant.id), journey_id=journey["id"],
                                           key="split", now=readable_at + timedelta(seconds=1))
    assert later.waiting_for == waiting[1:] and later.readable is (not waiting[1:])
    assert [v.exposures for v in later.variants] == [counts.get("control", 0), counts.get("warm", 0)]
    missing = api.get(f"/v1/journeys/{journey['id']}/experiments/nope")
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "step"


def test_sample_size_calculator(api):
    found = api.get("/v1/journeys/experiments/sample-size", params={"baseline": 0.1, "lift": 0.02, "variants": 3})
    assert found.status_code == 200, found.text
    assert found.json()["per_variant"] > 3000 and found.json()["total"] == 3 * found.json()["per_variant"]
    bad = api.get("/v1/journeys/experiments/sample-size", params={"baseline": 0.9, "lift": 0.2})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "lift"
    none = api.get("/v1/journeys/experiments/sample-size", params={"baseline": 0.5, "lift": 0})
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "lift"
