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
