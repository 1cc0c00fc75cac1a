"""Roles: owner, operator, analyst (read-only, masked), guide (own customers only); key revocation."""

import os
from pathlib import Path

import pytest

from tests.helpers.everything import SAMPLE_BODIES, fill
from yutang.api.openapi import role_matrix_markdown


def _member(api, client, role, name=None):
    response = api.post("/v1/members", json={"name": name or role, "role": role})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["member"]["id"], {"Authorization": f"Bearer {body['api_key']['secret']}"}


@pytest.fixture
def pool(api):
    ids = []
    for phone, name in (("13812341234", "王芳"), ("13812345678", "李娜")):
        ids.append(api.post("/v1/customers", json={"name": name, "birthday": "1990-05-01",
                                                   "identities": [{"kind": "phone", "value": phone},
                                                                  {"kind": "email", "value": f"{phone}@qq.com"}]})
                   .json()["customer"]["id"])
    return ids


def test_analyst_reads_masked_data_and_cannot_write(api, client, pool):
    _, analyst = _member(api, client, "analyst")
    customer = client.get(f"/v1/customers/{pool[0]}", headers=analyst).json()
    values = {i["kind"]: i["value"] for i in customer["identities"]}
    assert values == {"phone": "138****1234", "email": "1***@qq.com"}
    assert customer["name"] == "王**" and customer["birthday"] is None
    archive = client.get(f"/v1/customers/{pool[0]}/archive", headers=analyst)
    assert archive.status_code == 200 and "13812341234" not in archive.text
    listing = client.get("/v1/customers", headers=analyst)
    assert "13812341234" not in listing.text and len(listing.json()["items"]) == 2
    for method, url, body in (("PATCH", f"/v1/customers/{pool[0]}", {"name": "x"}),
                              ("POST", f"/v1/customers/{pool[0]}/notes", {"body": "x"}),
                              ("POST", "/v1/customers", {"identities": [{"kind": "phone", "value": "13900000000"}]}),
                              ("GET", f"/v1/customers/{pool[0]}/export", None),
                              ("POST", f"/v1/customers/{pool[0]}/erase", None),
                              ("POST", "/v1/channels", {"code": "c", "name": "c", "kind": "app"}),
                              ("GET", "/v1/audit-log", None)):
        response = client.request(method, url, headers=analyst, json=body)
        assert response.status_code == 403, (method, url, response.text)
        assert response.json()["type"] == "/problems/forbidden"
    assert client.get(f"/v1/customers/{pool[0]}", headers=api.headers).json()["name"] == "王芳"


def test_guide_sees_and_serves_only_assigned_customers(api, client, pool):
    guide_id, guide = _member(api, client, "guide", "导购小美")
    assert api.patch(f"/v1/customers/{pool[0]}", json={"assigned_member_id": guide_id}).status_code == 200
    listing = client.get("/v1/customers", headers=guide).json()["items"]
    assert [c["id"] for c in listing] == [pool[0]]
    assert listing[0]["identities"][0]["value"] == "138****1234"
    assert client.get(f"/v1/customers/{pool[1]}", headers=guide).status_code == 404
    assert client.get(f"/v1/customers/{pool[1]}/archive", headers=guide).status_code == 404
    assert client.post(f"/v1/customers/{pool[1]}/notes", headers=guide, json={"body": "x"}).status_code == 404
    assert client.post(f"/v1/customers/{pool[0]}/notes", headers=guide, json={"body": "回访"}).status_code == 201
    reassign = client.patch(f"/v1/customers/{pool[0]}", headers=guide, json={"assigned_member_id": None})
    assert reassign.status_code == 422 and reassign.json()["field"] == "assigned_member_id"
    created = client.post("/v1/customers", headers=guide,
                          json={"identities": [{"kind": "wecom_external_userid", "value": "wmNew1"}]}).json()
    assert created["customer"]["assigned_member_id"] == guide_id


def test_guide_does_not_see_orders_of_other_customers(api, client, pool):
    guide_id, guide = _member(api, client, "guide")
    api.patch(f"/v1/customers/{pool[0]}", json={"assigned_member_id": guide_id})
    api.post("/v1/channels", json={"code": "store", "name": "Store", "kind": "store"})
    for cid, ext in ((pool[0], "O1"), (pool[1], "O2")):
        api.post("/v1/orders", json={"external_id": ext, "channel": "store", "status": "paid",
                                     "placed_at": "2026-01-01T00:00:00Z", "customer_id": cid,
                                     "lines": [{"sku": "s", "quantity": 1, "unit_price_fen": 1}]})
    orders = client.get("/v1/orders", headers=guide).json()["items"]
    assert [o["external_id"] for o in orders] == ["O1"]


def test_operator_works_the_pool_but_cannot_manage_keys(api, client, pool):
    _, operator = _member(api, client, "operator")
    assert client.get(f"/v1/customers/{pool[0]}", headers=operator).json()["identities"][0]["value"] == "+8613812341234"
    merged = client.post(f"/v1/customers/{pool[0]}/merge", headers=operator, json={"loser_id": pool[1]})
    assert merged.status_code == 200
    assert client.post("/v1/members", headers=operator, json={"name": "x", "role": "owner"}).status_code == 403
    assert client.get("/v1/api-keys", headers=operator).status_code == 403


