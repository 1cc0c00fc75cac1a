"""No endpoint lets one workspace read or change another's data."""

import re

import pytest

from tests.helpers.images import screenshot

SAMPLE_BODIES = {
    ("POST", "/v1/members"): {"name": "x", "role": "operator"},
    ("POST", "/v1/channels"): {"code": "intruder", "name": "x", "kind": "app"},
    ("PATCH", "/v1/channels/{channel_id}"): {"name": "hijacked"},
    ("POST", "/v1/channels/{channel_id}/costs"): {"period_start": "2026-01-01", "period_end": "2026-01-31",
                                                  "amount_fen": 1},
    ("POST", "/v1/customers"): {"identities": [{"kind": "phone", "value": "13800138000"}]},
    ("PATCH", "/v1/customers/{customer_id}"): {"name": "hijacked"},
    ("POST", "/v1/customers/{customer_id}/identities"): [{"kind": "email", "value": "x@example.com"}],
    ("POST", "/v1/customers/{customer_id}/merge"): {"loser_id": "{customer2_id}"},
    ("POST", "/v1/customers/{customer_id}/consents"): {"channel": "sms", "status": "withdrawn", "method": "x"},
    ("POST", "/v1/customers/{customer_id}/notes"): {"body": "hijacked"},
    ("POST", "/v1/customers/{customer_id}/channels"): {"channel": "mp", "joined": False},
    ("POST", "/v1/customers/{customer_id}/tags"): {"add": [{"id": "{tag_id}"}]},
    ("POST", "/v1/tag-groups"): {"name": "intruder"},
    ("POST", "/v1/tags"): {"group_id": "{group_id}", "name": "intruder"},
    ("POST", "/v1/tags/bulk"): {"customer_ids": ["{customer_id}"], "add": [{"id": "{tag_id}"}]},
    ("POST", "/v1/orders"): {"external_id": "X1", "channel": "mp", "status": "paid",
                             "placed_at": "2026-01-01T00:00:00Z", "customer_id": "{customer_id}",
                             "lines": [{"sku": "S", "quantity": 1, "unit_price_fen": 1}]},
    ("PATCH", "/v1/messaging/channels/{config_id}"): {"enabled": False},
    ("POST", "/v1/messaging/channels/{config_id}/wecom/contacts-sync"): {"staff_userids": ["zhangsan"]},
    ("PUT", "/v1/messaging/templates/{template_id}"): {"name": "hijacked", "channel_kind": "null", "body": "x"},
    ("POST", "/v1/messaging/templates/preview"): {"template_id": "{template_id}"},
    ("POST", "/v1/messages"): {"channel_id": "{config_id}", "customer_id": "{customer_id}", "body": "x"},
    ("POST", "/v1/messages/{message_id}/delivery"): {"status": "delivered"},
    ("POST", "/v1/inbox/messages"): {"channel_id": "{config_id}", "identity_kind": "phone",
                                     "identity_value": "13900139000", "body": "x"},
    ("POST", "/v1/inbox/threads/{thread_id}/replies"): {"body": "hijacked"},
    ("POST", "/v1/inbox/threads/{thread_id}/assign"): {"member_id": "{member_id}"},
    ("POST", "/v1/loyalty/points/earn"): {"customer_id": "{customer_id}", "points": 5, "idempotency_key": "x"},
    ("POST", "/v1/loyalty/points/redeem"): {"customer_id": "{customer_id}", "points": 1, "idempotency_key": "y"},
    ("POST", "/v1/loyalty/points/reverse"): {"entry_id": "{entry_id}", "idempotency_key": "z"},
    ("POST", "/v1/loyalty/points/adjust"): {"customer_id": "{customer_id}", "points": -1, "idempotency_key": "w",
                                            "reason": "x"},
    ("PUT", "/v1/loyalty/rules/{rule_id}"): {"name": "x", "kind": "event", "event_name": "X", "points": 1},
    ("PUT", "/v1/loyalty/tiers/{tier_id}"): {"name": "x", "rank": 9, "threshold": 1},
    ("PUT", "/v1/loyalty/coupon-templates/{coupon_template_id}"): {"name": "x", "kind": "fixed", "value_fen": 1,
                                                            "valid_days": 1},
    ("POST", "/v1/loyalty/coupon-templates/{coupon_template_id}/issue"): {"customer_id": "{customer_id}",
                                                                   "idempotency_key": "i"},
    ("POST", "/v1/loyalty/coupon-templates/{coupon_template_id}/issue-bulk"): {"customer_ids": ["{customer_id}"],
                                                                        "idempotency_key": "b"},
    ("POST", "/v1/loyalty/coupons/{coupon_id}/redeem"): {"order_ref": "o", "order_amount_fen": 100000},
    ("POST", "/v1/loyalty/submissions/{submission_id}/review"): {"approve": True},
    ("POST", "/v1/loyalty/tasks/{task_id}/submissions"): {"multipart": "see tests/test_loyalty_tasks.py"},
    ("POST", "/v1/segments"): {"name": "x", "rule": {"type": "tag", "tag_ids": ["{tag_id}"]}},
    ("POST", "/v1/segments/preview"): {"rule": {"type": "channel", "channel_ids": ["{channel_id}"]}},
    ("PATCH", "/v1/segments/{segment_id}"): {"name": "hijacked"},
    ("POST", "/v1/broadcasts"): {"name": "x", "segment_ids": ["{segment_id}"], "channel_id": "{config_id}",
                                 "template_id": "{template_id}", "send_at": "2099-01-01T00:00:00Z"},
    ("POST", "/v1/broadcasts/preview"): {"name": "x", "segment_ids": ["{segment_id}"], "channel_id": "{config_id}",
                                         "template_id": "{template_id}"},
    ("PUT", "/v1/messaging/pressure"): {"caps": []},
    ("POST", "/v1/segments/{segment_id}/members"): {"customer_ids": ["{customer_id}"]},
}
# Routes that act only on the caller's own workspace by construction (no foreign id can be named).
OWN_ONLY = {("GET", "/v1/workspace"), ("GET", "/v1/me"), ("GET", "/v1/members"), ("GET", "/v1/api-keys"),
            ("GET", "/v1/audit-log"), ("GET", "/v1/channels"), ("GET", "/v1/tag-groups"), ("POST", "/v1/members"),
            ("POST", "/v1/channels"), ("POST", "/v1/tag-groups"), ("POST", "/v1/customers"), ("GET", "/v1/orders"),
            ("GET", "/v1/customers"), ("POST", "/v1/customers/import"), ("POST", "/v1/orders/import"),
            ("GET", "/v1/sources"), ("POST", "/v1/sources"), ("GET", "/v1/messaging/channels"),
            ("POST", "/v1/messaging/channels"), ("GET", "/v1/messaging/templates"), ("POST", "/v1/messaging/templates"),
            ("GET", "/v1/messages"), ("GET", "/v1/inbox/threads"), ("GET", "/v1/inbox/queues"),
            ("POST", "/v1/inbox/queues"),
            ("GET", "/v1/loyalty/settings"), ("PUT", "/v1/loyalty/settings"), ("GET", "/v1/loyalty/points/liability"),
            ("GET", "/v1/loyalty/rules"), ("POST", "/v1/loyalty/rules"), ("GET", "/v1/loyalty/tiers"),
            ("POST", "/v1/loyalty/tiers"), ("GET", "/v1/loyalty/coupon-templates"),
            ("POST", "/v1/loyalty/coupon-templates"), ("GET", "/v1/loyalty/tasks"), ("POST", "/v1/loyalty/tasks"),
            ("GET", "/v1/loyalty/submissions"),
            ("GET", "/v1/lifecycle/settings"), ("PUT", "/v1/lifecycle/settings"), ("POST", "/v1/lifecycle/compute"),
            ("GET", "/v1/lifecycle/overview"), ("GET", "/v1/lifecycle/model"),
            ("GET", "/v1/segments"), ("GET", "/v1/broadcasts"), ("GET", "/v1/messaging/pressure"),
            ("PUT", "/v1/messaging/pressure")}
