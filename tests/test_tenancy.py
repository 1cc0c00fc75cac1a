"""No endpoint lets one workspace read or change another's data."""



from tests.helpers.everything import SAMPLE_BODIES, fill

# Routes that act only on the caller's own workspace by construction (no foreign id can be named).
OWN_ONLY = {("GET", "/v1/referral/programmes"), ("POST", "/v1/referral/programmes"),
            ("GET", "/v1/referral/attributions"),
            ("POST", "/v1/referral/settle"), ("GET", "/v1/referral/distributors"), ("GET", "/v1/commissions/accounts"),
            ("GET", "/v1/commissions/entries"), ("POST", "/v1/commissions/release"), ("GET", "/v1/commissions/batches"),
            ("POST", "/v1/commissions/batches"),
            ("GET", "/v1/workspace"), ("GET", "/v1/me"), ("GET", "/v1/members"), ("GET", "/v1/api-keys"),
            ("GET", "/v1/audit-log"), ("GET", "/v1/channels"), ("GET", "/v1/tag-groups"), ("POST", "/v1/members"),
            ("POST", "/v1/channels"), ("POST", "/v1/tag-groups"), ("POST", "/v1/customers"), ("GET", "/v1/orders"),
            ("GET", "/v1/customers"), ("POST", "/v1/customers/import"), ("POST", "/v1/orders/import"),
            ("GET", "/v1/customers/export.csv"), ("GET", "/v1/customers/list"),
            ("GET", "/v1/sources"), ("POST", "/v1/sources"), ("GET", "/v1/messaging/channels"),
            ("POST", "/v1/messaging/channels"), ("GET", "/v1/messaging/templates"), ("POST", "/v1/messaging/templates"),
            ("GET", "/v1/messages"), ("GET", "/v1/inbox/threads"), ("GET", "/v1/inbox/queues"),
            ("POST", "/v1/inbox/queues"),
            ("GET", "/v1/loyalty/settings"), ("PUT", "/v1/loyalty/settings"), ("GET", "/v1/loyalty/points/liability"),
            ("GET", "/v1/loyalty/rules"), ("POST", "/v1/loyalty/rules"), ("GET", "/v1/loyalty/tiers"),
            ("POST", "/v1/loyalty/tiers"), ("GET", "/v1/loyalty/coupon-templates"),
            ("POST", "/v1/loyalty/coupon-templates"), ("GET", "/v1/loyalty/tasks"), ("POST", "/v1/loyalty/tasks"),
            ("GET", "/v1/loyalty/submissions"), ("GET", "/v1/events/dead-letters"),
            ("GET", "/v1/lifecycle/settings"), ("PUT", "/v1/lifecycle/settings"), ("POST", "/v1/lifecycle/compute"),
            ("GET", "/v1/lifecycle/overview"), ("GET", "/v1/lifecycle/model"),
            ("GET", "/v1/analytics/dashboard"), ("GET", "/v1/analytics/customers"), ("POST", "/v1/analytics/segments"),
            ("POST", "/v1/analytics/funnels"), ("POST", "/v1/analytics/funnels/customers"),
            ("POST", "/v1/analytics/funnels/segments"), ("POST", "/v1/analytics/retention"),
            ("POST", "/v1/analytics/repurchase"), ("GET", "/v1/analytics/acquisition"),
            ("GET", "/v1/analytics/holdout"),
            ("GET", "/v1/analytics/pond-health"), ("POST", "/v1/analytics/reports"), ("GET", "/v1/analytics/reports"),
            ("GET", "/v1/analytics/reports/pinned/headlines"),
            ("GET", "/v1/analytics/cross-sell"), ("POST", "/v1/analytics/cross-sell/segments"),
            ("GET", "/v1/analytics/category-fit"), ("POST", "/v1/analytics/cells/customers"),
            ("POST", "/v1/analytics/cells/segments"),
            ("GET", "/v1/segments"), ("GET", "/v1/broadcasts"), ("GET", "/v1/messaging/pressure"),
            ("PUT", "/v1/messaging/pressure"), ("GET", "/v1/webhooks/event-types"),
            ("GET", "/v1/webhooks/endpoints"), ("POST", "/v1/webhooks/endpoints"), ("GET", "/v1/stores"),
            ("POST", "/v1/stores"), ("GET", "/v1/stores/staff"), ("GET", "/v1/stores/ownership/settings"),
            ("PUT", "/v1/stores/ownership/settings"), ("GET", "/v1/stores/codes"),
            ("GET", "/v1/stores/handovers"), ("GET", "/v1/stores/tasks"), ("GET", "/v1/stores/kpis"),
            ("GET", "/v1/stores/kpis/targets"), ("GET", "/v1/stores/personas"), ("POST", "/v1/stores/personas"),
            ("GET", "/v1/groups"), ("GET", "/v1/groups/codes"), ("GET", "/v1/groups/sends"),
            ("GET", "/v1/groups/moments"), ("GET", "/v1/library/folders"), ("POST", "/v1/library/folders"),
            ("GET", "/v1/library/materials"), ("GET", "/v1/library/report"),
            ("GET", "/v1/groups/health"), ("GET", "/v1/groups/health/owners"), ("GET", "/v1/journeys"),
            ("POST", "/v1/journeys"), ("GET", "/v1/groupbuys"), ("POST", "/v1/groupbuys"),
            ("GET", "/v1/groupbuys/production-plan"), ("GET", "/v1/groupbuys/forecast"),
            ("GET", "/v1/groupbuys/leaders"), ("POST", "/v1/groupbuys/leaders"), ("GET", "/v1/groupbuys/points"),
            ("GET", "/v1/journeys/experiments/sample-size")}
