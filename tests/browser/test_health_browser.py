"""Pond health in Chromium, in each language: the kinds of touch with their harm against alike untouched
customers, the fatigue curve drawn, the suggested cap beside the caps in force, and the settings form."""

import pytest
from playwright.sync_api import expect

from tests.helpers.analytics import seed_pond
from yutang.analytics import health
from yutang.analytics.schemas import PondHealthIn
from yutang.kit.clock import utcnow

pytestmark = pytest.mark.browser
SAYS = {"zh_CN": {"title": "鱼塘健康度", "broadcast": "群发", "touched": "已触达", "cap": "7 天内",
                  "too_many": "不能大于 26"},
        "en": {"title": "Pond health", "broadcast": "Broadcast", "touched": "Touched", "cap": "in 7 days",
               "too_many": "Must be at most 26"}}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_pond_health_page(live_server, console_assets, page, database, pipeline, client, api, tenant, sign_in,
                          locale):
    says = SAYS[locale]
    # The newest week whose 7-day watch has ended, as the page computes it today.
    [week] = health.weeks_of(PondHealthIn(weeks=1), timezone="Asia/Shanghai", now=utcnow())
    _, config = seed_pond(database, pipeline, client, api, tenant, monday=week.start_day)
    api.put("/v1/messaging/pressure", json={"caps": [{"name": "weekly", "limit": 3, "window_days": 7}]})
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, tenant.key)
    page.goto(f"{live_server}/console/language?to={locale}&next=/console/analytics/health")
    expect(page.get_by_role("heading", name=says["title"], exact=True)).to_be_visible()
    blast = page.locator(f'#kinds tr[data-kind="{config}:marketing:broadcast"]')
    expect(blast).to_contain_text(says["broadcast"])
    expect(blast.locator("td").nth(3)).to_have_text("3")
    expect(blast.locator("td").nth(7)).to_have_text("66.7%")
    expect(page.locator("#kinds tbody tr")).to_have_count(3)
    expect(page.locator('[data-cap="weekly"]')).to_contain_text(says["cap"])
    expect(page.locator("[data-figure=suggested-cap]")).to_have_text("–")

    # One week only: the curve has the untouched, one and three messages a week, drawn touched against alike.
    page.locator("#health-settings input[name=weeks]").fill("1")
    page.locator("#health-settings button[type=submit]").click()
    expect(page.locator("#fatigue tbody tr")).to_have_count(3)
    expect(page.locator('#fatigue tr[data-touches="1"] td').nth(3)).to_have_text("66.7%")
    page.wait_for_function("() => typeof echarts === 'object' && echarts.getInstanceByDom("
                           "document.getElementById('fatigue-chart'))")
    drawn = page.evaluate("""() => {
        const option = echarts.getInstanceByDom(document.getElementById('fatigue-chart')).getOption();
        return {labels: option.xAxis[0].data, names: option.series.map(s => s.name), touched: option.series[0].data};
    }""")
    assert drawn["labels"] == ["0", "1", "3"] and drawn["names"][0] == says["touched"]
    assert drawn["touched"] == [28.57, 66.67, 100.0]
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    # A bad setting names the field instead of failing.
    page.goto(f"{live_server}/console/analytics/health?weeks=99")
    expect(page.locator("body")).to_contain_text("weeks: " + says["too_many"])
    assert not failures, failures


def test_a_report_pinned_to_the_overview_and_unpinned(live_server, console_assets, page, database, pipeline, client,
                                                      api, tenant, sign_in):
    [week] = health.weeks_of(PondHealthIn(weeks=1), timezone="Asia/Shanghai", now=utcnow())
    seed_pond(database, pipeline, client, api, tenant, monday=week.start_day)
    sign_in(page, tenant.key)
    page.goto(f"{live_server}/console/analytics/health?weeks=1&days_after=7")
    page.locator("#pin summary").click()
    page.locator("#pin input[name=name]").fill("本周触达健康度")
    page.locator("#pin button[type=submit]").click()
    card = page.locator("#pinned article", has_text="本周触达健康度")
    expect(card.locator(".value")).to_have_text("–")  # eleven customers: too few to suggest a cap
    expect(card).to_contain_text("建议的每周营销消息上限")
    [saved] = api.get("/v1/analytics/reports").json()
    assert (saved["kind"], saved["params"], saved["pinned"]) == ("pond_health", {"weeks": 1}, True)
    card.get_by_role("link", name="本周触达健康度").click()
    expect(page.locator("#health-settings input[name=weeks]")).to_have_value("1")
    page.go_back()
    page.locator("#pinned article", has_text="本周触达健康度").get_by_role("button", name="取消固定").click()
    expect(page.locator("#pinned")).to_have_count(0)
    assert api.get("/v1/analytics/reports").json()[0]["pinned"] is False
