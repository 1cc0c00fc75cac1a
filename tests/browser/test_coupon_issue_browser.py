"""An operator issues a coupon to a segment from the coupon page and to one customer from the archive."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_coupons_to_a_segment_and_to_one_customer(live_server, console_assets, browser, app, tenant, sign_in):
    api = TestClient(app, headers=tenant.headers)
    ids = [api.post("/v1/customers", json={"name": f"券客{i}", "identities": [
        {"kind": "phone", "value": f"1370013{i:04d}"}]}).json()["customer"]["id"] for i in range(2)]
    api.post("/v1/segments", json={"name": "回购老客", "kind": "static", "customer_ids": ids})
    template = api.post("/v1/loyalty/coupon-templates", json={
        "name": "满99减10", "kind": "threshold", "value_fen": 1000, "threshold_fen": 9900, "valid_days": 7,
        "per_customer_limit": 2}).json()
    page = browser.new_page(viewport={"width": 390, "height": 844})
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, tenant.key, next="/console/loyalty/coupons")
    issue = page.locator("#issue-form")
    issue.locator("select[name=template_id]").select_option(label="满99减10")
    issue.locator("select[name=segment_id]").select_option(label="回购老客")
    issue.get_by_role("button", name="发券").click()
    expect(page.get_by_role("status")).to_contain_text("已发放 2 张")
    page.goto(f"{live_server}/console/customers/{ids[0]}")
    page.get_by_label("要发放的优惠券").select_option(label="满99减10")
    page.locator("form.issue-coupon").get_by_role("button", name="发券").click()
    expect(page.locator("table.customer-coupons tr")).to_have_count(2)
    assert api.get(f"/v1/loyalty/coupon-templates/{template['id']}/stats").json()["issued"] == 3
    assert not failures, failures
    page.close()