# Tracking endpoints authenticate with a source's write key, which names its workspace (tests/test_ingest.py).
TRACKING = {"/v1/batch", "/v1/identify", "/v1/track", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias"}


def _snapshot(client, tenant, ids):
    h = tenant.headers
    return [client.get(f"/v1/customers/{ids['customer_id']}/archive", headers=h).json(),
            client.get(f"/v1/customers/{ids['customer2_id']}/archive", headers=h).json(),
            client.get("/v1/channels", headers=h).json(), client.get("/v1/tag-groups", headers=h).json(),
            client.get("/v1/api-keys", headers=h).json(), client.get("/v1/members", headers=h).json(),
            client.get(f"/v1/loyalty/customers/{ids['customer_id']}/points", headers=h).json(),
            client.get(f"/v1/loyalty/customers/{ids['customer_id']}/coupons", headers=h).json(),
            client.get("/v1/loyalty/submissions", headers=h).json(), client.get("/v1/stores", headers=h).json(),
            client.get("/v1/stores/staff", headers=h).json()]


def test_every_route_refuses_foreign_ids(app, client, tenant, other_tenant, victim):
    before = _snapshot(client, tenant, victim)
    routes = [(method.upper(), path) for path, item in app.openapi()["paths"].items() if path.startswith("/v1/")
              for method in item]
    assert len(routes) > 25
    checked = 0
    for method, path in routes:
        if (method, path) in OWN_ONLY or path in TRACKING:
            continue
        url = path.format(**victim)
        body = fill(SAMPLE_BODIES.get((method, path)), victim)
        response = client.request(method, url, headers=other_tenant.headers,
                                  json=body if body is not None else None)
        # A foreign id in the path is "not found"; one in the body may be refused as invalid input instead.
        allowed = {404} | ({422} if body is not None else set())
        assert response.status_code in allowed, (method, path, response.status_code, response.text)
        if response.status_code == 422:
            assert response.json()["field"] in {"add[0].id", "loser_id", "customer_id", "group_id",
                                                "rule.tag_ids[0]", "rule.channel_ids[0]"}, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "Victim" not in response.text and "13900139000" not in response.text
        checked += 1
    assert checked >= 15
    assert _snapshot(client, tenant, victim) == before


def test_listing_and_search_never_show_another_workspace(client, tenant, other_tenant, victim):
    h = other_tenant.headers
    assert client.get("/v1/customers", headers=h).json()["items"] == []
    assert client.get("/v1/customers", headers=h, params={"q": "13900139000"}).json()["items"] == []
    assert client.get("/v1/customers", headers=h, params={"identity": "phone:13900139000"}).json()["items"] == []
    assert client.get("/v1/orders", headers=h).json()["items"] == []
    assert client.get("/v1/channels", headers=h).json() == []
    assert client.get("/v1/tag-groups", headers=h).json() == []
    assert client.get("/v1/customers", headers=h, params={"tag": victim["tag_id"]}).json()["items"] == []
    assert client.get("/v1/audit-log", headers=h).json()["items"] == []


def test_same_identity_in_two_workspaces_is_two_customers(client, tenant, other_tenant):
    body = {"identities": [{"kind": "phone", "value": "13700137000"}]}
    a = client.post("/v1/customers", headers=tenant.headers, json=body).json()
    b = client.post("/v1/customers", headers=other_tenant.headers, json=body).json()
    assert a["outcome"] == b["outcome"] == "created"
    assert a["customer"]["id"] != b["customer"]["id"]


def test_order_for_a_foreign_channel_code_is_not_found(client, tenant, other_tenant, victim):
    customer = client.post("/v1/customers", headers=other_tenant.headers, json={
        "identities": [{"kind": "phone", "value": "13600136000"}]}).json()["customer"]["id"]
    response = client.post("/v1/orders", headers=other_tenant.headers, json={
        "external_id": "B1", "channel": "mp", "status": "paid", "placed_at": "2026-01-01T00:00:00Z",
        "customer_id": customer, "lines": [{"sku": "S", "quantity": 1, "unit_price_fen": 1}]})
    assert response.status_code == 404
    assert response.json()["field"] == "channel"
