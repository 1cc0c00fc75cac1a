"""Drive the loyalty review queue in headless Chromium: reject without a reason (refused inline), reject with one,
approve (points awarded once), all swapped in place by HTMX."""

import pytest
from playwright.sync_api import expect

from tests.helpers.loyalty import seed_loyalty

pytestmark = pytest.mark.browser


def test_operator_reviews_point_task_proofs(live_server, console_assets, page, api, database, tenant, sign_in):
    seeded = seed_loyalty(api, database, tenant)
    first, second = seeded["proofs"]
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, tenant.key)
    page.goto(f"{live_server}/console/loyalty/review")
    expect(page.get_by_role("heading", name="任务审核")).to_be_visible()
    card = page.locator(f"#submission-{first}")
    expect(card.locator("img.proof")).to_be_visible()
    assert card.locator("img.proof").evaluate("img => img.naturalWidth") > 0

    page.evaluate("window.stillHere = true")
    card.get_by_role("button", name="驳回").click()
    expect(card.get_by_label("原因（驳回时必填）")).to_have_attribute("aria-invalid", "true")
    card.get_by_label("原因（驳回时必填）").fill("截图看不清")
    card.get_by_role("button", name="驳回").click()
    expect(card).to_have_attribute("data-status", "rejected")
    expect(card).to_contain_text("截图看不清")

    other = page.locator(f"#submission-{second}")
    other.get_by_role("button", name="通过").click()
    expect(other).to_have_attribute("data-status", "approved")
    assert page.evaluate("window.stillHere") is True, "the review should swap the card, not reload the page"
    assert api.get(f"/v1/loyalty/customers/{seeded['customer']}/points").json()["balance"] == 150

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Task review")).to_be_visible()
    expect(page.get_by_text("Nothing to review.")).to_be_visible()
    assert not failures, failures
