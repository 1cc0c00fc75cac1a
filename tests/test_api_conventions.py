"""API conventions: OpenAPI, problem+json errors naming the field, cursor pagination."""

import pytest


def test_openapi_is_served_and_versioned(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Yutang"
    paths = spec["paths"]
    assert all(p.startswith("/v1/") for p in paths)
    assert "/v1/customers/{customer_id}/archive" in paths


def test_validation_errors_are_problem_json_naming_the_field(api):
    response = api.post("/v1/customers", json={"name": "x" * 300, "identities": [{"kind": "fax", "value": "1"}]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422 and body["title"] == "Invalid input"
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "identities[0].kind"} <= fields


def test_unknown_things_are_404_problems(api):
    response = api.get("/v1/customers/999999999")
    assert response.status_code == 404
    assert response.json() | {"instance": None} == {
        "type": "/problems/not-found", "title": "Not found", "status": 404, "detail": "no such customer",
        "errors": [{"field": "customer_id", "detail": "no such customer"}], "field": "customer_id", "instance": None}
    assert api.get("/v1/nowhere").headers["content-type"] == "application/problem+json"


def test_cursor_pagination_walks_every_customer_once(api):
    ids = {api.post("/v1/customers", json={"identities": [{"kind": "app_user_id", "value": f"p{i}"}]})
           .json()["customer"]["id"] for i in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = api.get("/v1/customers", params=params).json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 7 and pages == 3
    assert seen == sorted(seen, reverse=True)
    bad = api.get("/v1/customers", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
    too_big = api.get("/v1/customers", params={"limit": 10_000})
    assert too_big.status_code == 422 and too_big.json()["field"] == "limit"


def test_search_by_name_and_channel(api):
    api.post("/v1/channels", json={"code": "store", "name": "Store", "kind": "store"})
    a = api.post("/v1/customers", json={"name": "陈晓明", "first_channel": "store",
                                        "identities": [{"kind": "app_user_id", "value": "n1"}]})
    a = a.json()["customer"]["id"]
    api.post("/v1/customers", json={"name": "周杰", "identities": [{"kind": "app_user_id", "value": "n2"}]})
    assert [c["id"] for c in api.get("/v1/customers", params={"name": "晓明"}).json()["items"]] == [a]
    channel_id = api.get("/v1/channels").json()[0]["id"]
    assert [c["id"] for c in api.get("/v1/customers", params={"channel_id": channel_id}).json()["items"]] == [a]
    assert [c["id"] for c in api.get("/v1/customers", params={"identity": "app_user_id:n1"}).json()["items"]] == [a]
    bad = api.get("/v1/customers", params={"identity": "fax:1"})
    assert bad.status_code == 422 and bad.json()["field"] == "identity"


def test_out_of_range_ids_are_invalid_not_server_errors(api):
    huge = 2**70
    response = api.get(f"/v1/customers/{huge}")
    assert response.status_code == 422 and response.json()["field"] == "customer_id"
    body = api.post("/v1/tags/bulk", json={"customer_ids": [huge], "add": [{"id": 1}]})
    assert body.status_code in (404, 422)
    assert body.headers["content-type"] == "application/problem+json"


def _unbounded_integers(spec: dict) -> list[str]:
    """Every integer a request may carry (parameters and bodies) whose bounds are missing or past 64 bits."""
    components = spec["components"]["schemas"]
    found: list[str] = []

    def walk(schema: dict, where: str, seen: frozenset) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(components[name], where, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                walk(sub, where, seen)
        if schema.get("type") == "integer":
            low = schema.get("minimum", schema.get("exclusiveMinimum"))
            high = schema.get("maximum", schema.get("exclusiveMaximum"))
            if low is None or high is None or low < -(2**63) or high > 2**63 - 1:
                found.append(where)
        for name, sub in schema.get("properties", {}).items():
            walk(sub, f"{where}.{name}", seen)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], f"{where}[]", seen)
        if isinstance(schema.get("additionalProperties"), dict):
            walk(schema["additionalProperties"], f"{where}{{}}", seen)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                walk(parameter["schema"], f"{method.upper()} {path} {parameter['name']}", frozenset())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], f"{method.upper()} {path} body", frozenset())
    return found


def test_every_integer_a_request_carries_is_bounded_to_64_bits(client):
    assert _unbounded_integers(client.get("/openapi.json").json()) == []


@pytest.mark.parametrize(("method", "url", "body", "field"), [
    ("GET", "/v1/customers?tag=9223372036854775808", None, "tag[0]"),
    ("GET", "/v1/orders?channel_id=9223372036854775808", None, "channel_id"),
    ("GET", "/v1/messages?channel_id=9223372036854775808", None, "channel_id"),
    ("POST", "/v1/tags", {"group_id": 2**63, "name": "x"}, "group_id"),
    ("POST", "/v1/tag-groups", {"name": "x", "order": 2**63}, "order"),
    ("POST", "/v1/loyalty/points/earn", {"customer_id": 2**63, "points": 1, "idempotency_key": "k"}, "customer_id"),
    ("POST", "/v1/loyalty/points/adjust", {"customer_id": 2**64, "points": 1, "idempotency_key": "k",
                                           "reason": "r"}, "customer_id"),
    ("POST", "/v1/loyalty/points/reverse", {"entry_id": 2**63, "idempotency_key": "k"}, "entry_id"),
    ("POST", "/v1/loyalty/coupon-templates", {"name": "c", "kind": "fixed", "value_fen": 100, "valid_days": 3,
                                              "total_stock": 2**63}, "total_stock"),
    ("POST", "/v1/messages", {"channel_id": 2**63, "body": "x"}, "channel_id"),
    ("POST", "/v1/broadcasts", {"name": "b", "segment_ids": [2**63], "channel_id": 1, "template_id": 1},
     "segment_ids[0]"),
    ("POST", "/v1/orders", {"external_id": "o", "channel": "mp", "status": "paid",
                            "placed_at": "2026-01-01T00:00:00Z",
                            "lines": [{"sku": "s", "quantity": 1, "unit_price_fen": 1, "amount_fen": 2**63}]},
     "lines[0].amount_fen"),
    ("POST", "/v1/loyalty/rules", {"name": "r", "kind": "order", "points_per_yuan": True}, "points_per_yuan"),
])
def test_integers_past_64_bits_and_booleans_are_422_naming_the_field(client, tenant, method, url, body, field):
    response = client.request(method, url, headers=tenant.headers, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize("field", ["name", "role", "domain", "active", "config"])
def test_null_on_a_field_that_cannot_be_null_is_422_and_changes_nothing(api, field):
    channel = api.post("/v1/channels", json={"code": "mp", "name": "MP", "kind": "mini_program"}).json()
    response = api.patch(f"/v1/channels/{channel['id']}", json={field: None, "external_id": "wx1"})
    assert response.status_code == 422 and response.json()["field"] == field
    assert response.headers["content-type"] == "application/problem+json"
    assert api.get(f"/v1/channels/{channel['id']}").json() == channel
    assert api.get("/v1/channels").status_code == 200
    cleared = api.patch(f"/v1/channels/{channel['id']}", json={"external_id": None, "config": {"a": 1}})
    assert cleared.status_code == 200 and cleared.json()["external_id"] is None


def test_a_birthday_can_be_changed(api):
    customer = api.post("/v1/customers", json={"birthday": "1990-05-01",
                                               "identities": [{"kind": "app_user_id", "value": "b1"}]}).json()
    response = api.patch(f"/v1/customers/{customer['customer']['id']}", json={"birthday": "2000-01-01"})
    assert response.status_code == 200 and response.json()["birthday"] == "2000-01-01"
    audit = api.get("/v1/audit-log", params={"entity_type": "customer",
                                             "entity_id": customer["customer"]["id"]}).json()["items"]
    assert audit[0]["changes"] == {"birthday": "2000-01-01"}


def test_coupon_tiers_are_checked_in_the_callers_workspace(api, client, other_tenant):
    foreign = client.post("/v1/loyalty/tiers", headers=other_tenant.headers,
                          json={"name": "Gold", "rank": 1, "threshold": 100}).json()["id"]
    own = api.post("/v1/loyalty/tiers", json={"name": "Gold", "rank": 1, "threshold": 100}).json()["id"]
    body = {"name": "c", "kind": "fixed", "value_fen": 100, "valid_days": 3}
    for tier_ids, field in (([own, foreign], "tier_ids[1]"), ([99999], "tier_ids[0]")):
        response = api.post("/v1/loyalty/coupon-templates", json=body | {"tier_ids": tier_ids})
        assert response.status_code == 422 and response.json()["field"] == field
    assert api.post("/v1/loyalty/coupon-templates", json=body | {"tier_ids": [own]}).status_code == 201
