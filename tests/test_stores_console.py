"""Store console pages in Chinese and English: stores, staff, codes with their QR image, hand-overs, the archive."""

from tests.helpers.console import signed_in
from tests.helpers.stores import store_brand


def test_store_pages_in_chinese_and_english(app, api, tenant):
    store, code, customer = store_brand(api)
    client = signed_in(app, tenant.key)
    stores = client.get("/console/stores")
    assert stores.status_code == 200 and "静安店" in stores.text and "营业时间" in stores.text
    assert "10:00-22:00" in stores.text
    staff = client.get("/console/stores/staff").text
    assert "xiaomei" in staff and "今日离职" in staff
    codes = client.get("/console/stores/codes").text
    assert "门口海报" in codes and "渠道活码" in codes and f"/console/stores/codes/{code['id']}/qr.png" in codes
    png = client.get(f"/console/stores/codes/{code['id']}/qr.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert "jingan-door.png" in png.headers["content-disposition"]
    handovers = client.get("/console/stores/handovers").text
    assert "待发送" in handovers and "非企业微信好友 1" in handovers and "提交企业微信" in handovers
    archive = client.get(f"/console/customers/{customer}").text
    assert "归属导购" in archive and "首次添加" in archive and "小美" in archive
    client.get("/console/language?to=en")
    english = client.get("/console/stores/handovers").text
    assert "Planned" in english and "Not a WeCom contact 1" in english and "Loss rate" in english


def test_store_forms_name_the_field_at_fault(app, api, tenant):
    store_brand(api)
    client = signed_in(app, tenant.key)
    bad = client.post("/console/stores", data={"code": "Bad Code", "name": "x"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    made = client.post("/console/stores", data={"code": "xuhui", "name": "徐汇店", "region": "华东"},
                       follow_redirects=False)
    assert made.status_code == 303
    assert [s["code"] for s in api.get("/v1/stores").json()] == ["jingan", "xuhui"]
    nowhere = client.post("/console/stores/staff", data={"name": "阿杰"})
    assert nowhere.status_code == 422 and "门店" in nowhere.text
