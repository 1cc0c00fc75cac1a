"""Group console pages in Chinese and English: groups with health, one group's members, group QR codes."""

from tests.helpers.console import signed_in
from tests.helpers.groups import group_brand


def test_group_pages_in_chinese_and_english(app, api, tenant):
    with group_brand(api) as (groups, code):
        client = signed_in(app, tenant.key)
        listing = client.get("/console/groups")
        assert listing.status_code == 200 and "客户群" in listing.text and "静安宝妈群" in listing.text
        # the silent group comes first and is flagged; the lively one shows who spoke
        assert listing.text.index("沉睡老客群") < listing.text.index("静安宝妈群")
        assert "沉默" in listing.text and "40%" in listing.text  # 2 of 5 members (owner included) spoke
        silent = client.get("/console/groups", params={"silent": "true"}).text
        assert "沉睡老客群" in silent and "静安宝妈群" not in silent
        detail = client.get(f"/console/groups/{groups['wrHot']}").text
        assert "每周三福利" in detail and "扫码入群" in detail and "door" in detail and "5 位成员" in detail
        codes = client.get("/console/groups/codes").text
        assert "门口海报" in codes and "静安宝妈群、沉睡老客群" in codes and "满员自动建群" in codes
        assert client.get("/console/groups/999999").status_code == 404
        client.get("/console/language?to=en")
        english = client.get("/console/groups").text
        assert "Customer groups" in english and "Silent" in english and "Spoke in 7 days" in english
        assert "Group QR codes" in client.get("/console/groups/codes").text


def test_a_group_code_is_created_from_the_console_and_the_five_group_rule_is_named(app, api, tenant):
    with group_brand(api) as (groups, code):
        client = signed_in(app, tenant.key)
        config = api.get("/v1/messaging/channels").json()[0]["id"]
        base = {"config_id": str(config), "name": "店内台卡", "state": "table-card", "auto_create_room": "1",
                "room_base_name": "静安福利群"}
        six = client.post("/console/groups/codes", data={**base, "group_ids": [str(groups["wrHot"]),
                                                                                str(groups["wrCold"]), "1", "2", "3",
                                                                                "4"]})
        assert six.status_code == 422 and "最多只能放 5 个群" in six.text
        bad = client.post("/console/groups/codes", data={**base, "state": "台卡", "group_ids": [str(groups["wrHot"])]})
        assert bad.status_code == 422 and "最多 30 个字母" in bad.text
        made = client.post("/console/groups/codes", data={**base, "group_ids": [str(groups["wrHot"])],
                                                          "welcome_text": "欢迎入群，回复“茶”领试饮券"},
                           follow_redirects=False)
        assert made.status_code == 303, made.text
        page = client.get("/console/groups/codes").text
        assert "店内台卡" in page and "table-card" in page and "入群后下单" in page and "欢迎语：欢迎入群" in page


def test_the_library_page_adds_folders_and_materials_and_names_what_a_kind_needs(app, api, tenant):
    with group_brand(api):
        client = signed_in(app, tenant.key)
        assert client.post("/console/groups/library/folders", data={"name": "开场话术"},
                           follow_redirects=False).status_code == 303
        twice = client.post("/console/groups/library/folders", data={"name": "开场话术"})
        assert twice.status_code == 422 and "已有同名文件夹" in twice.text
        folder = api.get("/v1/library/folders").json()[0]["id"]
        no_price = client.post("/console/groups/library/materials", data={"kind": "product", "title": "龙井礼盒",
                                                                           "url": "https://shop.example/lj"})
        assert no_price.status_code == 422 and "商品卡片需要价格" in no_price.text
        made = client.post("/console/groups/library/materials", data={
            "kind": "product", "title": "龙井礼盒", "url": "https://shop.example/lj", "price_fen": "298",
            "folder_id": str(folder), "tags": "新品，礼盒"}, follow_redirects=False)
        assert made.status_code == 303, made.text
        material = api.get("/v1/library/materials").json()[0]
        assert (material["price_fen"], material["tags"], material["folder_id"]) == (29800, ["新品", "礼盒"], folder)
        page = client.get("/console/groups/library", params={"tag": "新品"}).text
        assert "龙井礼盒" in page and "¥298.00" in page and "商品卡片" in page and "带来回复和下单" in page
        client.get("/console/language?to=en")
        assert "Materials and scripts" in client.get("/console/groups/library").text


