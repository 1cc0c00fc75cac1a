"""Group operations against the local WeCom peer: a welcome through the group code, and messages to customer groups
that the owner confirms in WeCom (a staff task), with WeCom's result per group."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom
from yutang.groups import tasks as groups_tasks


@pytest.fixture
def world(api):
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        store = api.post("/v1/stores", json={"code": "jingan", "name": "静安店"}).json()
        for name, userid in (("小美", "xiaomei"), ("小李", "xiaoli")):
            member = api.post("/v1/members", json={"name": name, "role": "guide"}).json()["member"]["id"]
            api.post("/v1/stores/staff", json={"name": name, "member_id": member, "wecom_userid": userid,
                                               "store_id": store["id"]})
        config = api.post("/v1/messaging/channels", json={
            "kind": "wecom", "name": "WeCom", "settings": {"corp_id": fake.corp_id, "base_url": url},
            "secrets": {"corp_secret": fake.secret}}).json()
        row = {"type": 2, "join_time": 1_700_000_000, "join_scene": 3}
        fake.add_chat("wrA", owner="xiaomei", name="宝妈群", members=[{**row, "userid": "wmA"}])
        fake.add_chat("wrB", owner="xiaomei", name="尝鲜群", members=[{**row, "userid": "wmB"}])
        fake.add_chat("wrC", owner="xiaoli", name="老客群", members=[{**row, "userid": "wmC"}])
        fake.add_chat("wrX", owner="xiaoxin", name="无主群")  # an owner who is not among the staff
        assert api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]}).status_code == 200
        groups = {g["chat_id"]: g["id"] for g in api.get("/v1/groups").json()}
        yield fake, config["id"], groups


def test_a_group_send_is_a_task_for_the_owner_and_results_come_back_per_group(api, world):
    fake, config, groups = world
    at = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    made = api.post("/v1/groups/sends", json={"config_id": config, "group_ids": [groups["wrA"], groups["wrB"]],
                                              "text": "今晚八点茶课直播，群内抽奖", "send_at": at})
    assert made.status_code == 201, made.text
    send = made.json()
    body = fake.templates[send["msgid"]]["body"]
    assert (body["chat_type"], body["sender"], body["chat_id_list"]) == ("group", "xiaomei", ["wrA", "wrB"])
    assert send["status"] == "waiting" and set(send["results"].values()) == {"waiting"}
    task = api.get(f"/v1/stores/tasks/{send['task_id']}").json()
    assert task["status"] == "open" and "确认群发" in task["title"] and task["due_at"].startswith(at[:16])
    # Before the owner confirms, a sync changes nothing
    assert api.post(f"/v1/groups/sends/{send['id']}/sync").json()["status"] == "waiting"
    # When she confirms and one group had had a group send that day already, each group's result is kept
    confirmed = int(datetime.now(UTC).timestamp())
    fake.confirm(send["msgid"], at=confirmed, statuses={"wrB": 3})
    synced = api.post(f"/v1/groups/sends/{send['id']}/sync").json()
    assert synced["status"] == "sent" and synced["results"] == {str(groups["wrA"]): "sent",
                                                                str(groups["wrB"]): "already_received"}
    assert api.get(f"/v1/stores/tasks/{send['task_id']}").json()["status"] == "done"
    assert [s["id"] for s in api.get("/v1/groups/sends").json()] == [send["id"]]


def test_group_send_rules_are_named_before_wecom_is_asked(api, world):
    fake, config, groups = world
    base = {"config_id": config, "text": "福利"}
    mixed = api.post("/v1/groups/sends", json={**base, "group_ids": [groups["wrA"], groups["wrC"]]})
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "group_ids[1]"
    assert "one owner" in mixed.json()["detail"]
    orphan = api.post("/v1/groups/sends", json={**base, "group_ids": [groups["wrX"]]})
    assert orphan.status_code == 422 and "not among the staff" in orphan.json()["detail"]
    past = api.post("/v1/groups/sends", json={**base, "group_ids": [groups["wrA"]], "send_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "send_at"
    assert fake.templates == {}
    assert api.post("/v1/groups/sends", json={**base, "group_ids": [groups["wrA"]]}).status_code == 201
    twice = api.post("/v1/groups/sends", json={**base, "group_ids": [groups["wrB"], groups["wrA"]]})
    assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "group_ids[1]"
    assert "a group a day" in twice.json()["detail"] and len(fake.templates) == 1
    # A WeCom refusal is named and nothing is kept
    fake.fail_next["/add_msg_template"] = [40058]
    refused = api.post("/v1/groups/sends", json={**base, "group_ids": [groups["wrC"]]})
    assert refused.status_code == 502 and "40058" in refused.json()["detail"]
    assert len(api.get("/v1/groups/sends").json()) == 1


def test_a_group_code_welcome_is_a_wecom_group_welcome_and_a_refusal_leaves_nothing(api, world):
    fake, config, groups = world
    body = {"config_id": config, "name": "门口海报", "state": "door", "group_ids": [groups["wrA"]],
            "room_base_name": "福利群", "welcome_text": "欢迎入群！每周三晚八点茶课直播～"}
    made = api.post("/v1/groups/codes", json=body)
    assert made.status_code == 201, made.text
    code = made.json()
    assert fake.welcome_templates[code["welcome_template_id"]]["text"]["content"] == body["welcome_text"]
    fake.fail_next["/group_welcome_template/add"] = [40058]
    refused = api.post("/v1/groups/codes", json={**body, "state": "door2"})
    assert refused.status_code == 502 and refused.json()["errors"][0]["field"] == "welcome_text"
    assert len(fake.join_ways) == 1 and len(api.get("/v1/groups/codes").json()) == 1


def test_a_moments_post_is_created_tracked_per_staff_member_and_capped_at_three_a_day(api, world):
    fake, config, _ = world
    fake.groups.append({"group_id": "etG", "group_name": "兴趣", "tag": [{"id": "etTea", "name": "茶友"}]})
    body = {"config_id": config, "text": "春茶上新，到店试饮", "link_title": "春茶礼盒", "link_url": "https://shop.example/spring",
            "staff_userids": ["xiaomei", "xiaoli"], "tag_ids": ["etTea", "etGone"]}
    made = api.post("/v1/groups/moments", json=body)
    assert made.status_code == 201, made.text
    post = made.json()
    sent = fake.moments[post["jobid"]]["body"]
    assert sent["visible_range"] == {"sender_list": {"user_list": ["xiaomei", "xiaoli"]},
                                     "external_contact_list": {"tag_list": ["etTea", "etGone"]}}
    assert sent["attachments"] == [{"msgtype": "link", "link": {"title": "春茶礼盒",
                                                                "url": "https://shop.example/spring"}}]
    assert post["status"] == "creating" and post["moment_id"] is None
    # When WeCom's job is done and one guide published it, the post is tracked per staff member
    fake.publish_moment(post["jobid"], "xiaomei", comments=2, likes=5)
    synced = api.post(f"/v1/groups/moments/{post['id']}/sync").json()
    assert synced["status"] == "created" and synced["moment_id"] == fake.moments[post["jobid"]]["moment_id"]
    assert synced["invalid"] == {"staff_userids": [], "tag_ids": ["etGone"]}
    assert synced["results"] == {"xiaomei": {"published": True, "comments": 2, "likes": 5},
                                 "xiaoli": {"published": False, "comments": 0, "likes": 0}}
    # Bad input is named; a fourth post on one day is refused before WeCom is asked
    half = api.post("/v1/groups/moments", json={**body, "link_url": None})
    assert half.status_code == 422 and half.json()["errors"][0]["field"] == "link_url"
    bad = api.post("/v1/groups/moments", json={**body, "link_url": "ftp://x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "link_url"
    for _ in range(2):
        assert api.post("/v1/groups/moments", json=body).status_code == 201
    fourth = api.post("/v1/groups/moments", json=body)
    assert fourth.status_code == 409 and "at most 3" in fourth.json()["detail"]
    assert len(fake.moments) == 3 and len(api.get("/v1/groups/moments").json()) == 3


def test_a_moments_post_wecom_refuses_is_named_and_not_kept(api, world):
    fake, config, _ = world
    fake.fail_next["/add_moment_task"] = [40058]
    refused = api.post("/v1/groups/moments", json={"config_id": config, "text": "福利", "staff_userids": ["xiaomei"]})
    assert refused.status_code == 502 and "40058" in refused.json()["detail"]
    assert api.get("/v1/groups/moments").json() == []


def test_the_nightly_job_reads_waiting_sends_and_recent_posts(api, world, database, tenant):
    fake, config, groups = world
    send = api.post("/v1/groups/sends", json={"config_id": config, "group_ids": [groups["wrC"]], "text": "福利"}).json()
    post = api.post("/v1/groups/moments", json={"config_id": config, "text": "上新",
                                               "staff_userids": ["xiaoli"]}).json()
    fake.confirm(send["msgid"])
    fake.publish_moment(post["jobid"], "xiaoli", likes=1)
    assert groups_tasks.sync_waiting(database.factory, actor=tenant.actor) == 2
    assert api.get(f"/v1/groups/sends/{send['id']}").json()["status"] == "sent"
    assert api.get(f"/v1/groups/moments/{post['id']}").json()["results"]["xiaoli"]["likes"] == 1
