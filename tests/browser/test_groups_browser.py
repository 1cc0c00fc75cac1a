"""Group pages on a phone-sized screen in headless Chromium: spot the silent group, open a group, see the codes."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.helpers.groups import group_brand

pytestmark = pytest.mark.browser


def test_groups_health_detail_and_codes_at_390px(live_server, console_assets, browser, app, tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    with group_brand(api) as (groups, code):
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        failures: list[str] = []
        page.on("pageerror", lambda error: failures.append(str(error)))
        sign_in(page, tenant.key, next="/console/groups")
        expect(page.locator("tbody tr").first).to_contain_text("沉睡老客群")
        expect(page.locator(f"#group-{groups['wrCold']}")).to_contain_text("沉默")
        assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
        page.get_by_role("link", name="只看沉默群").click()
        expect(page.locator("table").first.locator("tbody tr")).to_have_count(1)
        page.get_by_role("link", name="显示全部群").click()
        page.get_by_role("link", name="静安宝妈群").click()
        expect(page.locator("h1")).to_have_text("静安宝妈群")
        expect(page.locator("blockquote")).to_contain_text("每周三福利")
        expect(page.locator("tbody tr")).to_have_count(5)
        assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
        page.get_by_role("link", name="群活码").click()
        expect(page.locator(f"#code-{code['id']}")).to_contain_text("门口海报")
        assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
        # A manager creates a code from the form: a bad source is named next to it, then the code is listed
        page.get_by_label("名称", exact=True).fill("店内台卡")
        page.get_by_label("来源（state）").fill("台卡")
        page.get_by_label("静安宝妈群").check()
        page.get_by_label("新群的名称前缀").fill("静安福利群")
        page.get_by_role("button", name="创建群活码").click()
        expect(page.locator("small.error").first).to_contain_text("最多 30 个字母")
        page.get_by_label("来源（state）").fill("table-card")
        page.get_by_role("button", name="创建群活码").click()
        expect(page.locator("tbody")).to_contain_text("店内台卡")
        assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
        assert not failures, failures
        context.close()
