"""An owner tightens the contact-pressure rules through the form, meets an error beside its field, and saves."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_owner_edits_caps_and_quiet_hours_at_390px(live_server, console_assets, browser, app, tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, tenant.key, next="/console/settings")
    page.get_by_role("link", name="触达频控").click()
    second = page.locator("#cap-1")
    second.get_by_label("规则名称").fill("sms_month")
    second.get_by_label("最多（条）").fill("三")
    second.get_by_label("时间窗（天）").fill("30")
    second.get_by_label("适用渠道").select_option("sms")
    page.get_by_label("开始").fill("21:30")
    page.get_by_role("button", name="保存规则").click()
    expect(page.locator("#error-caps-1-limit")).to_have_text("请输入整数。")
    page.locator("#cap-1").get_by_label("最多（条）").fill("3")
    page.get_by_role("button", name="保存规则").click()
    expect(page.get_by_role("status")).to_contain_text("规则已保存")
    rules = api.get("/v1/messaging/pressure").json()
    assert rules["caps"][1] == {"name": "sms_month", "limit": 3, "window_days": 30, "channel_kind": "sms"}
    assert rules["quiet_start"] == "21:30"
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    assert not failures, failures
    context.close()
