"""The library of materials and scripts: folders and materials, materials in group sends and Moments against the
local WeCom peer, use records, and the report of which material leads to replies and orders."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.tenants import bearer
from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom
from yutang.groups import service as groups_service
from yutang.groups.schemas import UseIn


@pytest.fixture
def world(api):
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        store = api.post("/v1/stores", json={"code": "jingan", "name": "静安店"}).json()
        staff, keys = {}, {}
        for name, userid in (("小美", "xiaomei"), ("小李", "xiaoli")):
            body = api.post("/v1/members", json={"name": name, "role": "guide"}).json()
            member, keys[userid] = body["member"]["id"], bearer(body["api_key"]["secret"])
            staff[userid] = api.post("/v1/stores/staff", json={"name": name, "member_id": member,
                                                               "wecom_userid": userid,
                                                               "store_id": store["id"]}).json()["id"]
        config = api.post("/v1/messaging/channels", json={
            "kind": "wecom", "name": "WeCom", "settings": {"corp_id": fake.corp_id, "base_url": url},
            "secrets": {"corp_secret": fake.secret}}).json()
        row = {"type": 2, "join_time": 1_700_000_000, "join_scene": 3}
        fake.add_chat("wrA", owner="xiaomei", name="宝妈群", members=[{**row, "userid": "wmA"}])
        fake.add_chat("wrC", owner="xiaoli", name="老客群", members=[{**row, "userid": "wmC"}])
        assert api.post("/v1/groups/wecom-sync", json={"config_id": config["id"]}).status_code == 200
        groups = {g["chat_id"]: g["id"] for g in api.get("/v1/groups").json()}
        yield fake, config["id"], groups, staff, keys


def _material(api, **body):
    made = api.post("/v1/library/materials", json=body)
    assert made.status_code == 201, made.text
    return made.json()


def test_materials_live_in_folders_with_tags_and_each_kind_needs_its_content(api):
    folder = api.post("/v1/library/folders", json={"name": "开场话术"}).json()
    assert api.post("/v1/library/folders", json={"name": "开场话术"}).status_code == 409
    script = _material(api, folder_id=folder["id"], kind="text", title="新客问候", text="您好，我是静安店的小美～",
                       tags=["新客", "问候", "新客"])
    assert script["tags"] == ["新客", "问候"]
    _material(api, kind="product", title="龙井礼盒", url="https://shop.example/lj", price_fen=29800,
              image_url="https://img.example/lj.png", tags=["新品"])
    _material(api, kind="miniprogram", title="会员中心", appid="wx1234abcd", page="pages/member/index")
    # What a kind needs is named on the field
    no_url = api.post("/v1/library/materials", json={"kind": "link", "title": "春茶"})
    assert no_url.status_code == 422 and no_url.json()["errors"][0]["field"] == "url"
    no_price = api.post("/v1/library/materials", json={"kind": "product", "title": "x", "url": "https://a.example"})
    assert no_price.status_code == 422 and no_price.json()["errors"][0]["field"] == "price_fen"
    bad_folder = api.post("/v1/library/materials", json={"kind": "text", "title": "x", "text": "y",
                                                         "folder_id": 999999})
    assert bad_folder.status_code == 404 and bad_folder.json()["errors"][0]["field"] == "folder_id"
    emptied = api.patch(f"/v1/library/materials/{script['id']}", json={"text": None})
    assert emptied.status_code == 422 and emptied.json()["errors"][0]["field"] == "text"
    # Filters: folder, tag, kind, words
    assert [m["title"] for m in api.get("/v1/library/materials", params={"folder_id": folder["id"]}).json()] \
        == ["新客问候"]
    assert [m["title"] for m in api.get("/v1/library/materials", params={"tag": "新品"}).json()] == ["龙井礼盒"]
    assert [m["title"] for m in api.get("/v1/library/materials", params={"q": "小美"}).json()] == ["新客问候"]
    folders = api.get("/v1/library/folders").json()
    assert [(f["name"], f["materials"]) for f in folders] == [("开场话术", 1)]
    # A folder with materials stays until they are archived; archived ones leave the pickers
    assert api.delete(f"/v1/library/folders/{folder['id']}").status_code == 409
    assert api.post(f"/v1/library/materials/{script['id']}/archive").json()["archived_at"] is not None
    assert api.get("/v1/library/materials", params={"folder_id": folder["id"]}).json() == []
    assert api.delete(f"/v1/library/folders/{folder['id']}").status_code == 204


def test_a_group_send_and_a_moments_post_take_a_material_and_record_its_uses(api, world):
    fake, config, groups, staff, _ = world
    script = _material(api, kind="text", title="茶课邀约", text="今晚八点茶课直播，群内抽奖")
    card = _material(api, kind="product", title="春茶礼盒", url="https://shop.example/spring", price_fen=19900)
    image = _material(api, kind="image", title="海报", image_url="https://img.example/p.png")
    made = api.post("/v1/groups/sends", json={"config_id": config, "group_ids": [groups["wrA"]],
                                              "material_id": script["id"]})
    assert made.status_code == 201, made.text
    assert fake.templates[made.json()["msgid"]]["body"]["text"]["content"] == "今晚八点茶课直播，群内抽奖"
    # Text and a material at once, an image (a WeCom attachment) or nothing at all are refused before WeCom
    both = api.post("/v1/groups/sends", json={"config_id": config, "group_ids": [groups["wrC"]], "text": "x",
                                              "material_id": script["id"]})
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "material_id"
    pic = api.post("/v1/groups/sends", json={"config_id": config, "group_ids": [groups["wrC"]],
                                             "material_id": image["id"]})
    assert pic.status_code == 422 and "attachment" in pic.json()["detail"]
    none = api.post("/v1/groups/sends", json={"config_id": config, "group_ids": [groups["wrC"]]})
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "text"
    assert len(fake.templates) == 1
    # A product card becomes the Moments post's text and link
    post = api.post("/v1/groups/moments", json={"config_id": config, "material_id": card["id"],
                                                "staff_userids": ["xiaomei", "xiaoli"]})
    assert post.status_code == 201, post.text
    assert fake.moments[post.json()["jobid"]]["body"]["attachments"] == [
        {"msgtype": "link", "link": {"title": "春茶礼盒", "url": "https://shop.example/spring"}}]
    assert post.json()["text"] == "春茶礼盒 ¥199.00"
    image_post = api.post("/v1/groups/moments", json={"config_id": config, "material_id": image["id"],
                                                      "staff_userids": ["xiaomei"]})
    assert image_post.status_code == 422 and image_post.json()["errors"][0]["field"] == "material_id"
    report = {(r["title"], r["staff_id"]): r for r in api.get("/v1/library/report").json()}
    assert report[("茶课邀约", staff["xiaomei"])]["uses"] == 1
    assert report[("茶课邀约", staff["xiaomei"])]["customers"] == 1  # wmA, in the group
    assert {report[("春茶礼盒", staff[u])]["uses"] for u in ("xiaomei", "xiaoli")} == {1}


def test_the_report_counts_replies_within_a_day_and_orders_within_a_week_per_staff_member(api, world, database,
                                                                                          tenant):
    fake, config, groups, staff, _ = world
    people = {u: api.get("/v1/customers", params={"identity": f"wecom_external_userid:{u}"}).json()["items"][0]["id"]
              for u in ("wmA", "wmC")}
    script = _material(api, kind="text", title="复购提醒", text="您上次买的龙井快喝完了吧？")
    used = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    with database.factory.begin() as session:
        for userid, customer in (("xiaomei", "wmA"), ("xiaoli", "wmC")):
            groups_service.record_uses(session, actor=tenant.actor, material_id=script["id"], at=used,
                                       data=UseIn(staff_id=staff[userid], customer_ids=[people[customer]],
                                                  channel="workbench"))
        groups_service.record_uses(session, actor=tenant.actor, material_id=script["id"], at=used,
                                   data=UseIn(staff_id=staff["xiaomei"], group_ids=[groups["wrC"]],
                                              channel="group_send"))
    # wmA writes back two hours later and pays on day 6; wmC writes after 30 hours and pays on day 8
    for userid, hours in (("wmA", 2), ("wmC", 30)):
        wrote = api.post("/v1/inbox/messages", json={
            "channel_id": config, "identity_kind": "wecom_external_userid", "identity_value": userid,
            "body": "好的", "received_at": (used + timedelta(hours=hours)).isoformat()})
        assert wrote.status_code == 201, wrote.text
    api.post("/v1/channels", json={"code": "mp", "name": "小程序商城", "kind": "mini_program"})
    for n, (userid, days) in enumerate((("wmA", 6), ("wmC", 8))):
        at = (used + timedelta(days=days)).isoformat()
        order = api.post("/v1/orders", json={
            "external_id": f"L{n}", "channel": "mp", "status": "paid", "placed_at": at, "paid_at": at,
            "customer_id": people[userid], "lines": [{"sku": "LJ", "quantity": 1, "unit_price_fen": 12800}]})
        assert order.status_code in (200, 201), order.text
    rows = {r["staff_id"]: r for r in api.get("/v1/library/report", params={"days": 30}).json()}
    mei, li = rows[staff["xiaomei"]], rows[staff["xiaoli"]]
    # 小美: one use to wmA (replied, ordered) and one to 老客群 (wmC in it; the order on day 8 is past the week)
    assert (mei["uses"], mei["customers"], mei["replied"], mei["ordered"], mei["order_fen"]) == (2, 2, 1, 1, 12800)
    # 小李: wmC wrote after the day and paid after the week
    assert (li["uses"], li["customers"], li["replied"], li["ordered"]) == (1, 1, 0, 0)
    assert [r["staff_id"] for r in api.get("/v1/library/report", params={"staff_id": staff["xiaoli"]}).json()] \
        == [staff["xiaoli"]]


def test_a_guide_records_uses_for_her_own_customers_only(api, world, client):
    fake, config, groups, staff, keys = world
    script = _material(api, kind="text", title="问候", text="您好")
    headers = keys["xiaomei"]
    someone = api.post("/v1/customers", json={
        "name": "路人", "identities": [{"kind": "app_user_id", "value": "p1"}]}).json()["customer"]["id"]
    refused = client.post(f"/v1/library/materials/{script['id']}/uses", headers=headers,
                          json={"customer_ids": [someone], "channel": "inbox"})
    assert refused.status_code == 404 and refused.json()["errors"][0]["field"] == "customer_ids[0]"
    assert client.post(f"/v1/library/materials/{script['id']}/uses", headers=headers,
                       json={"channel": "inbox"}).json() == {"uses": 1}
    assert api.get("/v1/library/report").json()[0]["staff_id"] == staff["xiaomei"]
    assert client.post("/v1/library/materials", headers=headers,
                       json={"kind": "text", "title": "x", "text": "y"}).status_code == 403

