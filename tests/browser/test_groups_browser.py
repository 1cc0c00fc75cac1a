"""Group pages on a phone-sized screen in headless Chromium: spot the silent group, open a group, see the codes; the
library, a Moments post from it on the calendar, and the library picker on the guide's workbench."""

import re

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.helpers.groups import group_brand
from tests.helpers.stores import owned_contacts, wecom_store
from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom

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


def test_a_guide_picks_a_script_from_the_library_on_the_workbench_at_390px(live_server, console_assets, browser, app,
                                                                           tenant, sign_in, pipeline):
    api = TestClient(app, headers=tenant.headers)
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        config, _, guides = wecom_store(api, fake, url, userids=("xiaomei",))
        mei, headers = guides["xiaomei"]
        customers = owned_contacts(api, fake, config, mei, 2)
        folder = api.post("/v1/library/folders", json={"name": "复购话术"}).json()
        api.post("/v1/library/materials", json={"folder_id": folder["id"], "kind": "text", "title": "新品到店",
                                                "text": "新品到店，欢迎来试喝"})
        pipeline.catch_up()
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.set_default_timeout(10_000)
        page = context.new_page()
        failures: list[str] = []
        page.on("pageerror", lambda error: failures.append(str(error)))
        sign_in(page, headers["Authorization"].split()[1], next="/console/workbench")
        page.locator(f"#customer-{customers[0]} input[name=customer_ids]").check()
        form = page.locator("#send-form")
        form.get_by_label("从素材库选择").select_option(label="新品到店 · 文字话术")
        box = form.locator("textarea[name=text]")
        expect(box).to_have_value("新品到店，欢迎来试喝")  # the script goes into the box, to edit
        box.fill("新品到店，欢迎来试喝，周六有品鉴会")
        assert page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0
        form.get_by_role("button", name="创建群发").click()
        expect(page).to_have_url(re.compile(r"/console/workbench$"))  # sent: back on the workbench, no error
        assert [t["body"]["text"]["content"] for t in fake.templates.values()] == ["新品到店，欢迎来试喝，周六有品鉴会"]
        report = api.get("/v1/library/report").json()
        assert [(r["title"], r["staff_id"], r["uses"], r["customers"]) for r in report] == [
            ("新品到店", mei["id"], 1, 1)]
        assert not failures, failures
        context.close()


def test_the_library_and_the_moments_calendar_at_390px(live_server, console_assets, browser, app, tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    with group_brand(api) as (groups, code):
        config = api.get("/v1/messaging/channels").json()[0]["id"]
        api.post("/v1/library/folders", json={"name": "朋友圈文案"})
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.set_default_timeout(10_000)
        page = context.new_page()
        failures: list[str] = []
        page.on("pageerror", lambda error: failures.append(str(error)))
        sign_in(page, tenant.key, next="/console/groups/library")
        # A product card without its price is named next to the field, then added with it
        form = page.locator("#material-form")
        form.get_by_label("类型").select_option(label="商品卡片")
        form.get_by_label("标题").fill("春茶礼盒")
        form.get_by_label("地址", exact=True).fill("https://shop.example/spring")
        form.get_by_role("button", name="加入素材库").click()
        expect(page.locator("small.error").first).to_contain_text("商品卡片需要价格")
        form = page.locator("#material-form")
        form.get_by_label("价格（元）").fill("199")
        form.get_by_role("button", name="加入素材库").click()
        expect(page.locator("#materials")).to_contain_text("¥199.00")
        assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
        # The card composes a Moments post; the calendar shows it on today
        page.get_by_role("link", name="朋友圈", exact=True).click()
        form = page.locator("#moment-form")
        form.get_by_label("从素材库选择").select_option(label="春茶礼盒 · 商品卡片")
        form.get_by_label("小美").check()
        form.get_by_role("button", name="创建朋友圈").click()
        expect(page.locator("#moments-calendar td.today")).to_contain_text("1 条")
        expect(page.locator("#moments")).to_contain_text("春茶礼盒")
        assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
        assert [m["link_url"] for m in api.get("/v1/groups/moments").json()] == ["https://shop.example/spring"]
        assert config and not failures, failures
        context.close()
