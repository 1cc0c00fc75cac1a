"""Customer groups against the local WeCom peer: sync by cursor, members linked to customers and staff, callbacks."""

import base64
import secrets

import pytest

from tests.peers.server import serve
from tests.peers.wecom import CallbackSigner, FakeWeCom, chat_event


@pytest.fixture
def wecom(api):
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        aes = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        config = api.post("/v1/messaging/channels", json={
            "kind": "wecom", "name": "WeCom", "settings": {"corp_id": fake.corp_id, "base_url": url},
            "secrets": {"corp_secret": fake.secret, "callback_token": "cbtoken", "encoding_aes_key": aes}}).json()
        yield fake, config, CallbackSigner("cbtoken", aes, fake.corp_id)


@pytest.fixture
def guide(api):
    store = api.post("/v1/stores", json={"code": "jingan", "name": "静安店", "region": "华东"}).json()
    member = api.post("/v1/members", json={"name": "小美", "role": "guide"}).json()["member"]["id"]
    staff = api.post("/v1/stores/staff", json={"name": "小美", "member_id": member, "wecom_userid": "xiaomei",
                                               "store_id": store["id"]})
    assert staff.status_code == 201, staff.text
    return staff.json()


def _member(userid, *, at=1_700_000_100, scene=3, state=""):
    row = {"userid": userid, "type": 2, "join_time": at, "join_scene": scene, "invitor": {"userid": "xiaomei"}}
    return {**row, "state": state} if state else row


def _event(client, fake, signer, config, change, chat_id, **kw):
    params, body = signer.post(chat_event(fake.corp_id, change, chat_id=chat_id, **kw))
    answer = client.post(f"/callbacks/wecom/{config['id']}", params=params, content=body)
    assert answer.text == "success", answer.text


def test_a_sync_pages_through_groups_and_links_members_to_customers_and_staff(api, wecom, guide):
    fake, config, _ = wecom
    # Given a customer known by her WeCom id already, and five groups owned by a guide, one with an admin and notice
    known = api.post("/v1/customers", json={"identities": [{"kind": "wecom_external_userid", "value": "wmKNOWN"}]})
    known_id = known.json()["customer"]["id"]
    fake.add_chat("wrA", owner="xiaomei", name="静安宝妈群", notice="每周三福利", admins=("xiaoli",),
                  members=[_member("wmKNOWN", state="poster"), _member("wmNEW1"),
                           {"userid": "xiaoli", "type": 1, "join_time": 1_700_000_050, "join_scene": 1}])
    for n in range(4):
        fake.add_chat(f"wr{n}", owner="xiaomei", name=f"群{n}", members=[_member(f"wmX{n}"), _member("wmNEW1")])
    # When groups are synced two per page
    synced = api.post("/v1/groups/wecom-sync", json={"config_id": config["id"], "page_size": 2})
    # Then every group is read, the known customer is linked and the new ones exist through OneID
    assert synced.status_code == 200, synced.text
    assert synced.json() == {"groups": 5, "joined": 4 + 4 * 3, "left": 0}  # owners count: wrA 4, each wrN 3
    assert fake.chat_calls == 5
    groups = {g["chat_id"]: g for g in api.get("/v1/groups").json()}
    assert set(groups) == {"wrA", "wr0", "wr1", "wr2", "wr3"}
    a = groups["wrA"]
    assert (a["name"], a["notice"], a["admin_userids"], a["members"], a["owner_staff_id"]) == (
        "静安宝妈群", "每周三福利", ["xiaoli"], 4, guide["id"])
    members = {m["userid"]: m for m in api.get(f"/v1/groups/{a['id']}/members").json()}
    assert members["wmKNOWN"]["customer_id"] == known_id and members["wmKNOWN"]["state"] == "poster"
    assert members["wmKNOWN"]["join_scene"] == 3
    assert members["xiaomei"]["staff_id"] == guide["id"] and members["xiaomei"]["customer_id"] is None
    assert members["xiaoli"]["staff_id"] is None and not members["xiaoli"]["external"]
    new = api.get("/v1/customers", params={"identity": "wecom_external_userid:wmNEW1"}).json()["items"]
    assert len(new) == 1  # one customer although in five groups
    assert {g["name"] for g in api.get(f"/v1/groups/customers/{new[0]['id']}").json()} == {
        "静安宝妈群", "群0", "群1", "群2", "群3"}
    archive = api.get(f"/v1/customers/{known_id}/archive").json()
    assert [(g["name"], g["left_at"]) for g in archive["groups"]] == [("静安宝妈群", None)]
    # When one member quits and the sync runs again, only the change is recorded
    fake.quit_chat("wr0", "wmX0")
    again = api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]}).json()
    assert (again["joined"], again["left"]) == (0, 1)


