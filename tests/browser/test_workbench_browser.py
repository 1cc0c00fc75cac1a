"""The guide's workbench on a phone (390 px) in Chinese and English: my customers, today's to-do, a task checked
off, a quick tag tapped on and off, a note."""

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.helpers.stores import workbench_world

pytestmark = pytest.mark.browser

WORDS = {
    "zh_CN": {"customers": "我的客户", "today": "今日任务", "done": "标记完成", "stage": "阶段", "tier": "等级",
              "last": "最近购买", "finished": "已完成", "overdue": "逾期未完成", "note": "写备注", "save": "保存备注"},
    "en": {"customers": "My customers", "today": "Today's tasks", "done": "Mark done", "stage": "Stage",
           "tier": "Tier", "last": "Last purchase", "finished": "Done", "overdue": "overdue", "note": "Add a note",
           "save": "Save note"},
}


def test_a_guide_works_from_the_workbench_at_390px(live_server, console_assets, browser, app, tenant, sign_in,
                                                    pipeline):
    api = TestClient(app, headers=tenant.headers)
    key, customers, tasks = workbench_world(api)
    pipeline.catch_up()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    sign_in(page, key)
    for locale in ("zh_CN", "en"):
        words = WORDS[locale]
        page.goto(f"{live_server}/console/language?to={locale}&next=/console/workbench")
        expect(page.locator("#customers-title")).to_contain_text(words["customers"])
        zhang, li = page.locator(f"#customer-{customers['张三']}"), page.locator(f"#customer-{customers['李四']}")
        expect(page.locator("#customers li.card")).to_have_count(2)
        for word in ("stage", "tier", "last"):
            expect(zhang).to_contain_text(words[word])
        expect(zhang).to_contain_text("爱喝茶")
        expect(zhang.locator("small").first).to_contain_text("20")  # the last purchase's date
        expect(li.locator("small").first).to_contain_text("—")  # no purchase yet

        today = page.locator("#today")
        expect(page.locator("#today-title")).to_contain_text(words["today"])
        expect(today.locator("li.card")).to_have_count(2)  # next week's task is not today's
        expect(today).not_to_contain_text("下周门店活动")
        late = page.locator(f"#task-{tasks['给李四打电话']['id']}")
        expect(late).to_contain_text(words["overdue"])
        if locale == "zh_CN":
            # Check today's task off: it stays on the list, done, and its button is gone.
            task = page.locator(f"#task-{tasks['回访张三']['id']}")
            task.get_by_role("button", name=words["done"]).click()
            expect(task).to_contain_text(words["finished"])
            expect(task.get_by_role("button")).to_have_count(0)
            # One tap puts a quick tag on, a second takes it off.
            gift = zhang.locator(".quick-tags").get_by_role("button", name="送礼")
            expect(gift).to_have_attribute("aria-pressed", "false")
            gift.click()
            expect(gift).to_have_attribute("aria-pressed", "true")
            expect(zhang.locator(".chip", has_text="送礼").first).to_be_visible()
            zhang.locator(".quick-tags").get_by_role("button", name="送礼").click()
            expect(zhang.locator(".quick-tags").get_by_role("button", name="送礼")).to_have_attribute(
                "aria-pressed", "false")
            # A note on the customer.
            zhang.get_by_text(words["note"]).click()
            zhang.get_by_role("textbox").fill("喜欢乌龙茶，周末来店")
            zhang.get_by_role("button", name=words["save"]).click()
            expect(page.locator("#customers-title")).to_be_visible()
        else:
            expect(page.locator(f"#task-{tasks['回访张三']['id']}")).to_contain_text(words["finished"])
        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (locale, overflow)
    archive = api.get(f"/v1/customers/{customers['张三']}/archive").json()
    assert [n["body"] for n in archive["notes"]] == ["喜欢乌龙茶，周末来店"]
    assert [t["name"] for t in archive["tags"]] == ["爱喝茶"]
    done = api.get("/v1/stores/tasks", params={"status": "done"}).json()
    assert [t["title"] for t in done] == ["回访张三"] and not done[0]["late"]
    assert not failures, failures
    context.close()
