"""The seeded demo brand in headless Chromium: every console section shows the demo's own content, not an empty
state — customers, an archive with a merge, segments, lifecycle, loyalty, templates, a broadcast's report,
messages, pond health and the inbox."""

import secrets

import pytest
from playwright.sync_api import expect

from yutang.demo import seed as demo_seed
from yutang.demo import sinks as demo_sinks

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_every_console_section_of_the_seeded_demo_has_content(live_server, console_assets, page, database,
                                                              pipeline, sign_in):
    with demo_sinks.running() as sinks:
        pipeline.pause()  # the seeder catches the pipeline up itself, as `yutang demo` does before serving
        try:
            brand = demo_seed.seed_brand(database, pipeline, sinks=sinks, showcase=20, visitors=600,
                                         slug="demo-" + secrets.token_hex(4))
        finally:
            pipeline.start()
        failures: list[str] = []
        page.on("pageerror", lambda error: failures.append(str(error)))
        sign_in(page, brand.key, next="/console/customers")

        expect(page.locator("main table tbody tr").first).to_be_visible()
        page.get_by_role("searchbox").fill("林晓雯")
        page.get_by_role("link", name="林晓雯").click()
        expect(page.locator("#merges li")).to_have_count(1)
        expect(page.locator("#merges")).to_contain_text("天猫会员绑定手机号")

        page.goto(f"{live_server}/console/segments")
        for name in ("高价值复购", "沉睡唤醒", "新客首购", "绿茶爱好者", "春茶品鉴会邀请名单"):
            expect(page.get_by_role("link", name=name)).to_be_visible()
        expect(page.locator("main .empty")).to_have_count(0)

        page.goto(f"{live_server}/console/lifecycle")
        expect(page.locator("#stages tbody tr").first).to_be_visible()
        expect(page.locator("#stages")).not_to_contain_text("Not computed")

        page.goto(f"{live_server}/console/loyalty")
        expect(page.locator("#rules")).to_contain_text("消费 1 元得 1 积分")
        for tier in ("银卡会员", "金卡会员", "黑金会员"):
            expect(page.locator("#tiers")).to_contain_text(tier)
        page.goto(f"{live_server}/console/loyalty/coupons")
        expect(page.locator("#coupon-templates")).to_contain_text("满 300 减 50")
        page.goto(f"{live_server}/console/loyalty/review")
        expect(page.locator("#review-queue")).to_contain_text("晒单好评截图")

        page.goto(f"{live_server}/console/templates")
        for name in ("春茶上新短信", "会员月报邮件", "订单同步 Webhook", "企业微信欢迎语"):
            expect(page.locator("#templates-panel")).to_contain_text(name)

        page.goto(f"{live_server}/console/broadcasts")
        page.get_by_role("link", name="春茶上新 · 高价值复购客户").click()
        expect(page.locator("#by-reason [data-reason='consent_withdrawn:sms']")).to_have_text("2")
        # Receipts are drawn at random per message (delivered, read or clicked): any of them shows the report lives.
        expect(page.locator("#by-state [data-state=delivered], #by-state [data-state=read], "
                            "#by-state [data-state=clicked]").first).to_be_visible()
        expect(page.locator("#recipients tbody tr").first).to_be_visible()

        page.goto(f"{live_server}/console/messages")
        expect(page.locator("#report .status-delivered")).to_be_visible()
        expect(page.locator("#delivery-log tbody tr").first).to_be_visible()
        expect(page.locator("#adapters")).to_contain_text("短信（本地演示网关）")

        page.goto(f"{live_server}/console/analytics/health")
        expect(page.locator("#kinds tbody tr[data-kind]")).to_have_count(1)
        expect(page.locator("#kinds")).to_contain_text("短信（本地演示网关）")
        expect(page.locator('#fatigue tr[data-touches="1"]')).to_be_visible()

        page.goto(f"{live_server}/console/inbox")
        page.get_by_role("link", name="林晓雯").click()
        expect(page.locator("#conversation")).to_contain_text("明前龙井什么时候到货")
        expect(page.locator("#conversation")).to_contain_text("可以先帮您预留两盒")
        expect(page.locator("#conversation")).to_contain_text("好的，谢谢")
        assert not failures, failures