def test_a_wecom_error_is_named_and_nothing_is_half_written(api, wecom, guide):
    fake, config, _ = wecom
    fake.add_chat("wrA", owner="xiaomei", name="A", members=[_member("wmA")])
    fake.add_chat("wrB", owner="xiaomei", name="B", members=[_member("wmB")])
    # Given WeCom refuses the second group's read (it was dismissed between list and get)
    fake.fail_next["/groupchat/get"] = [0, 40050]
    # When groups are synced
    refused = api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]})
    # Then the problem names WeCom's errcode and the first group and its member were not kept either
    assert refused.status_code == 502 and "40050" in refused.json()["detail"]
    assert refused.json()["errors"][0]["field"] == "config_id"
    assert api.get("/v1/groups").json() == []
    assert api.get("/v1/customers", params={"identity": "wecom_external_userid:wmA"}).json()["items"] == []


def test_callbacks_create_update_and_dismiss_groups(api, client, wecom, guide):
    fake, config, signer = wecom
    fake.add_chat("wrC", owner="xiaomei", name="新品尝鲜群", members=[_member("wmC1")])
    _event(client, fake, signer, config, "create", "wrC")
    group = api.get("/v1/groups").json()[0]
    assert (group["chat_id"], group["members"]) == ("wrC", 2)
    fake.join_chat("wrC", "wmC2", state="door")
    _event(client, fake, signer, config, "update", "wrC", update="add_member", members=("wmC2",), join_scene=3)
    fake.quit_chat("wrC", "wmC1")
    _event(client, fake, signer, config, "update", "wrC", update="del_member", members=("wmC1",), quit_scene=0)
    members = api.get(f"/v1/groups/{group['id']}/members", params={"current": False}).json()
    by = {m["userid"]: m for m in members}
    assert by["wmC2"]["state"] == "door" and by["wmC2"]["left_at"] is None and by["wmC1"]["left_at"] is not None
    fake.chats["wrC"]["owner"] = "xiaoli"
    _event(client, fake, signer, config, "update", "wrC", update="change_owner")
    assert api.get(f"/v1/groups/{group['id']}").json()["owner_userid"] == "xiaoli"
    _event(client, fake, signer, config, "dismiss", "wrC")
    assert api.get("/v1/groups").json() == []
    gone = api.get(f"/v1/groups/{group['id']}").json()
    assert gone["dismissed_at"] is not None and gone["members"] == 0


def test_groups_of_another_workspace_are_not_found(api, wecom):
    assert api.get("/v1/groups/999999").status_code == 404
    assert api.post("/v1/groups/wecom-sync", json={"config_id": 999999}).status_code == 404