def test_group_sends_and_moments_from_the_console_with_the_rules_named(app, api, tenant):
    with group_brand(api) as (groups, code):
        client = signed_in(app, tenant.key)
        config = str(api.get("/v1/messaging/channels").json()[0]["id"])
        script = api.post("/v1/library/materials", json={"kind": "text", "title": "周三茶课",
                                                         "text": "今晚八点茶课直播"}).json()
        made = client.post("/console/groups/sends", data={"config_id": config, "group_ids": [str(groups["wrHot"])],
                                                          "material_id": str(script["id"])}, follow_redirects=False)
        assert made.status_code == 303, made.text
        again = client.post("/console/groups/sends", data={"config_id": config, "group_ids": [str(groups["wrHot"])],
                                                           "text": "再发一次"})
        assert again.status_code == 422 and "每个群每天只能收到一次群发" in again.text
        empty = client.post("/console/groups/sends", data={"config_id": config, "group_ids": [str(groups["wrCold"])]})
        assert empty.status_code == 422 and "请填写消息或选择素材" in empty.text
        listing = client.get("/console/groups/sends").text
        assert "今晚八点茶课直播" in listing and "静安宝妈群：待确认" in listing and "小美" in listing
        for n in range(3):
            posted = client.post("/console/groups/moments", data={"config_id": config, "text": f"春茶上新 {n}",
                                                                   "staff_userids": ["xiaomei"]},
                                 follow_redirects=False)
            assert posted.status_code == 303, posted.text
        fourth = client.post("/console/groups/moments", data={"config_id": config, "material_id": str(script["id"]),
                                                              "staff_userids": ["xiaomei"]})
        assert fourth.status_code == 422 and "每天最多看到企业的 3 条朋友圈" in fourth.text
        calendar = client.get("/console/groups/moments").text
        assert "3 条" in calendar and "春茶上新 2" in calendar and "moments-calendar" in calendar
        assert "上个月" in client.get("/console/groups/moments", params={"month": "2020-02"}).text


def test_an_inbox_reply_from_the_library_is_a_use_and_the_customer_writing_back_is_its_reply(app, api, tenant):
    config = api.post("/v1/messaging/channels", json={"kind": "null", "name": "Chat"}).json()
    asked = {"channel_id": config["id"], "identity_kind": "phone", "identity_value": "13811112222"}
    thread = api.post("/v1/inbox/messages", json={**asked, "body": "请问几点开门？"}).json()
    script = api.post("/v1/library/materials", json={"kind": "text", "title": "营业时间话术",
                                                     "text": "您好，我们每天 10 点开门，欢迎光临"}).json()
    client = signed_in(app, tenant.key)
    page = client.get(f"/console/inbox/{thread['id']}").text
    assert "从素材库选择" in page and 'data-text="您好，我们每天 10 点开门，欢迎光临"' in page
    sent = client.post(f"/console/inbox/{thread['id']}/replies", data={"body": "", "material_id": str(script["id"])},
                       follow_redirects=False)
    assert sent.status_code == 303, sent.text
    assert "您好，我们每天 10 点开门，欢迎光临" in client.get(f"/console/inbox/{thread['id']}").text
    report = api.get("/v1/library/report").json()
    assert [(r["title"], r["uses"], r["customers"], r["replied"]) for r in report] == [("营业时间话术", 1, 1, 0)]
    # When the customer writes back, the script led to a reply
    api.post("/v1/inbox/messages", json={**asked, "body": "好的，谢谢"})
    assert api.get("/v1/library/report").json()[0]["replied"] == 1
