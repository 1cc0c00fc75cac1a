"""The journeys console pages in Chinese and English: the list with counts, one journey's steps as a graph."""

from tests.helpers.console import signed_in
from tests.helpers.customers import post_customer
from tests.helpers.journeys import enrol, live_journey, null_channel
from yutang.journeys import stats


def test_journey_pages_in_chinese_and_english(app, api, tenant, client):
    channel_id, template_id = null_channel(api)
    journey = live_journey(api, {
        "entry": {"kind": "api"}, "goal": {"event": "Order Paid", "within_days": 7}, "start": "hello", "steps": {
            "hello": {"kind": "send", "channel_id": channel_id, "template_id": template_id, "next": "wait"},
            "wait": {"kind": "wait", "at": "10:00", "days": 3, "next": "end"}, "end": {"kind": "exit"}}},
        name="新朋友欢迎")
    for n in range(3):
        enrol(api, journey["id"], post_customer(api, f"客{n}"))
    client.app.state.journeys.run_until_idle()
    console = signed_in(app, tenant.key)
    listing = console.get("/console/journeys")
    assert listing.status_code == 200 and "自动化旅程" in listing.text and "新朋友欢迎" in listing.text
    assert "运行中" in listing.text and "达成目标" in listing.text
    detail = console.get(f"/console/journeys/{journey['id']}")
    assert detail.status_code == 200
    assert "发送消息" in detail.text and "3 天后的当地时间 10:00" in detail.text and "进入后 7 天内" in detail.text
    assert '<tr id="step-wait">' in detail.text
    row = detail.text.split('<tr id="step-wait">')[1].split("</tr>")[0]
    assert '<td class="num">3</td><td class="num">3</td>' in row  # entered, waiting
    assert console.get("/console/journeys/999999").status_code == 404
    console.get("/console/language?to=en")
    english = console.get(f"/console/journeys/{journey['id']}").text
    assert "Send a message" in english and "until 10:00 local time, 3 days on" in english
    assert "Journeys" in console.get("/console/journeys").text


def _experiment(api, client) -> dict:
    journey = live_journey(api, {
        "entry": {"kind": "api"}, "goal": {"event": "Order Paid", "within_days": 7}, "start": "split", "steps": {
            "split": {"kind": "experiment", "name": "欢迎语测试", "min_per_variant": 50,
                      "variants": [{"key": "control"}, {"key": "warm"}]}}}, name="实验页面")
    for n in range(12):
        enrol(api, journey["id"], post_customer(api, f"试{n}"))
    client.app.state.journeys.run_until_idle()
    return journey


def test_experiment_results_page_says_when_it_can_be_read(app, api, tenant, client):
    journey = _experiment(api, client)
    console = signed_in(app, tenant.key)
    detail = console.get(f"/console/journeys/{journey['id']}").text
    assert f'/console/journeys/{journey["id"]}/experiments/split' in detail and "查看「欢迎语测试」结果" in detail
    page = console.get(f"/console/journeys/{journey['id']}/experiments/split")
    assert page.status_code == 200
    assert "现在还不能下结论。" in page.text and "固定观察期尚未结束" in page.text
    assert "有实验组的曝光数未达到最小样本量" in page.text and "最早可在" in page.text
    assert "分流符合计划" in page.text and "旅程目标" in page.text
    exposures = [int(row.split('<td class="num">')[2].split("<")[0])
                 for row in page.text.split('<tr id="variant-')[1:]]
    assert sum(exposures) == 12
    sized = console.get(f"/console/journeys/{journey['id']}/experiments/split", params={"baseline": "10", "lift": "2"})
    per = stats.sample_size(0.10, 0.02)
    assert f"每组需 {per} 次曝光，共 {2 * per} 次" in sized.text
    assert "请输入数字" in console.get(f"/console/journeys/{journey['id']}/experiments/split",
                                   params={"baseline": "十", "lift": "2"}).text
    assert "0 到 100% 之间" in console.get(f"/console/journeys/{journey['id']}/experiments/split",
                                         params={"baseline": "99", "lift": "5"}).text
    assert console.get(f"/console/journeys/{journey['id']}/experiments/nope").status_code == 404
    console.get("/console/language?to=en")
    english = console.get(f"/console/journeys/{journey['id']}/experiments/split", params={"baseline": "10",
                                                                                          "lift": "2"}).text
    assert "Do not read the result yet." in english
    assert f"{per} exposures per variant, {2 * per} in all (power 80%," in english
