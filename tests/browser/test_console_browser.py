"""Drive the console in headless Chromium: sign in, live search, the archive, a note, the language switch."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.console import seed_brand

pytestmark = pytest.mark.browser


def test_operator_walks_through_the_console(live_server, console_assets, page, database, tenant):
    brand = seed_brand(database, tenant)
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.on("requestfailed", lambda request: "/static/" in request.url and failures.append(request.url))
    page.on("response", lambda response: response.status >= 400 and "/static/" in response.url
            and failures.append(f"{response.status} {response.url}"))

    page.goto(f"{live_server}/console/customers")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    page.get_by_label("工作区 API 密钥").fill(brand.tenant.key)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/console/customers")
    results = page.locator("#customer-results")
    for name in ("张三", "李四", "王五"):
        expect(results.get_by_role("link", name=name)).to_be_visible()
    assert page.evaluate("typeof htmx") == "object", "HTMX did not load from /static/vendor"

    # The search swaps only the results: a marker on window survives, the URL follows the query.
    page.evaluate("window.stillHere = true")
    page.get_by_placeholder("姓名、手机号、手机尾号、邮箱或 #ID").fill("139 0013 9000")
    expect(results.get_by_role("link", name="张三")).to_have_count(0)
    expect(results.get_by_role("link", name="李四")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=139"))
    assert page.evaluate("window.stillHere") is True

    page.get_by_role("link", name="李四").click()
    expect(page).to_have_url(f"{live_server}/console/customers/{brand.li}")
    expect(page.get_by_role("heading", name="李四")).to_be_visible()
    expect(page.locator("#orders")).to_contain_text("还没有订单")

    page.evaluate("window.stillHere = true")
    page.get_by_label("备注").fill("周末到店试饮，偏好乌龙")
    page.get_by_role("button", name="添加备注").click()
    expect(page.locator("#notes li")).to_contain_text("周末到店试饮，偏好乌龙")
    expect(page.get_by_label("备注")).to_have_value("")
    assert page.evaluate("window.stillHere") is True

    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{live_server}/console/customers/{brand.li}")
    expect(page.get_by_role("heading", name="Notes")).to_be_visible()
    expect(page.get_by_role("heading", name="Consent records")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", name="合并记录")).to_be_visible()
    expect(page.locator("#notes li")).to_contain_text("周末到店试饮，偏好乌龙")

    page.goto(f"{live_server}/console/customers/{brand.zhang}")
    expect(page.locator("#orders")).to_contain_text("¥12.30")
    assert not failures, failures