def test_a_group_code_covers_up_to_five_groups_and_counts_joins_and_quits(api, client, wecom, guide):
    fake, config, signer = wecom
    for n in range(6):
        fake.add_chat(f"wr{n}", owner="xiaomei", name=f"福利群{n}")
    api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]})
    ids = [g["id"] for g in api.get("/v1/groups").json()]
    body = {"config_id": config["id"], "name": "门口海报", "state": "door-poster", "room_base_name": "福利群",
            "room_base_id": 7}
    # When a code names six groups, the rule is named and WeCom is not asked
    six = api.post("/v1/groups/codes", json={**body, "group_ids": ids})
    assert six.status_code == 422 and six.json()["errors"][0]["field"] == "group_ids"
    assert "at most 5 groups" in six.json()["detail"] and fake.join_ways == {}
    # When it names five, the join way carries them, the state and the auto-create settings
    made = api.post("/v1/groups/codes", json={**body, "group_ids": ids[:5]})
    assert made.status_code == 201, made.text
    code = made.json()
    way = fake.join_ways[code["wecom_config_id"]]
    assert (way["scene"], way["state"], way["auto_create_room"], way["room_base_name"], way["room_base_id"]) == (
        2, "door-poster", 1, "福利群", 7)
    assert way["chat_id_list"] == [g["chat_id"] for g in api.get("/v1/groups").json()[:5]]
    assert code["qr_url"].endswith(f"{code['wecom_config_id']}/0")
    again = api.post("/v1/groups/codes", json={**body, "group_ids": ids[:1]})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "state"
    # When two people join through it and one leaves, the code counts them from the callbacks' member lists
    chat = code["chat_ids"][0]
    for userid in ("wmJ1", "wmJ2"):
        fake.join_chat(chat, userid, state="door-poster")
        _event(client, fake, signer, config, "update", chat, update="add_member", members=(userid,), join_scene=3)
    fake.join_chat(chat, "wmOther")
    _event(client, fake, signer, config, "update", chat, update="add_member", members=("wmOther",), join_scene=1)
    fake.quit_chat(chat, "wmJ1")
    _event(client, fake, signer, config, "update", chat, update="del_member", members=("wmJ1",))
    stats = api.get(f"/v1/groups/codes/{code['id']}/stats").json()
    assert (stats["joins"], stats["quits"], stats["staying"]) == (2, 1, 1)
    # When wmJ2 pays an order after joining (and wmJ1 paid only before, wmOther joined otherwise and paid), the
    # code converted one customer worth the order, less its refund
    api.post("/v1/channels", json={"code": "mp", "name": "小程序商城", "kind": "mini_program"})
    people = {u: api.get("/v1/customers", params={"identity": f"wecom_external_userid:{u}"}).json()["items"][0]["id"]
              for u in ("wmJ1", "wmJ2", "wmOther")}
    for n, (userid, paid_at, refunded) in enumerate([("wmJ2", "2099-01-01T10:00:00+08:00", 5000),
                                                     ("wmJ1", "2020-01-01T10:00:00+08:00", 0),
                                                     ("wmOther", "2099-01-01T10:00:00+08:00", 0)]):
        order = api.post("/v1/orders", json={
            "external_id": f"G{n}", "channel": "mp", "status": "partially_refunded" if refunded else "paid",
            "placed_at": paid_at, "paid_at": paid_at, "customer_id": people[userid], "refunded_fen": refunded,
            "lines": [{"sku": "LJ-250", "quantity": 1, "unit_price_fen": 30000}]})
        assert order.status_code in (200, 201), order.text
    stats = api.get(f"/v1/groups/codes/{code['id']}/stats").json()
    assert (stats["converted"], stats["gmv_fen"]) == (1, 25000)
    # When it is deleted, WeCom's join way goes and the code stays with its figures
    assert api.delete(f"/v1/groups/codes/{code['id']}").status_code == 200
    assert fake.join_ways == {} and api.get("/v1/groups/codes").json() == []
    assert api.get(f"/v1/groups/codes/{code['id']}/stats").json()["joins"] == 2
    assert api.delete(f"/v1/groups/codes/{code['id']}").status_code == 409


def test_a_group_code_refused_by_wecom_is_not_kept(api, wecom, guide):
    fake, config, _ = wecom
    fake.add_chat("wrA", owner="xiaomei", name="A")
    api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]})
    group = api.get("/v1/groups").json()[0]["id"]
    fake.fail_next["/groupchat/add_join_way"] = [45009]
    refused = api.post("/v1/groups/codes", json={"config_id": config["id"], "name": "x", "state": "s1",
                                                 "group_ids": [group], "room_base_name": "x"})
    assert refused.status_code == 502 and "45009" in refused.json()["detail"]
    assert api.get("/v1/groups/codes").json() == []
    no_base = api.post("/v1/groups/codes", json={"config_id": config["id"], "name": "x", "state": "s1",
                                                 "group_ids": [group]})
    assert no_base.status_code == 422 and no_base.json()["errors"][0]["field"] == "room_base_name"


