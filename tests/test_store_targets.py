"""Guides' monthly targets and attainment on the KPI board; persona accounts with the real staff behind each act."""

import pytest

from tests.helpers.stores import store_brand


@pytest.fixture
def brand(api):
    store, _, customer = store_brand(api)  # 小美 owns the customer
    staff = {s["name"]: s for s in api.get("/v1/stores/staff").json()}
    paid = "2026-11-10T12:00:00+08:00"
    assert api.post("/v1/orders", json={
        "external_id": "T1", "channel": "store.jingan", "status": "completed", "placed_at": paid, "paid_at": paid,
        "customer_id": customer, "lines": [{"sku": "TEA", "quantity": 1, "unit_price_fen": 1_500_000}]},
    ).status_code in (200, 201)
    return store, staff, customer


def _rows(api, since, until, group_by="guide"):
    response = api.get("/v1/stores/kpis", params={"since": since, "until": until, "group_by": group_by})
    assert response.status_code == 200, response.text
    return {r["name"]: r for r in response.json()["rows"]}


def test_targets_prorate_over_the_period_and_give_attainment(api, brand):
    store, staff, _ = brand
    mei, li = staff["小美"], staff["小丽"]
    first = api.put("/v1/stores/kpis/targets", json={"staff_id": mei["id"], "month": "2026-11", "new_adds": 10})
    assert first.status_code == 200, first.text
    again = api.put("/v1/stores/kpis/targets", json={"staff_id": mei["id"], "month": "2026-11", "new_adds": 30,
                                                     "gmv_fen": 3_000_000})  # replaces the first
    assert (again.json()["new_adds"], again.json()["gmv_fen"]) == (30, 3_000_000)
    api.put("/v1/stores/kpis/targets", json={"staff_id": li["id"], "month": "2026-11", "gmv_fen": 1_000_000})
    listed = api.get("/v1/stores/kpis/targets", params={"month": "2026-11"}).json()
    assert [(t["name"], t["new_adds"], t["gmv_fen"]) for t in listed] == [("小丽", None, 1_000_000),
                                                                          ("小美", 30, 3_000_000)]
    assert api.get("/v1/stores/kpis/targets", params={"month": "2026-10"}).json() == []

    whole = _rows(api, "2026-11-01", "2026-11-30")
    assert {k: whole["小美"][k] for k in ("gmv_fen", "target_gmv_fen", "gmv_attainment", "target_new_adds",
                                          "new_adds_attainment")} == {
        "gmv_fen": 1_500_000, "target_gmv_fen": 3_000_000, "gmv_attainment": 0.5, "target_new_adds": 30,
        "new_adds_attainment": 0.0}
    assert (whole["小丽"]["target_new_adds"], whole["小丽"]["gmv_attainment"]) == (None, 0.0)
    half = _rows(api, "2026-11-01", "2026-11-15")["小美"]  # 15 of November's 30 days
    assert (half["target_gmv_fen"], half["gmv_attainment"], half["target_new_adds"]) == (1_500_000, 1.0, 15)
    across = _rows(api, "2026-11-16", "2026-12-15")["小美"]  # December has no target
    assert (across["target_gmv_fen"], across["gmv_fen"], across["gmv_attainment"]) == (1_500_000, 0, 0.0)
    by_store = _rows(api, "2026-11-01", "2026-11-30", "store")["静安店"]
    assert (by_store["target_gmv_fen"], by_store["gmv_attainment"]) == (4_000_000, 0.375)
    audit = api.get("/v1/audit-log", params={"entity_type": "staff", "limit": 500}).json()["items"]
    assert len([e for e in audit if e["action"] == "staff.target_set"]) == 3


@pytest.mark.parametrize("body, status, field", [
    ({"month": "2026-13", "new_adds": 1}, 422, "month"),
    ({"month": "2026-11", "new_adds": -1}, 422, "new_adds"),
    ({"month": "2026-11", "gmv_fen": 1.5}, 422, "gmv_fen"),
    ({"month": "2026-11", "staff_id": 999999}, 404, "staff_id"),
])
def test_bad_targets_name_the_field(api, brand, body, status, field):
    _, staff, _ = brand
    response = api.put("/v1/stores/kpis/targets", json={"staff_id": staff["小美"]["id"], **body})
    assert response.status_code == status and response.json()["field"] == field, response.text


