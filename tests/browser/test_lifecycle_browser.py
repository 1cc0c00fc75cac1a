"""The lifecycle page in headless Chromium: ECharts loads from node_modules and draws the stage, RFM and value
charts with the overview's numbers."""

import pytest
from playwright.sync_api import expect

from tests.helpers.lifecycle import HISTORIC_BUCKETS, RFM, STAGES, seed_lifecycle

pytestmark = pytest.mark.browser


def _option(page, element_id: str) -> dict:
    return page.evaluate(
        """(id) => {
            const chart = echarts.getInstanceByDom(document.getElementById(id));
            const option = chart.getOption();
            return {categories: (option.xAxis[0].type === "category" ? option.xAxis[0] : option.yAxis[0]).data,
                    series: option.series.map((s) => s.data), canvas: !!document.querySelector(`#${id} canvas`)};
        }""", element_id)


def test_lifecycle_charts_render_with_the_overview_numbers(live_server, console_assets, page, database, pipeline,
                                                           tenant, sign_in):
    seed_lifecycle(database, pipeline, tenant)
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.on("response", lambda response: response.status >= 400 and "/static/" in response.url
            and failures.append(f"{response.status} {response.url}"))
    sign_in(page, tenant.key)
    page.get_by_role("link", name="生命周期").click()
    expect(page.get_by_role("heading", name="生命周期与 RFM")).to_be_visible()
    page.wait_for_function("() => typeof echarts === 'object' && echarts.getInstanceByDom("
                           "document.getElementById('value-chart'))")
    stages = _option(page, "stages-chart")
    assert stages["canvas"], "the stage chart drew nothing"
    assert stages["categories"] == ["潜在客户", "新客", "复购客户", "忠诚客户", "流失风险", "沉睡客户", "已流失"]
    assert stages["series"] == [STAGES]
    rfm = _option(page, "rfm-chart")
    assert rfm["categories"][0] == "重要价值客户" and rfm["categories"][-1] == "一般挽留客户"
    assert rfm["series"] == [RFM] and rfm["canvas"]
    value = _option(page, "value-chart")
    assert value["series"][0] == HISTORIC_BUCKETS and value["canvas"]
    box = page.locator("#stages-chart canvas").first.bounding_box()
    assert box["width"] > 200 and box["height"] > 100
    # In English the charts speak English.
    page.get_by_role("link", name="English").click()
    page.wait_for_function("() => typeof echarts === 'object' && echarts.getInstanceByDom("
                           "document.getElementById('rfm-chart'))")
    assert _option(page, "rfm-chart")["categories"][0] == "Important value"
    assert not failures, failures
