"""Build a segment in the console with form controls only, watch the live count, save it and explain a customer."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.console import seed_brand

pytestmark = pytest.mark.browser
# HTMX wires up swapped-in controls as the swap settles; a person cannot act faster than that, Playwright can.
SETTLED = "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping, .htmx-added')"


def test_operator_builds_a_segment_and_sees_the_count(live_server, console_assets, page, database, tenant, pipeline,
                                                      sign_in):
    brand = seed_brand(database, tenant)
    pipeline.catch_up()
    expect.set_options(timeout=15_000)  # the machine may be shared; each count is one warehouse query
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))

    sign_in(page, brand.tenant.key)
    page.get_by_role("link", name="分群").click()
    expect(page).to_have_url(f"{live_server}/console/segments")
    page.get_by_role("button", name="新建分群").click()
    expect(page.get_by_role("heading", name="新建分群")).to_be_visible()

    page.get_by_label("分群名称").fill("绿茶兴趣客")
    page.get_by_label("标签", exact=True).select_option(label="兴趣 / 绿茶")
    count = page.locator("#preview .count")
    expect(count).to_have_text("当前有 1 位客户符合")

    # A second condition: the customer has consented to SMS; the count follows without a page load.
    page.evaluate("window.stillHere = true")
    page.get_by_role("button", name="添加条件").click()
    expect(page.locator('select[name="type_1"]')).to_be_visible()
    page.wait_for_function(SETTLED)
    page.locator('select[name="type_1"]').select_option(label="授权同意")
    expect(page.locator('select[name="consent_1"]')).to_be_visible()
    page.wait_for_function(SETTLED)
    expect(count).to_have_text("当前有 1 位客户符合")
    page.locator('select[name="status_1"]').select_option(label="已撤回")
    expect(count).to_have_text("当前有 0 位客户符合")
    page.locator('select[name="status_1"]').select_option(label="已同意")
    expect(count).to_have_text("当前有 1 位客户符合")
    assert page.evaluate("window.stillHere") is True

    page.get_by_role("button", name="保存分群").click()
    expect(page).to_have_url(re.compile(r"/console/segments/\d+$"))
    expect(page.get_by_role("heading", name="绿茶兴趣客")).to_be_visible()
    expect(page.locator("#member-total")).to_have_text("1 位成员")
    expect(page.get_by_role("link", name="张三")).to_be_visible()

    page.get_by_label("客户 ID").fill(str(brand.li))
    page.get_by_role("button", name="解释").click()
    expect(page.locator("#explanation .verdict")).to_have_text(f"客户 #{brand.li} 不符合规则。")
    assert not failures, failures
