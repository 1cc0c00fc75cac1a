"""Reply to a customer from the inbox in headless Chromium: a quick reply goes out through the channel."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_operator_replies_in_the_inbox(live_server, console_assets, page, app, tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    config = api.post("/v1/messaging/channels", json={"kind": "null", "name": "在线客服"}).json()
    thread = api.post("/v1/inbox/messages", json={"channel_id": config["id"], "identity_kind": "phone",
                                                  "identity_value": "13655556666", "body": "可以开发票吗？"}).json()
    api.post("/v1/messaging/templates", json={"name": "发票", "channel_kind": "null", "purpose": "quick_reply",
                                              "body": "可以的，请提供抬头和税号"})
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))

    sign_in(page, tenant.key)
    page.get_by_role("link", name="收件箱").click()
    page.locator("#threads").get_by_role("link").first.click()
    expect(page).to_have_url(f"{live_server}/console/inbox/{thread['id']}")
    expect(page.locator("#conversation")).to_contain_text("可以开发票吗？")

    page.evaluate("window.stillHere = true")
    page.get_by_label("快捷回复").select_option(label="发票")
    page.get_by_role("button", name="发送回复").click()
    expect(page.locator("#conversation .message.out")).to_contain_text("可以的，请提供抬头和税号")
    assert page.evaluate("window.stillHere") is True  # HTMX swapped the conversation only

    page.get_by_role("textbox", name="回复").fill("开好后发到您的邮箱")
    page.get_by_role("button", name="发送回复").click()
    expect(page.locator("#conversation .message.out")).to_have_count(2)
    expect(page.get_by_role("textbox", name="回复")).to_have_value("")
    expect(page.locator("#conversation")).to_contain_text("首次响应")

    detail = api.get(f"/v1/inbox/threads/{thread['id']}").json()
    assert [m["body"] for m in detail["messages"]] == ["可以开发票吗？", "可以的，请提供抬头和税号",
                                                      "开好后发到您的邮箱"]
    assert detail["first_response_seconds"] is not None
    assert not failures, failures
