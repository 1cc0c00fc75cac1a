"""Funnels on a brand worked out by hand (tests/helpers/analytics.py seed_funnel), on the run's warehouse."""

from tests.helpers.analytics import FIRST, LAST, seed_funnel

STEPS = [{"event": "Product Viewed", "properties": {"category": "tea"}}, {"event": "Product Added"},
         {"event": "Order Paid"}]
FUNNEL = {"steps": STEPS, "window_days": 2, "period": "custom", "start": FIRST, "end": LAST}


def test_a_loose_funnel_counts_converts_and_times_each_step(database, pipeline, client, api, tenant):
    brand = seed_funnel(database, pipeline, client, api, tenant)
    answer = api.post("/v1/analytics/funnels", json=FUNNEL)
    assert answer.status_code == 200, answer.text
    steps = answer.json()["steps"]
    # Entered (a tea view 8–14 Nov): P, Q, R, S (its coffee view does not count), V. Not T (no view), not U (its
    # view was on the 7th). Cart after the view within 2 days: P, Q (a search between is fine loosely), R; V's cart
    # came before its view, and again after the window. Paid: P, Q; R paid on the 14th, 3 days after entering.
    assert [s["customers"] for s in steps] == [5, 3, 2]
    assert [s["dropped"] for s in steps] == [0, 2, 1]
    assert steps[1]["conversion_from_previous"] == 0.6 and steps[2]["conversion_from_first"] == 0.4
    assert abs(steps[2]["conversion_from_previous"] - 2 / 3) < 1e-9
    # View to cart: P 300 s, Q 600 s, R 3600 s; cart to paid: P 1500 s, Q 3000 s.
    assert steps[1]["median_seconds_from_previous"] == 600.0 and steps[2]["median_seconds_from_previous"] == 2250.0
    assert steps[0]["median_seconds_from_previous"] is None

    def who(step, outcome):
        body = api.post("/v1/analytics/funnels/customers", json={**FUNNEL, "step": step, "outcome": outcome}).json()
        assert body["total"] == len(body["items"])
        return brand.names(i["customer_id"] for i in body["items"])

    assert who(2, "dropped") == {"S", "V"} and who(3, "dropped") == {"R"} and who(3, "reached") == {"P", "Q"}
    made = api.post("/v1/analytics/funnels/segments", json={**FUNNEL, "step": 2, "name": "看了没加购"})
    assert made.status_code == 201 and made.json()["customers"] == 2
    members = api.get(f"/v1/segments/{made.json()['segment_id']}/members").json()["items"]
    assert brand.names(m["customer_id"] for m in members) == {"S", "V"}


def test_strict_order_and_breakdowns(database, pipeline, client, api, tenant):
    brand = seed_funnel(database, pipeline, client, api, tenant)
    strict = api.post("/v1/analytics/funnels", json={**FUNNEL, "order": "strict"}).json()
    # Q searched between viewing and adding to the cart: strictly, Q stops at the view.
    assert [s["customers"] for s in strict["steps"]] == [5, 2, 1]
    by_channel = api.post("/v1/analytics/funnels", json={**FUNNEL, "breakdown": "channel"}).json()["breakdown"]
    assert {(b["name"], tuple(b["customers"])) for b in by_channel} == {
        ("小程序商城", (2, 2, 2)), ("天猫旗舰店", (2, 1, 0)), (None, (1, 0, 0))}
    assert {b["value"] for b in by_channel} == {str(brand.channels["mp"]), str(brand.channels["tmall"]), None}
    by_utm = api.post("/v1/analytics/funnels", json={**FUNNEL, "breakdown": "property:utm"}).json()["breakdown"]
    assert {(b["value"], tuple(b["customers"])) for b in by_utm} == {("a", (2, 2, 2)), ("b", (1, 1, 0)),
                                                                     (None, (2, 0, 0))}
    # Values compare as the text JSON gives back on both warehouses (so "2" matches 2): P added 2, Q 1.
    for properties, counts in (({"qty": 2}, [5, 1, 1]), ({"qty": 1, "gift": False}, [5, 1, 1]),
                               ({"gift": True}, [5, 1, 1]), ({"qty": "2"}, [5, 1, 1]), ({"qty": 3}, [5, 0, 0])):
        steps = [STEPS[0], {"event": "Product Added", "properties": properties}, STEPS[2]]
        answer = api.post("/v1/analytics/funnels", json={**FUNNEL, "steps": steps}).json()
        assert [s["customers"] for s in answer["steps"]] == counts, properties


def test_bad_funnels_answer_problem_json_naming_the_field(api):
    cases = [({**FUNNEL, "steps": STEPS[:1]}, "steps"), ({**FUNNEL, "window_days": 0}, "window_days"),
             ({**FUNNEL, "breakdown": "mood"}, "breakdown"), ({**FUNNEL, "period": "someday"}, "period"),
             ({**FUNNEL, "order": "any"}, "order")]
    for body, field in cases:
        answer = api.post("/v1/analytics/funnels", json=body)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["errors"][0]["field"] == field, answer.json()
    for extra, field in (({"step": 4}, "step"), ({"step": 1, "outcome": "dropped"}, "step")):
        answer = api.post("/v1/analytics/funnels/customers", json={**FUNNEL, **extra})
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field, answer.text
    # PostgreSQL text cannot hold U+0000: refused at the door, naming the field, on every backend.
    nul_steps = [{"event": "Page\x00Viewed"}, *STEPS[1:]]
    for path, body, field in (
            ("/v1/analytics/funnels", {**FUNNEL, "steps": nul_steps}, "steps[0].event"),
            ("/v1/analytics/funnels/segments", {**FUNNEL, "steps": nul_steps, "step": 2, "name": "n"},
             "steps[0].event"),
            ("/v1/analytics/funnels/segments", {**FUNNEL, "step": 2, "name": "a\x00b"}, "name")):
        answer = api.post(path, json=body)
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field, answer.text
