"""Saved reports: settings under a name, checked as the report checks them, pinned to the overview with their
headline figure computed now."""

from tests.helpers.analytics import FIRST, LAST, seed_funnel

# The funnel tests/test_analytics_funnels.py works out: of five who viewed tea, P and Q paid.
FUNNEL = {"steps": [{"event": "Product Viewed", "properties": {"category": "tea"}}, {"event": "Product Added"},
                    {"event": "Order Paid"}], "window_days": 2, "period": "custom", "start": FIRST, "end": LAST}


def test_a_pinned_funnel_shows_its_conversion_and_unpinning_removes_it(database, pipeline, client, api, tenant):
    seed_funnel(database, pipeline, client, api, tenant)
    saved = api.post("/v1/analytics/reports", json={"name": "茶叶转化", "kind": "funnel", "params": FUNNEL,
                                                     "pinned": True})
    assert saved.status_code == 201, saved.text
    other = api.post("/v1/analytics/reports", json={"name": "健康度", "kind": "pond_health",
                                                    "params": {"weeks": 2}}).json()
    # P and Q of the five who viewed tea paid (tests/test_analytics_funnels.py works it out).
    [card] = api.get("/v1/analytics/reports/pinned/headlines").json()
    assert card["report"]["name"] == "茶叶转化" and card["label"] == "conversion" and card["figure"] == 0.4
    assert api.patch(f"/v1/analytics/reports/{other['id']}", json={"pinned": True}).status_code == 200
    cards = api.get("/v1/analytics/reports/pinned/headlines").json()
    assert [(c["report"]["name"], c["unit"]) for c in cards] == [("茶叶转化", "rate"), ("健康度", "count")]
    assert cards[1]["figure"] is None  # five customers: too few to suggest a cap
    assert api.patch(f"/v1/analytics/reports/{saved.json()['id']}", json={"pinned": False}).status_code == 200
    assert [r["name"] for r in api.get("/v1/analytics/reports", params={"pinned": True}).json()] == ["健康度"]
    assert [r["name"] for r in api.get("/v1/analytics/reports").json()] == ["茶叶转化", "健康度"]
    assert api.delete(f"/v1/analytics/reports/{other['id']}").status_code == 204
    assert api.patch(f"/v1/analytics/reports/{other['id']}", json={"pinned": True}).status_code == 404


def test_saved_settings_are_checked_as_the_report_checks_them(api):
    cases = [({"name": "x", "kind": "funnel", "params": {**FUNNEL, "window_days": 0}}, 422, "params.window_days"),
             ({"name": "x", "kind": "retention", "params": {"unit": "year"}}, 422, "params.unit"),
             ({"name": "x", "kind": "mood", "params": {}}, 422, "kind"),
             ({"name": "", "kind": "pond_health"}, 422, "name")]
    for body, status, field in cases:
        answer = api.post("/v1/analytics/reports", json=body)
        assert answer.status_code == status and answer.json()["errors"][0]["field"] == field, answer.text
    assert api.post("/v1/analytics/reports", json={"name": "周报", "kind": "repurchase"}).status_code == 201
    again = api.post("/v1/analytics/reports", json={"name": "周报", "kind": "acquisition"})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "name"
    for n in range(12):
        assert api.post("/v1/analytics/reports", json={"name": f"p{n}", "kind": "repurchase",
                                                       "pinned": True}).status_code == 201
    full = api.post("/v1/analytics/reports", json={"name": "p12", "kind": "repurchase", "pinned": True})
    assert full.status_code == 409 and full.json()["errors"][0]["field"] == "pinned"
