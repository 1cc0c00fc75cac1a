"""The console's layout at a phone's 390 px and a desktop's 1440 px: no sideways page scroll, a usable nav."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.helpers.console import seed_brand

pytestmark = pytest.mark.browser

PAGES = ["/console/customers", "/console/customers/{zhang}", "/console/channels", "/console/tags",
         "/console/segments", "/console/segments/new", "/console/segments/{segment}", "/console/inbox",
         "/console/templates", "/console/broadcasts", "/console/messages", "/console/loyalty",
         "/console/loyalty/coupons", "/console/lifecycle", "/console/events/dead-letters", "/console/webhooks",
         "/console/workbench", "/console/stores/kpis", "/console/stores/personas", "/console/journeys",
         "/console/no-such-page"]

# Measured in the page: how far it scrolls sideways, and nav links drawn on more than one line.
MEASURE = """() => ({
  overflow: document.scrollingElement.scrollWidth - window.innerWidth,
  wide: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
        && !e.closest('.scrolls, .sections, [data-scrolls]')).slice(0, 3).map(e => e.tagName + '.' + e.className),
  wrapped: [...document.querySelectorAll('.masthead .sections a')].filter(a => {
        const range = document.createRange(); range.selectNodeContents(a);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
      }).map(a => a.textContent),
})"""


@pytest.fixture
def brand(database, tenant, app, pipeline):
    brand = seed_brand(database, tenant)
    api = TestClient(app, headers=tenant.headers)
    api.post("/v1/messaging/channels", json={"kind": "null", "name": "测试通道"})
    api.post("/v1/messaging/templates", json={"name": "秋茶上新", "channel_kind": "null", "purpose": "marketing",
                                              "body": "{{ name }}，秋茶上新，会员专享八折"})
    pipeline.catch_up()
    segment = api.post("/v1/segments", json={"name": "上海高价值复购客户", "rule": {
        "type": "attribute", "field": "city", "op": "eq", "value": "上海"}}).json()
    return brand, segment["id"]


@pytest.mark.parametrize("width", [390, 1440])
def test_main_pages_fit_the_width_and_the_nav_is_usable(live_server, console_assets, browser, brand, sign_in,
                                                         tmp_path, width):
    brand, segment = brand
    context = browser.new_context(viewport={"width": width, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, brand.tenant.key)
    problems: dict[str, dict] = {}
    for locale in ("zh_CN", "en"):
        page.goto(f"{live_server}/console/language?to={locale}&next=/console/customers")
        for path in PAGES:
            page.goto(live_server + path.format(zhang=brand.zhang, segment=segment))
            page.wait_for_load_state("networkidle")
            found = page.evaluate(MEASURE)
            if found["overflow"] > 0 or found["wrapped"]:
                problems[f"{locale} {path}"] = found
            page.screenshot(path=tmp_path / f"{width}-{locale}-{path.strip('/').replace('/', '_')}.png",
                            full_page=True)
    assert not problems, problems

    # The nav reaches its last entry: scrolled into view and clicked, it opens that page, whose entry shows.
    page.goto(f"{live_server}/console/customers")
    last = page.locator(".masthead .sections a").last
    last.scroll_into_view_if_needed()
    target = last.get_attribute("href")
    last.click()
    expect(page).to_have_url(live_server + target)
    current = page.locator(".masthead .sections a[aria-current=page]")
    expect(current).to_have_attribute("href", target)
    expect(current).to_be_in_viewport(ratio=1)
    context.close()


def test_the_timeline_badge_does_not_cover_the_event_name(live_server, console_assets, browser, brand, sign_in):
    brand, _ = brand
    for width in (390, 1440):
        context = browser.new_context(viewport={"width": width, "height": 844})
        page = context.new_page()
        sign_in(page, brand.tenant.key)
        page.goto(f"{live_server}/console/language?to=en&next=/console/customers/{brand.zhang}")
        rows = page.locator("ol.timeline > li:not(.more)")
        expect(rows.first).to_be_visible()
        # Each part's drawn text (not its grid cell, which a long label spills out of) against the others.
        overlaps = page.evaluate("""() => [...document.querySelectorAll('ol.timeline > li')].flatMap(li => {
            const boxes = [...li.children].map(c => { const r = document.createRange(); r.selectNodeContents(c);
                return r.getBoundingClientRect(); }).filter(r => r.width && r.height);
            const clipped = [...li.children].filter(c => c.scrollWidth > c.clientWidth + 1);
            return boxes.flatMap((a, i) => boxes.slice(i + 1).filter(b => a.left < b.right - 1 && b.left < a.right - 1
                && a.top < b.bottom - 1 && b.top < a.bottom - 1)).concat(clipped).map(() => li.innerText.slice(0, 60));
        })""")
        assert not overlaps, (width, overlaps)
        context.close()