# Tracking endpoints authenticate with a source's write key, which names its workspace (tests/test_ingest.py).
TRACKING = {"/v1/batch", "/v1/identify", "/v1/track", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias"}


def _fill(value, ids):
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value):
        return ids[value[1:-1]]
    return value


@pytest.fixture
def victim(client, tenant):
    """Workspace A with one of everything."""
    h = tenant.headers
    ids = {}
    ids["channel_id"] = client.post("/v1/channels", headers=h, json={"code": "mp", "name": "MP",
                                                                     "kind": "mini_program"}).json()["id"]
    ids["customer_id"] = client.post("/v1/customers", headers=h, json={
        "name": "Victim", "identities": [{"kind": "phone", "value": "13900139000"}]}).json()["customer"]["id"]
    ids["customer2_id"] = client.post("/v1/customers", headers=h, json={
        "name": "Victim2", "identities": [{"kind": "phone", "value": "13900139001"}]}).json()["customer"]["id"]
    group = client.post("/v1/tag-groups", headers=h, json={"name": "G", "tags": ["T"]}).json()
    ids["group_id"], ids["tag_id"] = group["id"], group["tags"][0]["id"]
    order = client.post("/v1/orders", headers=h, json={
        "external_id": "A1", "channel": "mp", "status": "paid", "placed_at": "2026-01-01T00:00:00Z",
        "customer_id": ids["customer_id"], "lines": [{"sku": "S", "quantity": 1, "unit_price_fen": 100}]})
    ids["order_id"] = order.json()["id"]
    ids["member_id"] = client.get("/v1/me", headers=h).json()["member_id"]
    ids["key_id"] = client.get("/v1/api-keys", headers=h).json()[0]["id"]
    ids["source_id"] = client.post("/v1/sources", headers=h, json={"name": "app"}).json()["id"]
    ids["config_id"] = client.post("/v1/messaging/channels", headers=h, json={"kind": "null", "name": "N"}).json()["id"]
    ids["template_id"] = client.post("/v1/messaging/templates", headers=h, json={
        "name": "T", "channel_kind": "null", "body": "Hi {{ name }}"}).json()["id"]
    ids["message_id"] = client.post("/v1/messages", headers=h, json={
        "channel_id": ids["config_id"], "customer_id": ids["customer_id"],
        "template_id": ids["template_id"]}).json()["id"]
    ids["thread_id"] = client.post("/v1/inbox/messages", headers=h, json={
        "channel_id": ids["config_id"], "identity_kind": "phone", "identity_value": "13900139000",
        "body": "hello"}).json()["id"]
    ids["queue_id"] = client.post("/v1/inbox/queues", headers=h, json={"name": "Q"}).json()["id"]
    _loyalty(client, h, ids)
    ids["segment_id"] = client.post("/v1/segments", headers=h, json={
        "name": "Victims", "rule": {"type": "tag", "tag_ids": [ids["tag_id"]]}}).json()["id"]
    ids["broadcast_id"] = client.post("/v1/broadcasts", headers=h, json={
        "name": "B", "segment_ids": [ids["segment_id"]], "channel_id": ids["config_id"],
        "template_id": ids["template_id"], "send_at": "2099-01-01T00:00:00Z"}).json()["id"]
    return ids


