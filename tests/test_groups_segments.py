"""Group membership in the warehouse: Group Joined / Group Left events, segments over groups, the timeline."""

import time
from datetime import datetime

import pytest

from tests.helpers.console import signed_in
from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom

DAY = 86_400


@pytest.fixture
def groups(api):
    """Two owners' groups: wmA in 宝妈群 (joined 3 days ago, by the poster), wmB in 宝妈群 long ago and in 老客群,
    wmC in 老客群 only; wmD was in 老客群 and left."""
    fake = FakeWeCom()
    now = int(time.time())
    with serve(fake.app()) as url:
        config = api.post("/v1/messaging/channels", json={
            "kind": "wecom", "name": "WeCom", "settings": {"corp_id": fake.corp_id, "base_url": url},
            "secrets": {"corp_secret": fake.secret}}).json()

        def row(userid, days_ago, state=""):
            return {"userid": userid, "type": 2, "join_time": now - days_ago * DAY, "join_scene": 3,
                    **({"state": state} if state else {})}

        fake.add_chat("wrMom", owner="xiaomei", name="宝妈群", members=[row("wmA", 3, "poster"), row("wmB", 60)])
        fake.add_chat("wrOld", owner="xiaoli", name="老客群",
                      members=[row("wmB", 90), row("wmC", 90), row("wmD", 90)])
        assert api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]}).status_code == 200
        fake.quit_chat("wrOld", "wmD")
        assert api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]}).json()["left"] == 1
        ids = {}
        for userid in ("wmA", "wmB", "wmC", "wmD"):
            found = api.get("/v1/customers", params={"identity": f"wecom_external_userid:{userid}"}).json()
            ids[userid] = found["items"][0]["id"]
        ids["nobody"] = api.post("/v1/customers", json={"identities": [{"kind": "phone", "value": "13800000001"}]}
                                 ).json()["customer"]["id"]
        chats = {g["chat_id"]: g["id"] for g in api.get("/v1/groups").json()}
        yield ids, chats


def _who(api, ids, rule):
    answer = api.post("/v1/segments/preview", json={"rule": rule, "sample_size": 50})
    assert answer.status_code == 200, answer.text
    by_id = {v: k for k, v in ids.items()}
    return {by_id[c["id"] if isinstance(c, dict) else c] for c in answer.json()["sample"]}


def test_segments_select_by_group_owner_join_time_and_no_group(api, groups):
    ids, chats = groups
    assert _who(api, ids, {"type": "group", "group_ids": [chats["wrMom"]]}) == {"wmA", "wmB"}
    assert _who(api, ids, {"type": "group", "owner_userid": "xiaoli"}) == {"wmB", "wmC"}  # wmD left
    assert _who(api, ids, {"type": "group", "joined_within_days": 7}) == {"wmA"}
    assert _who(api, ids, {"type": "group"}) == {"wmA", "wmB", "wmC"}
    assert _who(api, ids, {"type": "group", "in_group": False}) == {"wmD", "nobody"}
    assert _who(api, ids, {"all": [{"type": "group", "group_ids": [chats["wrOld"]]},
                                   {"not": {"type": "group", "owner_userid": "xiaomei"}}]}) == {"wmC"}


def test_bad_group_conditions_name_the_field(api, groups):
    answer = api.post("/v1/segments/preview", json={"rule": {"type": "group", "joined_within_days": 0}})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "rule.joined_within_days"
    answer = api.post("/v1/segments/preview", json={"rule": {"type": "group", "group_ids": []}})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"].startswith("rule.group_ids")


def test_joins_and_quits_are_events_on_the_timeline_at_their_own_time(api, groups):
    ids, chats = groups
    events = api.get(f"/v1/customers/{ids['wmD']}/timeline", params={"kind": "event"}).json()["items"]
    named = [(e["name"], e["detail"]["properties"]["group_id"]) for e in events]
    assert named == [("Group Left", chats["wrOld"]), ("Group Joined", chats["wrOld"])]
    joined = api.get(f"/v1/customers/{ids['wmA']}/timeline", params={"kind": "event"}).json()["items"]
    props = joined[0]["detail"]["properties"]
    assert (joined[0]["name"], props["state"], props["join_scene"], props["owner_userid"]) == (
        "Group Joined", "poster", 3, "xiaomei")
    assert time.time() - 3 * DAY - 5 < _epoch(joined[0]["at"]) < time.time() - 3 * DAY + 5


def _epoch(text):
    return datetime.fromisoformat(text).timestamp()


def test_the_console_timeline_and_builder_speak_of_groups(app, api, tenant, groups):
    ids, chats = groups
    client = signed_in(app, tenant.key)
    page = client.get(f"/console/customers/{ids['wmA']}/timeline", params={"kind": "event"})
    assert page.status_code == 200 and "加入客户群" in page.text and "宝妈群" in page.text and "poster" in page.text
    builder = client.post("/console/segments/builder", data={"rows": "1", "type_0": "group"})
    assert "宝妈群" in builder.text and "xiaoli" in builder.text and "群主" in builder.text
    preview = client.post("/console/segments/preview", data={
        "rows": "1", "type_0": "group", "inside_0": "in_group", "group_ids_0": str(chats["wrMom"]), "days_0": "7"})
    assert preview.status_code == 200 and "1" in preview.text
    bad = client.post("/console/segments/preview", data={"rows": "1", "type_0": "group", "days_0": "0"})
    assert "最近" in bad.text  # the joined-within field named in Chinese
    saved = client.post("/console/segments", data={
        "name": "新入群宝妈", "rows": "1", "type_0": "group", "group_ids_0": str(chats["wrMom"]), "days_0": "7"})
    assert saved.status_code == 200 and "在客户群 宝妈群 之一中（最近 7 天内入群）" in saved.text
