"""A live console for the browser tests: the real app under uvicorn on a loopback port, and headless Chromium."""

from pathlib import Path

import pytest

from tests.helpers.console import sign_in_link

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def console_assets():
    """The console's npm packages, which the browser tests need for HTMX."""
    assets = ROOT / "node_modules"
    if not (assets / "htmx.org" / "dist" / "htmx.min.js").is_file():
        pytest.fail(f"the console's npm packages are not installed in {assets}: run `npm ci` in {ROOT}")
    return assets


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
                    "(apt-get install chromium, or scripts/setup --dev)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) with one page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def sign_in(live_server, database):
    """Sign a page in to the console as a key's member through a one-time sign-in link; lands on `next`."""

    def go(page, key: str, next: str = "") -> None:
        page.goto(live_server + sign_in_link(database, key) + (f"?next={next}" if next else ""))
        with page.expect_navigation():
            page.locator('form[action^="/console/sign-in/"] button[type=submit]').click()
        if "/console/login" in page.url or "/console/sign-in/" in page.url:
            raise AssertionError(f"the sign-in link was refused: {page.url}")

    return go
