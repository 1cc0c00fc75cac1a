"""The referral page on a phone-sized screen in headless Chromium: programmes with their tree figures, a flagged
referral with why, the ledger's accounts and a payout batch."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.helpers.customers import post_customer

pytestmark = pytest.mark.browser


def test_referral_page_at_390px(live_server, console_assets, browser, app, tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    api.post("/v1/channels", json={"code": "mp", "name": "小程序商城", "kind": "mini_program"})
    programme = api.post("/v1/referral/programmes", json={"name": "老带新 · 春茶季"}).json()
    inviter, friend = post_customer(api, "老客"), post_customer(api, "新客")
    code = api.post(f"/v1/referral/programmes/{programme['id']}/codes", json={"customer_id": inviter}).json()
    api.post("/v1/referral/touches", json={"code": code["code"], "customer_id": friend})
    back = api.post(f"/v1/referral/programmes/{programme['id']}/codes", json={"customer_id": friend}).json()
    flagged = api.post("/v1/referral/touches", json={"code": back["code"], "customer_id": inviter}).json()
    distribution = api.post("/v1/referral/programmes", json={"name": "KOC 分销", "kind": "distribution", "config": {
        "commission_depth": 1, "rates_bp": [1000]}}).json()
    koc = api.post("/v1/referral/distributors", json={"programme_id": distribution["id"],
                                                      "customer_id": post_customer(api, "阿青")}).json()
    api.patch(f"/v1/referral/distributors/{koc['id']}", json={"status": "approved"})
    buyer = post_customer(api, "买家")
    api.post("/v1/referral/bindings", json={"code": koc["code"], "customer_id": buyer, "at": "2026-01-01T00:00:00Z"})
    order = api.post("/v1/orders", json={
        "external_id": "B-1", "channel": "mp", "status": "paid", "placed_at": "2026-01-02T00:00:00Z",
        "customer_id": buyer, "paid_fen": 20000, "total_fen": 20000,
        "lines": [{"sku": "OT-002", "quantity": 1, "unit_price_fen": 20000}]}).json()
    api.post(f"/v1/referral/orders/{order['id']}/commissions")
    api.post("/v1/commissions/release")
    api.post("/v1/commissions/batches", json={"withholding_bp": 2000})

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, tenant.key, next="/console/referral")
    expect(page.locator("h1")).to_have_text("推荐分销")
    expect(page.locator(f"#programme-{programme['id']}")).to_contain_text("老带新 · 春茶季")
    expect(page.locator(f"#programme-{distribution['id']}")).to_contain_text("分销")
    expect(page.locator(f"#flagged-{flagged['id']}")).to_contain_text("循环邀请")
    expect(page.locator("#accounts tbody tr")).to_have_count(1)
    expect(page.locator("#accounts tbody tr").first).to_contain_text("分销员")
    expect(page.locator("#accounts tbody tr").first).to_contain_text("¥20.00")  # 10% of 200 yuan, paid out
    expect(page.locator("#batches tbody tr").first).to_contain_text("¥4.00")  # 20% withheld
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    page.get_by_role("link", name="推荐分销").first.click()
    expect(page.locator("h1")).to_have_text("推荐分销")
    assert not failures, failures
    context.close()
