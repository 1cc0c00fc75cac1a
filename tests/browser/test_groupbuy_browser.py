"""Group-buy pages on a phone-sized screen in headless Chromium: the live list with masked names, the cut-off, the
pick list and handing over with a pick-up code (twice refused)."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.helpers.customers import post_customer

pytestmark = pytest.mark.browser


def test_live_list_cut_off_and_verification_at_390px(live_server, console_assets, browser, app, tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    point = api.post("/v1/groupbuys/points", json={"name": "幸福里自提点"}).json()["id"]
    groupbuy = api.post("/v1/groupbuys", json={
        "title": "周五吐司接龙", "deposit_kind": "earnest", "starts_at": "2020-01-01T00:00:00Z",
        "cutoff_at": "2099-01-01T00:00:00Z", "production_date": "2099-01-02",
        "items": [{"sku": "LOAF", "name": "北海道吐司", "price_fen": 1500, "deposit_fen": 300, "minimum": 2}]}).json()
    api.post(f"/v1/groupbuys/{groupbuy['id']}/publish")
    entry = api.post(f"/v1/groupbuys/{groupbuy['id']}/entries", json={
        "request_key": "b1", "customer_id": post_customer(api, "王小明"), "point_id": point,
        "lines": [{"item_id": groupbuy["items"][0]["id"], "quantity": 2}]}).json()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, tenant.key, next="/console/groupbuys")
    expect(page.locator("#groupbuys")).to_contain_text("周五吐司接龙")
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    page.get_by_role("link", name="周五吐司接龙").click()
    expect(page.locator("#entries")).to_contain_text("王*")
    expect(page.locator("#entries")).not_to_contain_text("王小明")
    # Before the cut-off a code is refused with the reason
    page.get_by_label("提货码").fill(entry["code"])
    page.get_by_role("button", name="核销").click()
    expect(page.locator("small.error")).to_contain_text("尚未截单")
    page.get_by_role("button", name="立即截单").click()
    expect(page.locator("#items")).to_contain_text("成团")
    expect(page.locator("#picks")).to_contain_text("幸福里自提点")
    page.get_by_label("提货码").fill(entry["code"])
    page.get_by_role("button", name="核销").click()
    expect(page.locator("p.notice")).to_contain_text("第 1 号已核销")
    page.get_by_label("提货码").fill(entry["code"])
    page.get_by_role("button", name="核销").click()
    expect(page.locator("small.error")).to_contain_text("已核销过")
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    assert not failures, failures
    context.close()
