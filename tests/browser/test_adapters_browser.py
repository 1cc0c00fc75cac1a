"""An owner adds an SMTP adapter through its form, tests the connection and reads the answer in words."""

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from playwright.sync_api import expect

from tests.peers.smtp import smtp_server

pytestmark = pytest.mark.browser


def test_owner_adds_an_smtp_adapter_and_tests_the_connection(live_server, console_assets, browser, tenant, sign_in):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"right"
        return AuthResult(success=ok, handled=False)

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    with smtp_server(authenticator=authenticator, auth_require_tls=False) as (_, port):
        sign_in(page, tenant.key, next="/console/settings")
        page.get_by_role("link", name="渠道适配器").click()
        page.get_by_role("link", name="邮箱", exact=True).click()
        page.get_by_label("通道名称").fill("会员邮件")
        page.get_by_label("SMTP 服务器").fill("127.0.0.1")
        page.get_by_label("端口").fill(str(port))
        page.get_by_label("发件地址").fill("club@brand.example")
        page.get_by_label("用户名").fill("mailer")
        page.get_by_label("密码").fill("wrong")
        page.get_by_role("button", name="添加通道").click()
        card = page.locator("article.setting-row", has_text="会员邮件")
        expect(card).to_contain_text("••••••••")
        card.get_by_role("button", name="测试连接").click()  # HTMX swaps the answer in beside the button
        expect(card.locator(".check-result")).to_contain_text("用户名或密码被拒绝")
        expect(card.locator(".check-result")).to_contain_text("535")
        card.get_by_role("button", name="编辑").click()
        page.get_by_label("密码").fill("right")
        page.get_by_role("button", name="保存").click()
        card = page.locator("article.setting-row", has_text="会员邮件")
        card.get_by_role("button", name="测试连接").click()
        expect(card.locator(".check-result")).to_contain_text("连接成功")
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390
    assert not failures, failures
    context.close()
