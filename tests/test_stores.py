"""Stores and staff: a store is a channel; staff join and leave; managers see their store's or region's customers."""

import pytest


def _member(api, role, name):
    body = api.post("/v1/members", json={"name": name, "role": role}).json()
    return body["member"]["id"], {"Authorization": f"Bearer {body['api_key']['secret']}"}


def _customer(api, phone, guide_id):
    return api.post("/v1/customers", json={"identities": [{"kind": "phone", "value": phone}],
                                           "assigned_member_id": guide_id}).json()["customer"]["id"]


def test_a_store_is_an_acquisition_channel_and_keeps_its_details(api):
    store = api.post("/v1/stores", json={"code": "sh-jingan", "name": "静安嘉里店",
                                         "address": "上海市静安区南京西路1515号", "latitude": 31.2243,
                                         "longitude": 121.4468, "region": "华东",
                                         "opening_hours": "10:00-22:00"})
    assert store.status_code == 201, store.text
    channel = api.get(f"/v1/channels/{store.json()['channel_id']}").json()
    assert channel["code"] == "store.sh-jingan" and channel["kind"] == "store" and channel["role"] == "primary"
    again = api.post("/v1/stores", json={"code": "sh-jingan", "name": "x"})
    assert again.status_code == 409 and again.json()["field"] == "code"
    api.post("/v1/channels", json={"code": "store-xuhui", "name": "徐汇店", "kind": "store"})
    adopted = api.post("/v1/stores", json={"code": "sh-xuhui", "name": "徐汇店", "channel": "store-xuhui"}).json()
    assert api.get(f"/v1/channels/{adopted['channel_id']}").json()["code"] == "store-xuhui"
    twice = api.post("/v1/stores", json={"code": "sh-xuhui2", "name": "x", "channel": "store-xuhui"})
    assert twice.status_code == 409 and twice.json()["field"] == "channel"
    patched = api.patch(f"/v1/stores/{adopted['id']}", json={"region": "华东", "opening_hours": "09:00-21:00"}).json()
    assert patched["opening_hours"] == "09:00-21:00"
    assert [s["code"] for s in api.get("/v1/stores", params={"region": "华东"}).json()] == ["sh-jingan", "sh-xuhui"]


@pytest.mark.parametrize("body, field", [
    ({"code": "Bad Code", "name": "x"}, "code"),
    ({"code": "ok", "name": "x", "latitude": 91}, "latitude"),
    ({"code": "ok", "name": "x", "manager_member_id": 2**62}, "manager_member_id"),
    ({"code": "ok", "name": "x", "channel": "nope"}, "channel"),
])
def test_bad_store_input_names_the_field(api, body, field):
    response = api.post("/v1/stores", json=body)
    assert response.status_code in (404, 422) and response.json()["field"] == field, response.text


def test_staff_join_move_and_leave(api):
    a = api.post("/v1/stores", json={"code": "a", "name": "A"}).json()
    b = api.post("/v1/stores", json={"code": "b", "name": "B"}).json()
    member_id, _ = _member(api, "guide", "小美")
    staff = api.post("/v1/stores/staff", json={"name": "小美", "member_id": member_id, "wecom_userid": "xiaomei",
                                                "store_id": a["id"], "joined_on": "2026-03-01"})
    assert staff.status_code == 201, staff.text
    staff = staff.json()
    clash = api.post("/v1/stores/staff", json={"name": "x", "wecom_userid": "xiaomei", "store_id": a["id"]})
    assert clash.status_code == 409 and clash.json()["field"] == "wecom_userid"
    nowhere = api.post("/v1/stores/staff", json={"name": "x"})
    assert nowhere.status_code == 422 and nowhere.json()["field"] == "store_id"
    moved = api.patch(f"/v1/stores/staff/{staff['id']}", json={"store_id": b["id"]}).json()
    assert moved["store_id"] == b["id"]
    early = api.post(f"/v1/stores/staff/{staff['id']}/leave", json={"left_on": "2026-01-01"})
    assert early.status_code == 422 and early.json()["field"] == "left_on"
    left = api.post(f"/v1/stores/staff/{staff['id']}/leave", json={"left_on": "2026-06-30"}).json()
    assert left["left_on"] == "2026-06-30"
    assert api.post(f"/v1/stores/staff/{staff['id']}/leave", json={}).status_code == 409
    assert api.get("/v1/stores/staff", params={"current": "true"}).json() == []
    assert [s["name"] for s in api.get("/v1/stores/staff", params={"store_id": b["id"]}).json()] == ["小美"]
    log = api.get("/v1/audit-log", params={"entity_type": "staff", "entity_id": staff["id"]}).json()["items"]
    assert {e["action"] for e in log} == {"staff.joined", "staff.updated", "staff.left"}


def test_managers_see_their_store_or_region_and_guides_their_own(api, client):
    east1 = api.post("/v1/stores", json={"code": "e1", "name": "E1", "region": "East"}).json()
    east2 = api.post("/v1/stores", json={"code": "e2", "name": "E2", "region": "East"}).json()
    west = api.post("/v1/stores", json={"code": "w1", "name": "W1", "region": "West"}).json()
    guides = {}
    for name, store in (("g1", east1), ("g2", east2), ("g3", west)):
        guides[name] = _member(api, "guide", name)
        api.post("/v1/stores/staff", json={"name": name, "member_id": guides[name][0], "store_id": store["id"]})
    store_manager_id, store_manager = _member(api, "store_manager", "店长")
    api.post("/v1/stores/staff", json={"name": "店长", "member_id": store_manager_id, "store_id": east1["id"]})
    region_manager_id, region_manager = _member(api, "region_manager", "区域经理")
    api.post("/v1/stores/staff", json={"name": "区域经理", "member_id": region_manager_id, "region": "East"})
    customers = {name: _customer(api, f"1390000000{i}", guides[name][0]) for i, name in enumerate(guides)}

    def seen(headers):
        return {c["id"] for c in client.get("/v1/customers", headers=headers).json()["items"]}

    assert seen(guides["g1"][1]) == {customers["g1"]}
    assert seen(store_manager) == {customers["g1"]}
    assert seen(region_manager) == {customers["g1"], customers["g2"]}
    assert client.get(f"/v1/customers/{customers['g3']}", headers=region_manager).status_code == 404
    # A store manager moves a customer within the store, never out of it.
    inside = client.patch(f"/v1/customers/{customers['g1']}", headers=store_manager,
                          json={"assigned_member_id": store_manager_id})
    assert inside.status_code == 200, inside.text
    outside = client.patch(f"/v1/customers/{customers['g1']}", headers=store_manager,
                           json={"assigned_member_id": guides["g3"][0]})
    assert outside.status_code == 422 and outside.json()["field"] == "assigned_member_id"
    pool_wide = client.post("/v1/segments/preview", headers=region_manager, json={"rule": {"type": "all"}})
    assert pool_wide.status_code == 403