def test_revoked_and_unknown_keys_are_refused(api, client):
    member_id, headers = _member(api, client, "operator")
    assert client.get("/v1/me", headers=headers).status_code == 200
    key_id = next(k["id"] for k in api.get("/v1/api-keys").json() if k["member_id"] == member_id)
    assert api.delete(f"/v1/api-keys/{key_id}").status_code == 200
    refused = client.get("/v1/me", headers=headers)
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/me", headers={"Authorization": "Bearer yt_nope"}).status_code == 401
    assert client.get("/v1/me").status_code == 401
    assert client.get("/v1/me", headers={"X-Api-Key": api.headers["Authorization"][7:]}).status_code == 200


def test_audit_log_records_who_changed_what(api, client, pool):
    member_id, operator = _member(api, client, "operator", "运营")
    client.patch(f"/v1/customers/{pool[0]}", headers=operator, json={"city": "上海"})
    entries = api.get("/v1/audit-log", params={"entity_type": "customer", "entity_id": pool[0]}).json()["items"]
    latest = entries[0]
    assert latest["action"] == "customer.updated" and latest["member_id"] == member_id
    assert latest["changes"] == {"city": "上海"}


ROLES = ("owner", "operator", "analyst", "guide", "store_manager", "region_manager")
# A preview for the victim customer (the shared sample renders sample data for no customer).
PREVIEW = (("post", "/v1/messaging/templates/preview"),
           {"template_id": "{template_id}", "customer_id": "{customer_id}"})


def test_every_operation_declares_its_roles_and_enforces_them(client, tenant, victim):
    """The role matrix of the live OpenAPI document, walked operation by operation: deny is a 403, allow is not,
    and a guide with no customers of their own gets nothing of another's from an own-customers-only operation."""
    keys = {"owner": tenant.headers}
    for role in ROLES[1:]:
        body = client.post("/v1/members", headers=tenant.headers, json={"name": role, "role": role}).json()
        keys[role] = {"Authorization": f"Bearer {body['api_key']['secret']}"}
    unknown = {name: 2**62 for name in victim}
    spec = client.get("/openapi.json").json()
    checked, wrong = 0, []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            access = operation.get("x-yutang-access")
            assert access and set(access["roles"]) == set(ROLES), f"{method} {path} declares no role access"
            if access["need"] == "write_key":
                continue
            body = fill(SAMPLE_BODIES.get((method.upper(), path)) if (method, path) != PREVIEW[0] else PREVIEW[1],
                         victim)
            for role, expected in access["roles"].items():
                url = path.format(**(unknown if expected == "allow" else victim))
                response = client.request(method, url, headers=keys[role], json=body)
                checked += 1
                leaked = "Victim" in response.text or "13900139000" in response.text
                if (response.status_code >= 500
                        or (expected == "deny" and response.status_code != 403)
                        or (expected == "allow" and response.status_code == 403)
                        or (expected == "own" and response.status_code < 400 and leaked)
                        or (expected == "own" and response.status_code < 300 and (method != "get" or "{" in path))):
                    wrong.append((method.upper(), path, role, expected, response.status_code, response.text[:120]))
    assert checked > 400
    assert wrong == [], "\n".join(map(str, wrong))


def test_the_role_matrix_in_the_docs_is_the_one_enforced(client):
    expected = role_matrix_markdown(client.get("/openapi.json").json())
    path = Path(__file__).resolve().parents[1] / "docs" / "roles.md"
    if os.environ.get("YUTANG_WRITE_DOCS"):
        path.write_text(expected, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == expected, "regenerate: YUTANG_WRITE_DOCS=1 pytest tests/test_roles.py"


def test_a_guide_neither_writes_segments_nor_reads_others_coupons_or_member_lists(api, client, pool):
    guide_id, guide = _member(api, client, "guide")
    api.patch(f"/v1/customers/{pool[0]}", json={"assigned_member_id": guide_id})
    static = api.post("/v1/segments", json={"name": "VIP", "kind": "static", "customer_ids": pool}).json()
    template = api.post("/v1/loyalty/coupon-templates", json={"name": "c", "kind": "fixed", "value_fen": 100,
                                                               "valid_days": 3}).json()
    coupons = [api.post(f"/v1/loyalty/coupon-templates/{template['id']}/issue",
                        json={"customer_id": cid, "idempotency_key": f"k{cid}"}).json() for cid in pool]
    assert client.post("/v1/segments", headers=guide, json={"name": "x", "kind": "static"}).status_code == 403
    assert client.patch(f"/v1/segments/{static['id']}", headers=guide, json={"name": "y"}).status_code == 403
    assert client.delete(f"/v1/segments/{static['id']}", headers=guide).status_code == 403
    assert client.get(f"/v1/segments/{static['id']}/members", headers=guide).status_code == 403
    assert client.get(f"/v1/loyalty/coupons/{coupons[1]['id']}", headers=guide).status_code == 404
    assert client.get(f"/v1/loyalty/coupons/{coupons[0]['id']}", headers=guide).json()["code"] == coupons[0]["code"]
    assert api.get(f"/v1/segments/{static['id']}").json()["name"] == "VIP"
