"""The operator's tagging path in Chromium: create a tag, tag a customer from the archive, bulk-tag from the list,
build a segment on the tag and export its members."""

import csv
import re

import pytest
from playwright.sync_api import expect

from tests.helpers.console import seed_brand

pytestmark = pytest.mark.browser
SETTLED = "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping, .htmx-added')"


def test_tag_bulk_tag_segment_and_export(live_server, console_assets, page, database, tenant, pipeline, sign_in):
    brand = seed_brand(database, tenant)
    pipeline.catch_up()
    expect.set_options(timeout=15_000)
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, brand.tenant.key, next="/console/tags")

    # A new group with one tag.
    new_group = page.locator("#new-group")
    new_group.get_by_label("标签组名称").fill("会员活动")
    new_group.get_by_label("标签", exact=False).last.fill("双12")
    new_group.get_by_role("button", name="创建标签组").click()
    expect(page.get_by_role("link", name="双12")).to_be_visible()

    # Tag 张三 from the archive: the tags redraw in place.
    page.goto(f"{live_server}/console/customers/{brand.zhang}")
    page.evaluate("window.stillHere = true")
    tags = page.locator("#customer-tags")
    tags.locator('select[name="tag_id"]').select_option(label="双12")
    tags.get_by_role("button", name="添加标签").click()
    expect(tags.get_by_text("会员活动 / 双12")).to_be_visible()
    assert page.evaluate("window.stillHere") is True

    # Bulk-tag from the list: tick 李四.
    page.goto(f"{live_server}/console/customers")
    expect(page.locator("#customer-total")).to_have_text("共 3 位客户")
    page.get_by_label("选择 李四").check()
    bulk = page.locator("#bulk-tagging")
    bulk.locator('select[name="tag_id"]').select_option(label="双12")
    bulk.get_by_role("button", name="执行").click()
    expect(page.locator("#bulk-notice")).to_contain_text("其中 1 位为新打上")
    page.locator('select[name="tag"]').select_option(label="双12")
    expect(page.locator("#customer-total")).to_have_text("共 2 位客户")

    # A segment on the tag, then its members as CSV.
    page.goto(f"{live_server}/console/segments/new")
    page.get_by_label("分群名称").fill("双12客")
    page.get_by_label("标签", exact=True).select_option(label="会员活动 / 双12")
    expect(page.locator("#preview .count")).to_have_text("当前有 2 位客户符合")
    page.wait_for_function(SETTLED)
    page.get_by_role("button", name="保存分群").click()
    expect(page).to_have_url(re.compile(r"/console/segments/\d+$"))
    expect(page.locator("#member-total")).to_have_text("2 位成员")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出成员（CSV）").click()
    with open(download.value.path(), encoding="utf-8-sig") as exported:
        names = sorted(row["name"] for row in csv.DictReader(exported))
    assert names == ["张三", "李四"]

    # Deleting asks first: dismissed, nothing happens; accepted, back to the list without the segment.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="删除").click()
    expect(page).to_have_url(re.compile(r"/console/segments/\d+$"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="删除").click()
    expect(page).to_have_url(f"{live_server}/console/segments")
    expect(page.get_by_role("link", name="双12客")).to_have_count(0)
    assert not failures, failures
