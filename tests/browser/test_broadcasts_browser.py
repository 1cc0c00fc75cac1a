"""Compose a broadcast in headless Chromium: the audience size after suppression appears as the form changes,
and once the broadcast has gone out its delivery report shows states and suppression reasons."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_operator_composes_a_broadcast_and_reads_the_report(live_server, console_assets, page, app, pipeline,
                                                            tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    api.put("/v1/messaging/pressure", json={"caps": [{"name": "weekly", "limit": 2, "window_days": 7}]})
    api.post("/v1/messaging/channels", json={"kind": "null", "name": "测试通道"})
    api.post("/v1/messaging/templates", json={"name": "秋茶上新", "channel_kind": "null", "purpose": "marketing",
                                              "body": "{{ name }}，秋茶上新"})
    api.post("/v1/messaging/templates", json={"name": "邮件新品", "channel_kind": "email", "purpose": "marketing",
                                              "subject": "新品", "body": "秋茶"})
    ids = [api.post("/v1/customers", json={"name": f"顾客{n}", "city": "苏州", "identities": [
        {"kind": "phone", "value": f"1370000{n:04d}"}]}).json()["customer"]["id"] for n in range(4)]
    api.post(f"/v1/customers/{ids[0]}/consents", json={"channel": "personalised_marketing", "status": "withdrawn",
                                                       "method": "settings"})
    pipeline.catch_up()
    api.post("/v1/segments", json={"name": "苏州客户", "rule": {"type": "attribute", "field": "city", "op": "eq",
                                                             "value": "苏州"}})
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))

    sign_in(page, tenant.key)
    page.get_by_role("link", name="群发").click()
    expect(page.get_by_role("heading", name="新建群发")).to_be_visible()
    page.get_by_label("名称").fill("秋茶")
    page.get_by_label("分群").select_option(label="苏州客户")
    # Only templates of the channel's kind are offered (the email template is not).
    expect(page.locator("select[name=template_id] option")).to_have_text(["秋茶上新"])
    page.get_by_role("button", name="计算受众人数").click()
    expect(page.locator("[data-figure=audience]")).to_have_text("4")
    expect(page.locator("[data-figure=send]")).to_have_text("3")
    expect(page.locator("#audience")).to_contain_text("拒绝个性化营销: 1")

    page.get_by_role("button", name="安排群发").click()
    expect(page.get_by_role("heading", name="秋茶")).to_be_visible()
    app.state.broadcaster.run_due()  # the live server's own broadcaster thread is not started in tests
    app.state.dispatcher.drain()
    page.reload()
    expect(page.locator("#by-state [data-state=sent]")).to_have_text("3")
    expect(page.locator("#by-state [data-state=suppressed]")).to_have_text("1")
    expect(page.locator("#by-reason [data-reason=refuses_personalised]")).to_have_text("1")
    expect(page.locator("#recipients tbody tr")).to_have_count(4)
    expect(page.locator("#recipients")).to_contain_text("顾客1")  # named, linked to the archive

    page.get_by_role("link", name="群发").click()
    expect(page.locator("#broadcasts")).to_contain_text("秋茶")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Compose a broadcast")).to_be_visible()
    assert not failures, failures
