"""Store pages on a phone-sized screen in headless Chromium: plan a hand-over, download a code's QR image."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.helpers.stores import store_brand

pytestmark = pytest.mark.browser


def test_hand_over_and_codes_at_390px(live_server, console_assets, browser, app, tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    _, code, _ = store_brand(api)
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, tenant.key, next="/console/stores/handovers")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_label("交出人").select_option(label="小美")
    page.get_by_label("接替人").select_option(label="小美")
    page.get_by_role("button", name="生成交接计划").click()
    expect(page.locator("small.error")).to_contain_text("交接对象须是另一位员工")  # the same person: refused
    page.get_by_label("交出人").select_option(label="小美")
    page.get_by_label("接替人").select_option(label="小丽")
    page.get_by_label("给客户的交接语（在职继承，最多 200 字）").fill("小丽将继续为您服务")
    page.get_by_role("button", name="生成交接计划").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("tbody")).to_contain_text("待发送")
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    page.goto(f"{live_server}/console/stores/codes")
    with page.expect_download() as download:
        page.locator(f"#code-{code['id']}").get_by_role("link", name="下载").click()
    assert download.value.suggested_filename == "jingan-door.png"
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    assert not failures, failures
    context.close()


def test_guide_performance_with_a_target_at_390px(live_server, console_assets, browser, app, tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    _, _, customer = store_brand(api)
    paid = "2026-11-10T12:00:00+08:00"
    api.post("/v1/orders", json={
        "external_id": "K1", "channel": "store.jingan", "status": "completed", "placed_at": paid, "paid_at": paid,
        "customer_id": customer, "lines": [{"sku": "TEA", "quantity": 1, "unit_price_fen": 1_500_000}]})
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, tenant.key, next="/console/stores/kpis?since=2026-11-01&until=2026-11-30")
    expect(page.locator("h1")).to_have_text("导购业绩")
    expect(page.locator("#leaderboard tbody tr").first).to_contain_text("小美")
    form = page.locator("#targets form")
    form.get_by_label("导购").select_option(label="小美")
    form.get_by_label("月", exact=True).fill("2026-11")
    form.get_by_label("新增好友").fill("30")
    form.get_by_label("归属成交额（元）").fill("三万")
    form.get_by_role("button", name="保存目标").click()
    expect(page.locator("#targets small.error")).to_contain_text("请填写金额")
    form = page.locator("#targets form")
    form.get_by_label("导购").select_option(label="小美")
    form.get_by_label("月", exact=True).fill("2026-11")
    form.get_by_label("归属成交额（元）").fill("30000")
    form.get_by_role("button", name="保存目标").click()
    row = page.locator("#leaderboard tbody tr", has_text="小美")
    expect(row).to_contain_text("¥15,000.00")
    expect(row).to_contain_text("¥30,000.00")
    expect(row).to_contain_text("50.0%")
    expect(page.locator("#targets tbody")).to_contain_text("¥30,000.00")
    page.get_by_label("统计维度").select_option(label="门店")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#leaderboard tbody tr").first).to_contain_text("静安店")
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    assert not failures, failures
    context.close()
