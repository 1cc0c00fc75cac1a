"""A small groups world built through the API against the local WeCom peer, for console and browser tests."""

from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom


@contextmanager
def group_brand(api):
    """A guide's lively group and silent group synced from the peer, the lively one's talk, and a group code."""
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        store = api.post("/v1/stores", json={"code": "jingan", "name": "静安店"}).json()
        member = api.post("/v1/members", json={"name": "小美", "role": "guide"}).json()["member"]["id"]
        api.post("/v1/stores/staff", json={"name": "小美", "member_id": member, "wecom_userid": "xiaomei",
                                           "store_id": store["id"]})
        config = api.post("/v1/messaging/channels", json={
            "kind": "wecom", "name": "企业微信", "settings": {"corp_id": fake.corp_id, "base_url": url},
            "secrets": {"corp_secret": fake.secret}}).json()
        row = {"type": 2, "join_time": 1_700_000_000, "join_scene": 3, "state": "door"}
        fake.add_chat("wrHot", owner="xiaomei", name="静安宝妈群", notice="每周三福利",
                      members=[{**row, "userid": f"wmH{n}"} for n in range(4)])
        fake.add_chat("wrCold", owner="xiaomei", name="沉睡老客群", members=[{**row, "userid": "wmC1"}])
        assert api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]}).status_code == 200
        groups = {g["chat_id"]: g["id"] for g in api.get("/v1/groups").json()}
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        api.post(f"/v1/groups/{groups['wrHot']}/activity", json={
            "day": (today - timedelta(days=1)).isoformat(), "messages": 30, "speakers": ["wmH0", "wmH1"]})
        code = api.post("/v1/groups/codes", json={"config_id": config["id"], "name": "门口海报", "state": "door",
                                                  "group_ids": [groups["wrHot"], groups["wrCold"]],
                                                  "room_base_name": "静安福利群"})
        assert code.status_code == 201, code.text
        yield groups, code.json()
