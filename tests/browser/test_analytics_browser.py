"""The overview in headless Chromium: it is the landing page, its charts draw, a figure drills down to its
customers and they become a static segment in one click."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.analytics import FIRST, LAST, seed_analytics

pytestmark = pytest.mark.browser


def test_overview_drill_down_and_segment_in_one_click(live_server, console_assets, page, database, pipeline, client,
                                                      api, tenant, sign_in):
    brand = seed_analytics(database, pipeline, client, api, tenant)
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.on("response", lambda response: response.status >= 400 and "/static/" in response.url
            and failures.append(f"{response.status} {response.url}"))
    sign_in(page, tenant.key)
    expect(page).to_have_url(f"{live_server}/console/analytics")
    expect(page.get_by_role("heading", name="数据概览")).to_be_visible()
    page.get_by_label("开始日期").fill(FIRST)
    page.get_by_label("结束日期").fill(LAST)
    page.get_by_role("button", name="自定义区间").click()
    expect(page.locator("#gmv .value")).to_have_text("¥710.00")
    page.wait_for_function("() => typeof echarts === 'object' && echarts.getInstanceByDom("
                           "document.getElementById('sales-chart'))")
    drawn = page.evaluate("""() => {
        const option = echarts.getInstanceByDom(document.getElementById('sales-chart')).getOption();
        return {labels: option.xAxis[0].data, values: option.series[0].data,
                canvas: !!document.querySelector('#sales-chart canvas')};
    }""")
    assert drawn == {"labels": ["小程序商城", "天猫旗舰店"], "values": [360, 350], "canvas": True}
    # On a phone the figures stack into two columns and nothing runs off the side.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#repurchase-rate .value a").click()
    expect(page.get_by_role("heading", name="复购客户")).to_be_visible()
    expect(page.locator("#drill tbody tr")).to_have_count(1)
    page.get_by_label("分群名称").fill("十一月复购客户")
    page.get_by_role("button", name="一键创建分群").click()
    expect(page).to_have_url(re.compile(r"/console/segments/\d+$"))
    expect(page.get_by_role("heading", name="十一月复购客户")).to_be_visible()
    expect(page.locator(f'a[href="/console/customers/{brand.ids["A"]}"]')).to_be_visible()
    assert not failures, failures
