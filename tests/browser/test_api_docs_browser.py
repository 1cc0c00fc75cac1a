"""/docs and /redoc render the API's operations with no network beyond this server (the assets come from npm)."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _offline(page, live_server) -> list[str]:
    """Refuse every request that leaves the server, and keep a list of them."""
    outside: list[str] = []

    def route(request_route):
        if request_route.request.url.startswith(live_server):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    return outside


def test_swagger_ui_renders_the_operations_offline(live_server, console_assets, page):
    outside = _offline(page, live_server)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/docs")
    tags = page.locator(".opblock-tag")
    expect(tags.filter(has_text="webhooks")).to_be_visible(timeout=60_000)  # the machine may be shared
    assert tags.count() >= 12  # every tag is listed, folded
    tags.filter(has_text="customers").first.click()
    expect(page.locator(".opblock-summary-path", has_text="/v1/customers/{customer_id}").first).to_be_visible()
    assert page.locator(".opblock").count() >= 10
    icon = page.locator("link[rel~=icon]").first.get_attribute("href")
    assert page.request.get(f"{live_server}{icon}").headers["content-type"] == "image/png"
    assert outside == [] and errors == []


def test_redoc_renders_the_operations_offline(live_server, console_assets, page):
    outside = _offline(page, live_server)
    page.goto(f"{live_server}/redoc")
    expect(page.get_by_text("/v1/customers/{customer_id}/archive").first).to_be_attached(timeout=60_000)
    expect(page.get_by_role("heading", name="Create Segment").first).to_be_attached()
    assert outside == []
