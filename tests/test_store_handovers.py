"""Hand-over against the local WeCom peer: in service and resigned, calls of 100, results, the 90-day rule."""

import pytest

from tests.helpers.stores import owned_contacts, wecom_store
from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom


@pytest.fixture
def world(api):
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        config, _, guides = wecom_store(api, fake, url, userids=("xiaomei", "xiaoli", "xiaowang"))
        yield fake, config, {userid: staff for userid, (staff, _) in guides.items()}


def test_in_service_handover_moves_owners_as_wecom_settles_and_reports_the_loss(api, world):
    fake, config, staff = world
    giver, taker = staff["xiaomei"], staff["xiaoli"]
    customers = owned_contacts(api, fake, config, giver, 3)
    stray = api.post("/v1/customers", json={"identities": [{"kind": "phone", "value": "13900002222"}],
                                            "assigned_member_id": giver["member_id"]}).json()["customer"]["id"]
    planned = api.post("/v1/stores/handovers", json={"config_id": config["id"], "from_staff_id": giver["id"],
                                                     "to_staff_id": taker["id"], "message": "小丽将继续为您服务",
                                                     "send": False})
    assert planned.status_code == 201, planned.text
    assert planned.json()["status"] == "planned" and fake.transfer_calls == []
    made = api.post(f"/v1/stores/handovers/{planned.json()['id']}/send")
    assert made.status_code == 200, made.text
    handover = made.json()
    assert handover["kind"] == "in_service" and handover["counts"] == {"waiting": 3, "no_contact": 1}
    assert fake.transfer_calls == [("transfer_customer", 3)]
    assert api.post(f"/v1/stores/handovers/{handover['id']}/send").status_code == 409
    fake.settle("xiaomei", "xiaoli", "wm0", 1)
    fake.settle("xiaomei", "xiaoli", "wm1", 3)
    synced = api.post(f"/v1/stores/handovers/{handover['id']}/sync").json()
    assert synced["counts"] == {"done": 1, "refused": 1, "waiting": 1, "no_contact": 1}
    assert synced["status"] == "running"
    owner = api.get(f"/v1/stores/owners/{customers[0]}").json()
    assert owner["member_id"] == taker["member_id"] and owner["history"][0]["reason"] == "handover"
    assert api.get(f"/v1/stores/owners/{customers[1]}").json()["member_id"] == giver["member_id"]
    assert api.get(f"/v1/stores/owners/{stray}").json()["member_id"] == giver["member_id"]
    fake.settle("xiaomei", "xiaoli", "wm2", 4)
    done = api.post(f"/v1/stores/handovers/{handover['id']}/sync").json()
    assert done["status"] == "finished" and done["counts"]["over_limit"] == 1
    assert done["loss_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert api.get("/v1/stores/handovers").json()[0]["loss_rate"] == done["loss_rate"]


def test_a_customer_moves_at_most_twice_in_90_days_while_staff_is_employed(api, world):
    fake, config, staff = world
    giver, taker = staff["xiaomei"], staff["xiaoli"]
    customers = owned_contacts(api, fake, config, giver, 1)
    body = {"config_id": config["id"], "from_staff_id": giver["id"], "to_staff_id": taker["id"],
            "customer_ids": customers}
    first = api.post("/v1/stores/handovers", json=body).json()
    second = api.post("/v1/stores/handovers", json=body).json()
    third = api.post("/v1/stores/handovers", json=body).json()
    assert (first["counts"], second["counts"], third["counts"]) == ({"waiting": 1}, {"waiting": 1}, {"limited": 1})
    assert third["status"] == "finished" and len(fake.transfer_calls) == 2


def test_resigned_staff_hand_over_in_calls_of_100_with_a_retry(api, world):
    fake, config, staff = world
    giver, taker = staff["xiaowang"], staff["xiaoli"]
    customers = owned_contacts(api, fake, config, giver, 101)
    api.post(f"/v1/stores/staff/{giver['id']}/leave", json={})
    body = {"config_id": config["id"], "from_staff_id": giver["id"], "to_staff_id": taker["id"]}
    refused = api.post("/v1/stores/handovers", json={**body, "message": "x"})
    assert refused.status_code == 422 and refused.json()["field"] == "message"
    fake.fail_next["/resigned/transfer_customer"] = [45009]
    made = api.post("/v1/stores/handovers", json=body).json()
    assert made["kind"] == "resigned" and made["counts"] == {"waiting": 101}
    assert fake.transfer_calls == [("resigned/transfer_customer", 100), ("resigned/transfer_customer", 1)]
    for n in range(101):
        fake.settle("xiaowang", "xiaoli", f"wm{n}", 1)
    done = api.post(f"/v1/stores/handovers/{made['id']}/sync").json()
    assert done["counts"] == {"done": 101} and done["loss_rate"] == 0
    assert api.get(f"/v1/stores/owners/{customers[100]}").json()["member_id"] == taker["member_id"]


def test_bad_handovers_name_the_rule_and_move_nothing(api, world):
    fake, config, staff = world
    customers = owned_contacts(api, fake, config, staff["xiaomei"], 1)
    api.post(f"/v1/stores/staff/{staff['xiaowang']['id']}/leave", json={})
    base = {"config_id": config["id"], "from_staff_id": staff["xiaomei"]["id"]}
    gone = api.post("/v1/stores/handovers", json={**base, "to_staff_id": staff["xiaowang"]["id"]})
    assert gone.status_code == 409 and gone.json()["field"] == "to_staff_id"
    other = api.post("/v1/stores/handovers", json={**base, "to_staff_id": staff["xiaoli"]["id"],
                                                   "customer_ids": [customers[0] + 1000]})
    assert other.status_code == 422 and other.json()["field"] == "customer_ids[0]"
    long = api.post("/v1/stores/handovers", json={**base, "to_staff_id": staff["xiaoli"]["id"], "message": "x" * 201})
    assert long.status_code == 422 and long.json()["field"] == "message"
    assert fake.transfer_calls == [] and api.get("/v1/stores/handovers").json() == []


def test_staff_sync_adds_wecom_members_and_reports_the_gone(api, world):
    fake, config, staff = world
    fake.staff_users = {"xiaomei", "xiaoli", "newbie"}
    store = api.get("/v1/stores").json()[0]["id"]
    listed = api.post("/v1/stores/staff/wecom-sync", json={"config_id": config["id"]}).json()
    assert listed == {"found": 3, "added": [], "missing": ["xiaowang"]}
    added = api.post("/v1/stores/staff/wecom-sync", json={"config_id": config["id"], "store_id": store}).json()
    assert added["added"] == ["newbie"]
    newbie = [s for s in api.get("/v1/stores/staff").json() if s["wecom_userid"] == "newbie"]
    assert newbie[0]["store_id"] == store and newbie[0]["left_on"] is None
    fake.fail_next["/get_follow_user_list"] = [45009]
    limited = api.post("/v1/stores/staff/wecom-sync", json={"config_id": config["id"]})
    assert limited.status_code == 502 and "45009" in limited.json()["detail"]
