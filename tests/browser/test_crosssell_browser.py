"""Cross-sell and category fit in headless Chromium, in Chinese and English: the rules table makes a segment in one
click, the quadrant scatter draws, both download CSV, and the pages fit a phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.analytics import FIRST, LAST, seed_baskets

pytestmark = pytest.mark.browser
RANGE = f"period=custom&start={FIRST}&end={LAST}"


def _watch(page) -> list[str]:
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.on("response", lambda response: response.status >= 400 and "/static/" in response.url
            and failures.append(f"{response.status} {response.url}"))
    return failures


def test_rules_become_a_segment_in_one_click(live_server, console_assets, page, database, pipeline, client, api,
                                             tenant, sign_in):
    brand = seed_baskets(database, pipeline, client, api, tenant)
    failures = _watch(page)
    sign_in(page, tenant.key)
    page.get_by_role("link", name="交叉销售").click()
    expect(page.get_by_role("heading", name="交叉销售", exact=True)).to_be_visible()
    page.locator("select[name=period]").select_option("custom")
    page.get_by_label("开始日期").fill(FIRST)
    page.get_by_label("结束日期").fill(LAST)
    page.get_by_role("button", name="计算").click()
    # tea ↔ teaware are the rules with lift above 1 (7/6, tests/test_analytics_crosssell.py).
    rows = page.locator("#rules tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("tea")
    expect(rows.nth(0).locator("td").nth(4)).to_have_text("50.0%")
    expect(rows.nth(0).locator("td").nth(5)).to_have_text("1.17")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 CSV").click()
    assert "tea,teaware,2" in open(download.value.path(), encoding="utf-8-sig").read()
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    # Bought tea, not yet teaware: C (its teaware order is still pending).
    rows.nth(0).get_by_role("button", name="创建分群").click()
    expect(page).to_have_url(re.compile(r"/console/segments/\d+$"))
    expect(page.get_by_role("heading", name="买了tea、还没买teaware")).to_be_visible()
    expect(page.locator(f'a[href="/console/customers/{brand.ids["C"]}"]')).to_be_visible()
    expect(page.locator(f'a[href="/console/customers/{brand.ids["A"]}"]')).to_have_count(0)
    page.get_by_role("link", name="English").click()
    page.goto(f"{live_server}/console/analytics/cross-sell?{RANGE}&level=sku&min_lift=2")
    expect(page.get_by_role("heading", name="Cross-sell", exact=True)).to_be_visible()
    expect(page.locator("#rules thead")).to_contain_text("Lift")
    expect(page.locator("#rules tbody tr")).to_have_count(2)
    expect(page.locator("#rules tbody tr").nth(0).get_by_role("button", name="Create segment")).to_be_visible()
    assert not failures, failures


def test_category_fit_draws_the_quadrants(live_server, console_assets, page, database, pipeline, client, api, tenant,
                                          sign_in):
    seed_baskets(database, pipeline, client, api, tenant)
    failures = _watch(page)
    sign_in(page, tenant.key)
    page.goto(f"{live_server}/console/analytics/category-fit?{RANGE}")
    expect(page.get_by_role("heading", name="品类适配", exact=True)).to_be_visible()
    expect(page.locator('#fit tr[data-category="snacks"] .quadrant')).to_contain_text("复购提醒")
    expect(page.locator('#fit tr[data-category="tea"] .quadrant')).to_contain_text("内容/KOC 种草")
    page.wait_for_function("() => typeof echarts === 'object' && echarts.getInstanceByDom("
                           "document.getElementById('fit-chart'))")
    drawn = page.evaluate("""() => {
        const option = echarts.getInstanceByDom(document.getElementById('fit-chart')).getOption();
        return {points: option.series[0].data.map(p => [p.name, p.value[0], p.value[1]]),
                canvas: !!document.querySelector('#fit-chart canvas')};
    }""")
    # teaware has no repeat buyer, so no place on the frequency axis.
    assert drawn == {"points": [["snacks", 2.5, 2.0], ["tea", 4.0, 3.0]], "canvas": True}
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="English").click()
    page.goto(f"{live_server}/console/analytics/category-fit?{RANGE}&frequency_split_days=5&interaction_split=2.8")
    expect(page.get_by_role("heading", name="Category fit", exact=True)).to_be_visible()
    expect(page.locator('#fit tr[data-category="tea"] .quadrant')).to_contain_text("Community operations")
    expect(page.locator('#fit tr[data-category="teaware"] .quadrant')).to_contain_text("Lead nurturing")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert text.splitlines()[0].startswith("category,buyers") and "community" in text
    assert not failures, failures
