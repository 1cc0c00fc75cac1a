"""Staff follow-up tasks and sends through WeCom that the guide confirms, against the local WeCom peer."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.helpers.stores import owned_contacts, wecom_store
from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(api):
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        config, store, guides = wecom_store(api, fake, url)
        yield fake, config, guides


def _noon(days: int) -> str:
    today = datetime.now(ZONE).date() + timedelta(days=days)
    return datetime.combine(today, datetime.min.time().replace(hour=12), tzinfo=ZONE).isoformat()


def test_a_guide_s_to_do_list_check_off_and_lateness(api, client, world, tenant):
    fake, config, guides = world
    mei, mei_key = guides["xiaomei"]
    customer = owned_contacts(api, fake, config, mei, 1)[0]

    def task(title, days, **extra):
        response = client.post("/v1/stores/tasks", headers=mei_key,
                               json={"title": title, "due_at": _noon(days), **extra})
        assert response.status_code == 201, response.text
        return response.json()

    overdue = task("回访上周的客户", -1, customer_id=customer, note="问问尺码是否合适")
    due_today = task("邀约到店", 0, customer_id=customer)
    tomorrow = task("生日祝福", 1)
    assert overdue["staff_id"] == mei["id"] and overdue["status"] == "open"
    todo = client.get("/v1/stores/tasks", headers=mei_key, params={"today": "true"}).json()
    assert [t["id"] for t in todo] == [overdue["id"], due_today["id"]]
    done = client.post(f"/v1/stores/tasks/{overdue['id']}/done", headers=mei_key).json()
    assert done["status"] == "done" and done["late"] is True
    early = client.post(f"/v1/stores/tasks/{tomorrow['id']}/done", headers=mei_key).json()
    assert early["late"] is False
    again = client.post(f"/v1/stores/tasks/{overdue['id']}/done", headers=mei_key)
    assert again.status_code == 409 and again.json()["field"] == "task_id"
    todo = client.get("/v1/stores/tasks", headers=mei_key, params={"today": "true"}).json()
    assert {t["id"]: t["status"] for t in todo} == {overdue["id"]: "done", due_today["id"]: "open",
                                                    tomorrow["id"]: "done"}
    # Another guide sees none of it.
    li_key = guides["xiaoli"][1]
    assert client.get("/v1/stores/tasks", headers=li_key).json() == []
    assert client.get(f"/v1/stores/tasks/{due_today['id']}", headers=li_key).status_code == 404
    pipeline = client.app.state.pipeline
    pipeline.catch_up()
    rows = pipeline.warehouse.query(
        "SELECT event, customer_id FROM events WHERE workspace_id = %(w)s AND event LIKE 'Task %%' ORDER BY event",
        {"w": tenant.id})
    counted = sorted((event, customer_id == customer) for event, customer_id in rows)
    assert counted == [("Task Created", False), ("Task Created", True), ("Task Created", True),
                       ("Task Done", False), ("Task Done", True)]


def test_a_job_creates_a_task_once_per_source_key(api, world):
    _, _, guides = world
    mei = guides["xiaomei"][0]
    body = {"staff_id": mei["id"], "title": "沉睡客户唤醒", "due_at": _noon(0), "kind": "call",
            "source_key": "journey:7:step:2:customer:9"}
    first = api.post("/v1/stores/tasks", json=body)
    second = api.post("/v1/stores/tasks", json={**body, "title": "another"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"] and second.json()["title"] == "沉睡客户唤醒"
    assert len(api.get("/v1/stores/tasks", params={"staff_id": mei["id"]}).json()) == 1


@pytest.mark.parametrize("body, status, field", [
    ({"title": "x", "kind": "group_send"}, 422, "kind"),
    ({"title": "x", "remind_at": "2099-01-01T00:00:00Z"}, 422, "remind_at"),
    ({"title": "x", "customer_id": 2**62}, 404, "customer_id"),
    ({"title": "x\u0000"}, 422, "title"),
    ({"title": "x", "source_key": "has space"}, 422, "source_key"),
])
def test_bad_tasks_name_the_field(api, world, body, status, field):
    mei = world[2]["xiaomei"][0]
    response = api.post("/v1/stores/tasks", json={"staff_id": mei["id"], "due_at": _noon(0), **body})
    assert response.status_code == status and response.json()["field"] == field, response.text


def test_tasks_for_staff_who_left_or_for_no_one_are_refused(api, world):
    mei = world[2]["xiaomei"][0]
    assert api.post("/v1/stores/tasks", json={"title": "x", "due_at": _noon(0)}).json()["field"] == "staff_id"
    api.post(f"/v1/stores/staff/{mei['id']}/leave", json={})
    gone = api.post("/v1/stores/tasks", json={"staff_id": mei["id"], "title": "x", "due_at": _noon(0)})
    assert gone.status_code == 409 and gone.json()["field"] == "staff_id"


def test_a_send_waits_for_the_guide_s_confirmation_and_tracks_results_and_lateness(api, client, world):
    fake, config, guides = world
    mei, mei_key = guides["xiaomei"]
    customers = owned_contacts(api, fake, config, mei, 3)
    stranger = client.post("/v1/customers", headers=mei_key,
                           json={"identities": [{"kind": "phone", "value": "13900001111"}],
                                 "assigned_member_id": mei["member_id"]}).json()["customer"]["id"]
    fake.group_sends_per_customer["wm2"] = fake.monthly_cap  # WeCom's monthly cap reached for this one
    due = datetime.now(UTC) + timedelta(hours=2)
    made = client.post("/v1/stores/tasks/send", headers=mei_key, json={
        "config_id": config["id"], "customer_ids": [*customers, stranger], "text": "新品到店，欢迎来试穿",
        "due_at": due.isoformat()})
    assert made.status_code == 201, made.text
    task = made.json()
    assert task["kind"] == "group_send" and task["status"] == "waiting"
    assert task["counts"] == {"waiting": 2, "refused": 1, "no_contact": 1}
    template = fake.templates[task["msgid"]]
    assert template["body"]["sender"] == "xiaomei" and template["body"]["external_userid"] == ["wm0", "wm1", "wm2"]
    assert client.post(f"/v1/stores/tasks/{task['id']}/done", headers=mei_key).status_code == 409
    unconfirmed = client.post(f"/v1/stores/tasks/{task['id']}/sync", headers=mei_key).json()
    assert unconfirmed["status"] == "waiting" and unconfirmed["counts"]["waiting"] == 2
    confirmed_at = int((due + timedelta(hours=1)).timestamp())
    fake.confirm(task["msgid"], at=confirmed_at, statuses={"wm1": 2})
    synced = client.post(f"/v1/stores/tasks/{task['id']}/sync", headers=mei_key).json()
    assert synced["status"] == "done" and synced["late"] is True
    assert datetime.fromisoformat(synced["done_at"]).timestamp() == confirmed_at
    assert synced["counts"] == {"sent": 1, "not_contact": 1, "refused": 1, "no_contact": 1}


def test_a_send_wecom_refuses_writes_nothing(api, client, world):
    fake, config, guides = world
    mei, mei_key = guides["xiaomei"]
    customers = owned_contacts(api, fake, config, mei, 1)
    body = {"config_id": config["id"], "customer_ids": customers, "text": "hello"}
    fake.fail_next["/add_msg_template"] = [40058]
    refused = client.post("/v1/stores/tasks/send", headers=mei_key, json=body)
    assert refused.status_code == 502 and "40058" in refused.json()["detail"]
    assert client.get("/v1/stores/tasks", headers=mei_key).json() == []
    other = client.post("/v1/stores/tasks/send", headers=guides["xiaoli"][1], json=body)
    assert other.status_code == 422 and other.json()["field"] == "customer_ids[0]"
    strangers = client.post("/v1/stores/tasks/send", headers=mei_key,
                            json={**body, "customer_ids": [2**62]})
    assert strangers.status_code == 422 and strangers.json()["field"] == "customer_ids[0]"