def _epoch(day, hour=10):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo
    return int(datetime.combine(day, time(hour), ZoneInfo("Asia/Shanghai")).timestamp())


def test_group_health_counts_members_joins_quits_talk_and_flags_silent_groups(api, wecom, guide):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo
    fake, config, _ = wecom
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    # Given a lively group (four new members, one old who then quits) and a quiet one whose talk died 40 days ago
    fake.add_chat("wrHot", owner="xiaomei", name="活跃群",
                  members=[_member(f"wm{n}", at=_epoch(today - timedelta(days=10))) for n in range(1, 5)]
                  + [_member("wm5", at=1_600_000_000)])
    fake.add_chat("wrCold", owner="xiaomei", name="沉默群", members=[_member("wm6"), _member("wm7")])
    api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]})
    fake.quit_chat("wrHot", "wm5")
    api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]})
    ids = {g["chat_id"]: g["id"] for g in api.get("/v1/groups").json()}
    for group, day, messages, speakers in (("wrHot", today - timedelta(days=2), 40, ["wm1", "wm2"]),
                                           ("wrHot", today - timedelta(days=20), 10, ["wm3"]),
                                           ("wrCold", today - timedelta(days=40), 5, ["wm6"])):
        done = api.post(f"/v1/groups/{ids[group]}/activity", json={"day": day.isoformat(), "messages": messages,
                                                                   "speakers": speakers})
        assert done.status_code == 200, done.text
    stranger = api.post(f"/v1/groups/{ids['wrHot']}/activity", json={"day": today.isoformat(), "messages": 1,
                                                                      "speakers": ["wm1", "wmNobody"]})
    assert stranger.status_code == 422 and stranger.json()["errors"][0]["field"] == "speakers[1]"
    # When health is read
    health = {h["name"]: h for h in api.get("/v1/groups/health").json()}
    # Then the lively group has its figures and the quiet one is flagged
    hot, cold = health["活跃群"], health["沉默群"]
    assert (hot["members"], hot["joins_30d"], hot["quits_30d"], hot["messages_30d"]) == (5, 4, 1, 50)
    assert (hot["spoke_7d"], hot["spoke_30d"], hot["silent"]) == (0.4, 0.6, False)
    assert (cold["members"], cold["messages_30d"], cold["spoke_30d"], cold["silent"]) == (3, 0, 0.0, True)
    assert [h["name"] for h in api.get("/v1/groups/health", params={"silent": True}).json()] == ["沉默群"]
    # A day before the joins the lively group had only its old members
    earlier = {h["name"]: h for h in api.get("/v1/groups/health", params={
        "as_of": (today - timedelta(days=15)).isoformat()}).json()}
    assert (earlier["活跃群"]["members"], earlier["活跃群"]["messages_30d"]) == (2, 10)
    # When WeCom's per-owner statistics are pulled for yesterday, the owner's row carries them
    yesterday = today - timedelta(days=1)
    fake.statistics[("xiaomei", _epoch(yesterday, 0))] = {"chat_total": 2, "chat_has_msg": 1, "member_total": 8,
                                                          "member_has_msg": 2, "msg_total": 45, "new_member_cnt": 0}
    pulled = api.post("/v1/groups/statistics/pull", json={"config_id": config["id"], "start": yesterday.isoformat(),
                                                          "end": yesterday.isoformat()})
    assert pulled.json() == {"owners": 1, "days": 1, "rows": 1}
    owner = api.get("/v1/groups/health/owners").json()
    assert owner == [{"owner_userid": "xiaomei", "groups": 2, "members": 8, "joins_30d": 4, "quits_30d": 1,
                      "silent_groups": 1, "wecom_messages_30d": 45, "wecom_member_total": 8,
                      "wecom_speakers_per_day": 2.0}]
    too_long = api.post("/v1/groups/statistics/pull", json={"config_id": config["id"], "start": "2026-01-01",
                                                            "end": "2026-06-01"})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "end"
