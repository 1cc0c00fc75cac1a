"""Guide KPIs with figures worked by hand: WeCom's statistics (one call per guide per day), GMV and repurchase of
owned customers, tasks, hand-over loss; per guide, store and region, ranked."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.helpers.stores import owned_contacts, wecom_store
from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom

ZONE = ZoneInfo("Asia/Shanghai")


def _local(day, hour=12):
    return datetime.combine(day, datetime.min.time().replace(hour=hour), tzinfo=ZONE)


def _order(api, ref, customer_id, paid_at, fen, refunded=0):
    response = api.post("/v1/orders", json={
        "external_id": ref, "channel": "store.s1", "status": "partially_refunded" if refunded else "completed",
        "placed_at": paid_at.isoformat(), "paid_at": paid_at.isoformat(), "customer_id": customer_id,
        "refunded_fen": refunded, "lines": [{"sku": "SKU", "quantity": 1, "unit_price_fen": fen}]})
    assert response.status_code in (200, 201), response.text


@pytest.fixture
def world(api):
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        config, store, guides = wecom_store(api, fake, url)
        south = api.post("/v1/stores", json={"code": "s2", "name": "S2", "region": "华南"}).json()
        member = api.post("/v1/members", json={"name": "xiaowang", "role": "guide"}).json()["member"]["id"]
        wang = api.post("/v1/stores/staff", json={"name": "xiaowang", "member_id": member, "wecom_userid": "xiaowang",
                                                  "store_id": south["id"]}).json()
        yield fake, config, store, guides, wang


def test_kpis_per_guide_store_and_region_with_hand_worked_figures(api, client, world):
    fake, config, store, guides, wang = world
    (mei, mei_key), (li, _) = guides["xiaomei"], guides["xiaoli"]
    today = datetime.now(ZONE).date()
    d1, d2 = today - timedelta(days=2), today - timedelta(days=1)
    fake.set_behavior("xiaomei", int(_local(d1, 0).timestamp()), new_contact_cnt=3, negative_feedback_cnt=1,
                      chat_cnt=10, message_cnt=50, reply_percentage=80, avg_reply_time=4)
    fake.set_behavior("xiaomei", int(_local(d2, 0).timestamp()), new_contact_cnt=2, chat_cnt=30, message_cnt=90,
                      reply_percentage=60, avg_reply_time=2)
    fake.set_behavior("xiaoli", int(_local(d2, 0).timestamp()), new_contact_cnt=1, negative_feedback_cnt=2)
    for day in (d1, d2):
        synced = api.post("/v1/stores/kpis/behavior-sync", json={"config_id": config["id"], "day": day.isoformat()})
        assert synced.status_code == 200 and synced.json()["fetched"] == 3, synced.text
    again = api.post("/v1/stores/kpis/behavior-sync", json={"config_id": config["id"], "day": d2.isoformat()}).json()
    assert (again["fetched"], again["skipped"]) == (0, 3) and len(fake.behavior_calls) == 6
    assert api.post("/v1/stores/kpis/behavior-sync",
                    json={"config_id": config["id"], "day": today.isoformat()}).json()["field"] == "day"

    c0, c1, _ = owned_contacts(api, fake, config, mei, 3)
    (c3,) = owned_contacts(api, fake, config, li, 1, prefix="wl")
    _order(api, "O1", c0, _local(d2), 10000)
    _order(api, "O2", c0, _local(today - timedelta(days=30)), 5000)  # before the period: repurchase only
    _order(api, "O3", c1, _local(d1), 20000, refunded=5000)
    _order(api, "O4", c3, _local(d1), 8000)
    for days in (-1, 1):
        due = _local(today + timedelta(days=days)).isoformat()
        task = client.post("/v1/stores/tasks", headers=mei_key, json={"title": "回访", "due_at": due}).json()
        client.post(f"/v1/stores/tasks/{task['id']}/done", headers=mei_key)
    handover = api.post("/v1/stores/handovers", json={"config_id": config["id"], "from_staff_id": li["id"],
                                                      "to_staff_id": mei["id"]}).json()
    fake.settle("xiaoli", "xiaomei", "wl0", 3)
    api.post(f"/v1/stores/handovers/{handover['id']}/sync")

    period = {"since": d1.isoformat(), "until": today.isoformat()}
    by_guide = api.get("/v1/stores/kpis", params=period)
    assert by_guide.status_code == 200, by_guide.text
    rows = {r["name"]: r for r in by_guide.json()["rows"]}
    assert [(r["rank"], r["name"]) for r in by_guide.json()["rows"]] == [(1, "xiaomei"), (2, "xiaoli"),
                                                                         (3, "xiaowang")]
    assert {k: rows["xiaomei"][k] for k in ("owned_customers", "new_adds", "lost_customers", "chats", "reply_rate",
                                            "avg_reply_minutes", "gmv_fen", "repurchase_rate", "tasks_done",
                                            "tasks_late", "handover_loss_rate")} == {
        "owned_customers": 3, "new_adds": 5, "lost_customers": 1, "chats": 40,
        "reply_rate": 0.65,  # (10 × 80 % + 30 × 60 %) / 40
        "avg_reply_minutes": 2.5,  # (10 × 4 + 30 × 2) / 40
        "gmv_fen": 25000,  # 10000 + (20000 − 5000); O2 is before the period
        "repurchase_rate": 0.5,  # c0 bought twice, c1 once
        "tasks_done": 2, "tasks_late": 1, "handover_loss_rate": None}
    li_row = rows["xiaoli"]
    assert (li_row["owned_customers"], li_row["new_adds"], li_row["lost_customers"], li_row["reply_rate"],
            li_row["gmv_fen"], li_row["repurchase_rate"], li_row["handover_loss_rate"]) == (1, 1, 2, None, 8000, 0.0,
                                                                                           1.0)
    losers = api.get("/v1/stores/kpis", params={**period, "rank_by": "lost_customers"}).json()["rows"]
    assert [r["name"] for r in losers][:2] == ["xiaoli", "xiaomei"]

    by_store = api.get("/v1/stores/kpis", params={**period, "group_by": "store"}).json()["rows"]
    s1 = next(r for r in by_store if r["key"] == str(store["id"]))
    assert (s1["rank"], s1["guides"], s1["owned_customers"], s1["new_adds"], s1["lost_customers"], s1["gmv_fen"],
            s1["reply_rate"], s1["repurchase_rate"], s1["handover_loss_rate"]) == (1, 2, 4, 6, 3, 33000, 0.65,
                                                                                 0.3333, 1.0)
    regions = api.get("/v1/stores/kpis", params={**period, "group_by": "region"}).json()["rows"]
    assert [(r["name"], r["guides"], r["gmv_fen"]) for r in regions] == [("华东", 2, 33000), ("华南", 1, 0)]


@pytest.mark.parametrize("params, field", [
    ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
    ({"since": "2024-01-01", "until": "2026-01-01"}, "since"),
    ({"since": "2026-01-01", "until": "2026-01-31", "group_by": "planet"}, "group_by"),
])
def test_bad_kpi_periods_name_the_field(api, params, field):
    response = api.get("/v1/stores/kpis", params=params)
    assert response.status_code == 422 and response.json()["field"] == field, response.text


def test_wecom_refusing_one_guide_keeps_the_others(api, world):
    fake, config, *_ = world
    fake.staff_users = {"xiaomei", "xiaoli"}  # xiaowang is unknown to WeCom: 60111
    day = (datetime.now(ZONE).date() - timedelta(days=1)).isoformat()
    synced = api.post("/v1/stores/kpis/behavior-sync", json={"config_id": config["id"], "day": day}).json()
    assert synced["fetched"] == 2 and synced["failed"] == {"xiaowang": "60111"}
