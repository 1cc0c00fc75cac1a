"""An owner subscribes a URL to events on a phone-sized screen and reads the delivery log in headless Chromium."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.peers.server import serve
from tests.peers.webhooks import Receiver

pytestmark = pytest.mark.browser


def test_owner_adds_an_endpoint_and_reads_its_deliveries_at_390px(live_server, console_assets, browser, app, tenant,
                                                                   pipeline, sign_in):
    api = TestClient(app, headers=tenant.headers)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    receiver = Receiver()
    with serve(receiver.app()) as url:
        sign_in(page, tenant.key)
        page.goto(f"{live_server}/console/webhooks")
        page.get_by_label("URL 地址").fill(f"{url}/hook")
        page.get_by_label("打标签").check()  # the events are listed by their console names
        page.get_by_role("button", name="添加端点").click()
        expect(page.locator("#secret pre")).to_contain_text("whsec_")
        customer = api.post("/v1/customers", json={"name": "周杰"}).json()["customer"]["id"]
        tag = api.post("/v1/tag-groups", json={"name": "会员", "tags": ["金卡"]}).json()["tags"][0]["id"]
        api.post(f"/v1/customers/{customer}/tags", json={"add": [{"id": tag}]})
        pipeline.catch_up()
        pipeline.webhooks.drain()
        endpoint = api.get("/v1/webhooks/endpoints").json()[0]["id"]
        page.goto(f"{live_server}/console/webhooks/{endpoint}")
        expect(page.locator("#deliveries")).to_contain_text("打标签")
        expect(page.locator("#secret")).to_have_count(0)  # the secret was shown once
        # The page's content fits the screen (tables scroll inside their own frame)
        assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    assert len(receiver.received) == 1
    assert not failures, failures
    context.close()
