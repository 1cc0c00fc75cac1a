"""An owner adds a member, issues them a key and revokes it, in headless Chromium, on a phone-sized screen."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_owner_creates_a_member_issues_a_key_and_revokes_it_at_390px(live_server, console_assets, browser, app,
                                                                      tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, tenant.key)
    page.get_by_role("link", name="设置").click()
    # A member without a role is refused beside the role field
    page.get_by_label("成员姓名").fill("小周")
    page.get_by_role("button", name="添加成员").click()
    expect(page.locator("#member-new-role-error")).to_have_text("此项为必填。")
    page.locator("#members form[action='/console/settings/members'] select[name=role]").select_option("guide")
    page.get_by_role("button", name="添加成员").click()
    secret = page.locator("#shown-secret pre").inner_text().strip()
    assert secret.startswith("yt_")
    member = next(m for m in api.get("/v1/members").json() if m["name"] == "小周")
    card = page.locator(f"#member-{member['id']}")
    card.get_by_placeholder("密钥名称").fill("手机")
    card.get_by_role("button", name="签发密钥").click()
    second = page.locator("#shown-secret pre").inner_text().strip()
    assert api.get("/v1/me", headers={"Authorization": f"Bearer {second}"}).json()["role"] == "guide"
    card = page.locator(f"#member-{member['id']}")
    expect(card.locator("ul.keys li")).to_have_count(2)
    card.locator("ul.keys li", has_text="手机").get_by_role("button", name="吊销").click()
    expect(page.locator(f"#member-{member['id']} ul.keys li")).to_have_count(1)
    assert api.get("/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    assert api.get("/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    assert not failures, failures
    context.close()
