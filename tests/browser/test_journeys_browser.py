"""An operator opens an experiment's results from the journey at 390 px, reads that it cannot be read yet, and sizes
the test with the calculator."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.helpers.customers import post_customer
from tests.helpers.journeys import enrol, live_journey
from yutang.journeys import stats

pytestmark = pytest.mark.browser


def test_operator_reads_experiment_results_and_sizes_it_at_390px(live_server, console_assets, browser, app, tenant,
                                                                  sign_in):
    api = TestClient(app, headers=tenant.headers)
    journey = live_journey(api, {
        "entry": {"kind": "api"}, "goal": {"event": "Order Paid", "within_days": 7}, "start": "split", "steps": {
            "split": {"kind": "experiment", "name": "欢迎语测试", "min_per_variant": 50,
                      "variants": [{"key": "control"}, {"key": "warm"}]}}}, name="实验旅程")
    for n in range(6):
        enrol(api, journey["id"], post_customer(api, f"浏览{n}"))
    app.state.journeys.run_until_idle()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, tenant.key, next=f"/console/journeys/{journey['id']}")
    page.get_by_role("link", name="查看「欢迎语测试」结果").click()
    expect(page.locator("#readiness")).to_contain_text("现在还不能下结论。")
    expect(page.locator("#readiness")).to_contain_text("固定观察期尚未结束")
    expect(page.locator("#srm")).to_contain_text("分流符合计划")
    page.get_by_label("基线转化率（%）").fill("10")
    page.get_by_label("希望检出的变化（百分点）").fill("2")
    page.get_by_role("button", name="计算").click()
    per = stats.sample_size(0.10, 0.02)
    expect(page.get_by_role("status")).to_contain_text(f"每组需 {per} 次曝光，共 {2 * per} 次")
    page.get_by_label("基线转化率（%）").fill("十")
    page.get_by_role("button", name="计算").click()
    expect(page.get_by_role("alert")).to_contain_text("请输入数字")
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    assert not failures, failures
    context.close()