def _loyalty(client, h, ids):
    ids["entry_id"] = client.post("/v1/loyalty/points/earn", headers=h, json={
        "customer_id": ids["customer_id"], "points": 100, "idempotency_key": "seed"}).json()["id"]
    ids["rule_id"] = client.post("/v1/loyalty/rules", headers=h, json={
        "name": "r", "kind": "order", "points_per_yuan": 1}).json()["id"]
    ids["tier_id"] = client.post("/v1/loyalty/tiers", headers=h, json={
        "name": "t", "rank": 1, "threshold": 1000}).json()["id"]
    ids["coupon_template_id"] = client.post("/v1/loyalty/coupon-templates", headers=h, json={
        "name": "c", "kind": "fixed", "value_fen": 100, "valid_days": 3, "per_customer_limit": 5}).json()["id"]
    ids["coupon_id"] = client.post(f"/v1/loyalty/coupon-templates/{ids['coupon_template_id']}/issue", headers=h, json={
        "customer_id": ids["customer_id"], "idempotency_key": "seed"}).json()["id"]
    ids["task_id"] = client.post("/v1/loyalty/tasks", headers=h, json={"name": "k", "points": 5}).json()["id"]
    ids["submission_id"] = client.post(
        f"/v1/loyalty/tasks/{ids['task_id']}/submissions", headers=h, data={"customer_id": str(ids["customer_id"])},
        files={"image": ("p.png", screenshot(7), "image/png")}).json()["id"]


def _snapshot(client, tenant, ids):
    h = tenant.headers
    return [client.get(f"/v1/customers/{ids['customer_id']}/archive", headers=h).json(),
            client.get(f"/v1/customers/{ids['customer2_id']}/archive", headers=h).json(),
            client.get("/v1/channels", headers=h).json(), client.get("/v1/tag-groups", headers=h).json(),
            client.get("/v1/api-keys", headers=h).json(), client.get("/v1/members", headers=h).json(),
            client.get(f"/v1/loyalty/customers/{ids['customer_id']}/points", headers=h).json(),
            client.get(f"/v1/loyalty/customers/{ids['customer_id']}/coupons", headers=h).json(),
            client.get("/v1/loyalty/submissions", headers=h).json()]


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
        body = _fill(SAMPLE_BODIES.get((method, path)), victim)
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
