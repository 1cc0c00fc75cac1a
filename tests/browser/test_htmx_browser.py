"""HTMX on the console logs no errors: the template preview answers every click, the segment builder's live count
does not abort requests while one types, and a saved segment's page has its own URL."""

import re
import time

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.helpers.console import seed_brand

pytestmark = pytest.mark.browser


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_template_preview_answers_every_click(live_server, console_assets, page, app, tenant, sign_in):
    TestClient(app, headers=tenant.headers).post("/v1/messaging/channels", json={"kind": "null", "name": "测试"})
    errors = _console_errors(page)
    sign_in(page, tenant.key, next="/console/templates")
    page.get_by_label("正文").fill("{{ name }}，您好：秋茶上新")
    page.get_by_role("button", name="预览").click()
    expect(page.locator("#preview pre.rendered")).to_contain_text("秋茶上新")
    page.get_by_label("正文").fill("{{ name }}，您好：冬茶预售")
    page.get_by_role("button", name="预览").click()
    expect(page.locator("#preview pre.rendered")).to_contain_text("冬茶预售")
    expect(page.locator("#preview")).to_have_count(1)
    page.get_by_role("button", name="预览").click()
    expect(page.locator("#preview pre.rendered")).to_contain_text("冬茶预售")
    assert not errors, errors


def test_segment_builder_counts_while_typing_and_saves_to_its_page(live_server, console_assets, page, database,
                                                                  tenant, pipeline, sign_in):
    seed_brand(database, tenant)
    pipeline.catch_up()
    errors = _console_errors(page)
    requests: list[str] = []
    page.on("request", lambda request: request.url.endswith("/console/segments/preview") and requests.append("x"))
    sign_in(page, tenant.key, next="/console/segments/new")
    page.locator('select[name="type_0"]').select_option("attribute")
    value = page.locator('input[name="value_0"]')
    expect(value).to_be_visible()
    count = page.locator("#preview .count")
    expect(count).to_be_visible()
    value.press_sequentially("上海市静安区南京西路", delay=60)  # a key every 60 ms: the count waits for a pause
    expect(count).to_have_text("当前有 0 位客户符合")
    assert len(requests) <= 3, requests  # the first count, the type change's, one after the pause

    # A loaded warehouse answers slower than one types: each count is held 0.7 s, the pauses are 0.5 s. Overlapping
    # counts wait their turn (the last one wins) instead of being aborted mid-flight.
    def slow(route):
        time.sleep(0.7)
        route.continue_()

    page.route("**/console/segments/preview", slow)
    value.fill("")
    value.press_sequentially("苏州", delay=500)
    page.get_by_label("分群名称").press_sequentially("城市待定", delay=30)
    expect(count).to_have_text("当前有 0 位客户符合")
    value.press_sequentially("市", delay=0)
    page.wait_for_timeout(450)  # a count is on its way when the builder is redrawn with a second condition
    page.get_by_role("button", name="添加条件").click()
    page.locator('select[name="type_1"]').select_option("consent")
    consent = page.locator('select[name="consent_1"]')
    expect(consent).to_be_visible(timeout=10_000)  # behind the slow count
    page.get_by_role("button", name="保存分群").click()  # while the redrawn builder's first count is held
    expect(page).to_have_url(re.compile(r"/console/segments/\d+$"))
    expect(page.get_by_role("heading", name="城市待定")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/console/segments/new$"))
    assert not [e for e in errors if "htmx" in e or "Error" in e], errors


def test_a_control_changed_right_after_a_redraw_is_heard(live_server, console_assets, page, tenant, sign_in):
    # htmx wires up swapped-in controls when the swap settles; with its default 20 ms settle delay a choice made
    # in between (a busy phone, a loaded machine) was silently lost and the condition's fields never came.
    errors = _console_errors(page)
    sign_in(page, tenant.key, next="/console/segments/new")
    expect(page.locator("#preview p").first).to_be_visible()  # the first count has come: no swap is on its way
    page.evaluate("""() => document.body.addEventListener("htmx:afterSwap", () => setTimeout(() => {
        const type = document.querySelector('select[name="type_1"]');
        if (!type || window.typeChosen) return;  // another swap (a count) came first
        window.typeChosen = true;
        type.value = "consent";
        type.dispatchEvent(new Event("change", {bubbles: true}));
    }, 0))""")
    page.get_by_role("button", name="添加条件").click()
    expect(page.locator('select[name="consent_1"]')).to_be_visible()
    assert not [e for e in errors if "htmx" in e or "Error" in e], errors
