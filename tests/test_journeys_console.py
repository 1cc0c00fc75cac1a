"""The journeys console pages in Chinese and English: the list with counts, one journey's steps as a graph."""

from tests.helpers.console import signed_in
from tests.helpers.customers import post_customer
from tests.helpers.journeys import enrol, live_journey, null_channel


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