def test_a_guide_sees_but_does_not_set_their_own_targets(api, client, brand):
    _, staff, _ = brand
    mei = staff["小美"]
    key = api.post(f"/v1/members/{mei['member_id']}/api-keys").json()["secret"]
    headers = {"Authorization": f"Bearer {key}"}
    api.put("/v1/stores/kpis/targets", json={"staff_id": mei["id"], "month": "2026-11", "new_adds": 5})
    api.put("/v1/stores/kpis/targets", json={"staff_id": staff["小丽"]["id"], "month": "2026-11", "new_adds": 9})
    own = client.put("/v1/stores/kpis/targets", headers=headers,
                     json={"staff_id": mei["id"], "month": "2026-11", "new_adds": 500})
    assert own.status_code == 403, own.text
    seen = client.get("/v1/stores/kpis/targets", headers=headers, params={"month": "2026-11"}).json()
    assert [(t["name"], t["new_adds"]) for t in seen] == [("小美", 5)]


def test_a_persona_carries_the_real_staff_member_of_each_act(api, client, brand):
    _, staff, customer = brand
    mei, li = staff["小美"], staff["小丽"]
    persona = api.post("/v1/stores/personas", json={
        "name": "小完子", "avatar_url": "https://cdn.example.com/xwz.png", "wecom_alias": "xiaowanzi",
        "external_position": "美妆顾问", "external_profile": {"external_corp_name": "完美日记"},
        "staff_ids": [mei["id"], li["id"]]})
    assert persona.status_code == 201, persona.text
    persona = persona.json()
    assert persona["staff_ids"] == sorted([mei["id"], li["id"]])
    assert api.get(f"/v1/stores/staff/{mei['id']}").json()["persona_id"] == persona["id"]
    other = api.post("/v1/stores/personas", json={"name": "小美妆", "staff_ids": [li["id"]]})
    assert other.status_code == 409 and other.json()["field"] == "staff_ids[0]", other.text
    assert api.post("/v1/stores/personas", json={"name": "小完子"}).json()["field"] == "name"
    assert api.post("/v1/stores/personas", json={"name": "x", "avatar_url": "ftp://a"}).json()["field"] == "avatar_url"

    key = api.post(f"/v1/members/{mei['member_id']}/api-keys").json()["secret"]
    headers = {"Authorization": f"Bearer {key}"}
    task = client.post("/v1/stores/tasks", headers=headers, json={
        "title": "回访", "due_at": "2099-01-01T00:00:00Z", "customer_id": customer}).json()
    assert task["persona_id"] == persona["id"]
    assert client.post(f"/v1/stores/tasks/{task['id']}/done", headers=headers).status_code == 200
    activity = api.get(f"/v1/stores/personas/{persona['id']}/activity").json()
    assert [(a["action"], a["staff_name"], a["member_id"]) for a in activity] == [
        ("task.done", "小美", mei["member_id"]), ("task.created", "小美", mei["member_id"])]
    audit = api.get("/v1/audit-log", params={"entity_type": "staff_task", "entity_id": task["id"]}).json()["items"]
    entry = next(e for e in audit if e["action"] == "task.done")
    assert entry["member_id"] == mei["member_id"]
    assert entry["changes"] == {"persona_id": persona["id"], "staff_id": mei["id"]}

    moved = api.patch(f"/v1/stores/personas/{persona['id']}", json={"staff_ids": [li["id"]],
                                                                    "external_position": "首席顾问"})
    assert moved.status_code == 200 and moved.json()["staff_ids"] == [li["id"]], moved.text
    assert api.get(f"/v1/stores/staff/{mei['id']}").json()["persona_id"] is None
    later = client.post("/v1/stores/tasks", headers=headers, json={"title": "再访",
                                                                   "due_at": "2099-01-01T00:00:00Z"}).json()
    assert later["persona_id"] is None
    assert [p["name"] for p in api.get("/v1/stores/personas").json()] == ["小完子"]
