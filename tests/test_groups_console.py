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
