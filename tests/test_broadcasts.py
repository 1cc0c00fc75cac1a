"""Broadcasts end to end: segment → plan in the warehouse under contact pressure → send through the SMTP peer →
delivery events in the warehouse → the report; caps, quiet hours, consent, refusal, dedup and priority."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.helpers.customers import post_customer
from tests.peers.smtp import smtp_server
from yutang.kit.clock import utcnow

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def smtp():
    with smtp_server() as (sink, port):
        yield sink, port


def daytime_after(instant: datetime) -> datetime:
    """A moment at or after instant that is outside 22:00–08:00 in Shanghai."""
    local = (instant + timedelta(minutes=1)).astimezone(ZONE)
    if local.hour >= 22:
        local = (local + timedelta(days=1)).replace(hour=8, minute=30)
    elif local.hour < 8:
        local = local.replace(hour=8, minute=30)
    return local.astimezone(UTC)


def night_after(instant: datetime) -> datetime:
    """The first 23:00 in Shanghai after instant (so what was sent before instant falls inside the caps' window)."""
    local = (instant + timedelta(minutes=1)).astimezone(ZONE)
    night = local.replace(hour=23, minute=0, second=0, microsecond=0)
    return night if night > local else night + timedelta(days=1)


@pytest.fixture
def world(api, app, pipeline, smtp):
    sink, port = smtp
    config = api.post("/v1/messaging/channels", json={"kind": "email", "name": "Mail", "settings": {
        "host": "127.0.0.1", "port": port, "sender": "brand@shop.example"}}).json()
    template = api.post("/v1/messaging/templates", json={
        "name": "新品", "channel_kind": "email", "purpose": "marketing", "subject": "{{ name }}，新茶到了",
        "body": "{{ name }}，秋茶上新。"}).json()
    assert api.put("/v1/messaging/pressure", json={
        "caps": [{"name": "weekly", "limit": 2, "window_days": 7}], "quiet_start": "22:00", "quiet_end": "08:00",
        "wecom_group_sends_per_month": 4}).status_code == 200
    ids = {name: post_customer(api, name, fields={"city": "杭州"}, email=f"{name.lower()}-{config['id']}@example.com")
           for name in ("A", "B", "C", "D", "E")}
    assert api.post(f"/v1/customers/{ids['C']}/consents", json={
        "channel": "email", "status": "withdrawn", "method": "unsubscribe link"}).status_code == 201
    assert api.post(f"/v1/customers/{ids['D']}/consents", json={
        "channel": "personalised_marketing", "status": "withdrawn", "method": "settings"}).status_code == 201
    # B was messaged twice this week, E once (marketing, through the same channel and the sender job).
    for name, times in (("B", 2), ("E", 1)):
        for _ in range(times):
            sent = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": ids[name],
                                                  "template_id": template["id"]})
            assert sent.status_code == 202, sent.text
    app.state.dispatcher.drain()
    pipeline.catch_up()
    city = api.post("/v1/segments", json={"name": "杭州", "rule": {
        "type": "attribute", "field": "city", "op": "eq", "value": "杭州"}}).json()
    picked = api.post("/v1/segments", json={"name": "挑选", "kind": "static",
                                            "customer_ids": [ids["A"], ids["E"]]}).json()
    return {"config": config, "template": template, "ids": ids, "city": city["id"], "picked": picked["id"],
            "sink": sink}


def body(world, name, segments, priority=0, **extra) -> dict:
    return {"name": name, "segment_ids": segments, "channel_id": world["config"]["id"],
            "template_id": world["template"]["id"], "priority": priority, **extra}


def recipients(api, broadcast_id, **params) -> dict[int, tuple[str, str | None]]:
    page = api.get(f"/v1/broadcasts/{broadcast_id}/recipients", params=params).json()
    return {r["customer_id"]: (r["outcome"], r["reason"]) for r in page["items"]}


def test_broadcast_end_to_end(api, app, pipeline, world):
    ids = world["ids"]
    now = daytime_after(utcnow())
    preview = api.post("/v1/broadcasts/preview", json=body(world, "p", [world["city"], world["picked"]],
                                                           send_at=now.isoformat()))
    assert preview.status_code == 200, preview.text
    # Two overlapping segments: A is in both and counted once.
    assert preview.json()["candidates"] == 7 and preview.json()["duplicates"] == 2
    assert preview.json()["audience"] == 5
    # At 23:00 local the marketing messages wait for the quiet hours to end (refusals and caps come first).
    night = night_after(utcnow()).replace(tzinfo=None)
    quiet = api.post("/v1/broadcasts/preview", json=body(world, "p", [world["city"]], send_at=night.isoformat()))
    assert quiet.json()["by_reason"] == {"cap:weekly": 1, "consent_withdrawn:email": 1, "refuses_personalised": 1}
    assert quiet.json()["send"] == 0 and quiet.json()["deferred"] == 2
    assert quiet.json()["sample_customer_id"] in ids.values()  # a deferred recipient still reads the message
    assert datetime.fromisoformat(quiet.json()["deferred_until"]) == (night + timedelta(hours=9)).replace(tzinfo=ZONE)

    # Two campaigns due together: the low-priority one to both segments, the high-priority one to the pick.
    # (Without send_at a broadcast starts at once in the background; here the test's clock starts them.)
    due = now.isoformat()
    low = api.post("/v1/broadcasts", json=body(world, "秋茶", [world["city"], world["picked"]], priority=1,
                                                send_at=due))
    high = api.post("/v1/broadcasts", json=body(world, "会员日", [world["picked"]], priority=5, send_at=due))
    later = api.post("/v1/broadcasts", json=body(world, "下周", [world["city"]],
                                                 send_at=(now + timedelta(days=3)).isoformat()))
    assert low.status_code == high.status_code == later.status_code == 201, low.text
    assert low.json()["status"] == "scheduled"
    low_id, high_id, later_id = low.json()["id"], high.json()["id"], later.json()["id"]
    before = len(world["sink"].messages)
    started = app.state.broadcaster.run_due(now=now)
    assert set(started) >= {low_id, high_id} and later_id not in started

    assert recipients(api, high_id) == {ids["A"]: ("sent", None), ids["E"]: ("sent", None)}
    assert recipients(api, low_id) == {
        ids["A"]: ("sent", None),  # nothing this week: room for both campaigns
        ids["B"]: ("suppressed", "cap:weekly"),  # messaged twice this week already
        ids["C"]: ("suppressed", "consent_withdrawn:email"),
        ids["D"]: ("suppressed", "refuses_personalised"),
        ids["E"]: ("suppressed", "cap:weekly"),  # once before + the higher-priority campaign = 2
    }
    report = api.get(f"/v1/broadcasts/{low_id}").json()
    assert report["status"] == "sent" and report["summary"]["duplicates"] == 2
    assert report["summary"]["by_reason"] == {"cap:weekly": 2, "consent_withdrawn:email": 1,
                                              "refuses_personalised": 1}

    # The sender job sends through the SMTP peer; the report follows the delivery states.
    app.state.dispatcher.drain()
    assert len(world["sink"].messages) - before == 3
    report = api.get(f"/v1/broadcasts/{low_id}").json()
    assert report["by_state"] == {"sent": 1, "suppressed": 4}
    statuses = api.get(f"/v1/broadcasts/{low_id}/recipients", params={"outcome": "sent"}).json()["items"]
    assert [(r["customer_id"], r["status"]) for r in statuses] == [(ids["A"], "sent")]

    # Delivery events in the warehouse, suppressions with their reason.
    pipeline.catch_up()
    rows = pipeline.warehouse.query(
        "SELECT customer_id, event, properties ->> 'error_code' FROM events WHERE workspace_id = %(w)s "
        "AND event IN ('Message Sent', 'Message Suppressed') AND ts >= %(t)s AND customer_id = ANY(%(c)s)",
        {"w": api.get("/v1/workspace").json()["id"], "t": now - timedelta(days=1), "c": list(ids.values())})
    assert (ids["B"], "Message Suppressed", "cap:weekly") in rows
    assert (ids["D"], "Message Suppressed", "refuses_personalised") in rows
    assert sum(1 for cid, event, _ in rows if cid == ids["A"] and event == "Message Sent") == 2
    # The queued events name their broadcast (pond health tells broadcasts from single sends by it).
    queued = pipeline.warehouse.query(
        "SELECT customer_id FROM events WHERE workspace_id = %(w)s AND event = 'Message Queued' "
        "AND properties ->> 'broadcast_id' = %(b)s", {"w": api.get("/v1/workspace").json()["id"], "b": str(low_id)})
    assert queued == [(ids["A"],)]

    # Filters and cursor paging of the outcome.
    assert set(recipients(api, low_id, reason="cap:weekly")) == {ids["B"], ids["E"]}
    first = api.get(f"/v1/broadcasts/{low_id}/recipients", params={"limit": 2}).json()
    rest = api.get(f"/v1/broadcasts/{low_id}/recipients", params={"limit": 10, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 2 and len(rest["items"]) == 3 and rest["next_cursor"] is None

    # A third campaign this week finds A at the cap now that two messages reached them.
    again = app.state.broadcaster.run_due(now=now + timedelta(minutes=5))
    assert again == {}
    after = body(world, "p", [world["picked"]], send_at=(now + timedelta(minutes=6)).isoformat())
    assert api.post("/v1/broadcasts/preview", json=after).json()["by_reason"] == {"cap:weekly": 2}

    # Scheduled broadcasts can be cancelled until they start.
    assert api.post(f"/v1/broadcasts/{later_id}/cancel").json()["status"] == "cancelled"
    assert api.post(f"/v1/broadcasts/{later_id}/cancel").status_code == 409
    assert api.post(f"/v1/broadcasts/{low_id}/cancel").status_code == 409
    listed = api.get("/v1/broadcasts").json()["items"]
    assert [b["id"] for b in listed][:3] == [later_id, high_id, low_id]


def test_quiet_hours_defer_until_they_end_and_a_cancel_withdraws(api, app, pipeline, world):
    ids = world["ids"]
    night = night_after(utcnow())
    morning = night + timedelta(hours=9, minutes=1)
    made = api.post("/v1/broadcasts", json=body(world, "夜间", [world["city"]], send_at=night.isoformat()))
    app.state.broadcaster.run_due(now=night)
    report = api.get(f"/v1/broadcasts/{made.json()['id']}").json()
    # Nobody is reached at 23:00 and the broadcast says so: two wait for 08:00, three are suppressed.
    assert report["status"] == "deferred"
    assert report["summary"]["sent"] == 0 and report["summary"]["deferred"] == 2
    assert datetime.fromisoformat(report["summary"]["deferred_until"]) == night + timedelta(hours=9)
    assert recipients(api, made.json()["id"]) == {
        ids["A"]: ("deferred", "quiet_hours"), ids["E"]: ("deferred", "quiet_hours"),
        ids["B"]: ("suppressed", "cap:weekly"), ids["C"]: ("suppressed", "consent_withdrawn:email"),
        ids["D"]: ("suppressed", "refuses_personalised")}
    # A second night broadcast, then cancelled: its deferred messages are withdrawn, never sent.
    other = api.post("/v1/broadcasts", json=body(world, "撤回", [world["picked"]], send_at=night.isoformat()))
    app.state.broadcaster.run_due(now=night)
    assert recipients(api, other.json()["id"])[ids["A"]] == ("deferred", "quiet_hours")
    cancelled = api.post(f"/v1/broadcasts/{other.json()['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert {outcome for outcome, _ in recipients(api, other.json()["id"]).values()} == {"suppressed"}
    assert cancelled.json()["summary"]["deferred"] == 0
    assert api.post(f"/v1/broadcasts/{other.json()['id']}/cancel").status_code == 409

    before = len(world["sink"].messages)
    app.state.dispatcher.drain()  # still night for these messages: nothing goes out
    assert len(world["sink"].messages) == before
    app.state.dispatcher.drain(now=morning.astimezone(UTC))
    assert len(world["sink"].messages) - before == 2
    assert api.get(f"/v1/broadcasts/{made.json()['id']}").json()["by_state"] == {"sent": 2, "suppressed": 3}
    assert api.get(f"/v1/broadcasts/{other.json()['id']}").json()["by_state"] == {"suppressed": len(
        recipients(api, other.json()["id"]))}


def test_bad_input_names_the_field(api, world):
    missing = api.post("/v1/broadcasts", json=body(world, "x", [world["city"], 999_999_999]))
    assert missing.status_code == 404 and missing.json()["field"] == "segment_ids[1]"
    other = api.post("/v1/messaging/templates", json={"name": "n", "channel_kind": "null", "body": "x"}).json()
    wrong = api.post("/v1/broadcasts", json={**body(world, "x", [world["city"]]), "template_id": other["id"]})
    assert wrong.status_code == 422 and wrong.json()["field"] == "template_id"
    half = api.put("/v1/messaging/pressure", json={"caps": [], "quiet_start": "22:00"})
    assert half.status_code == 422 and half.json()["field"] == "quiet_end"
    assert api.post("/v1/broadcasts", json={**body(world, "x", [world["city"]]), "priority": 101}).status_code == 422


def test_roles(client, api, world):
    analyst = api.post("/v1/members", json={"name": "a", "role": "analyst"}).json()["api_key"]["secret"]
    headers = {"Authorization": f"Bearer {analyst}"}
    assert client.post("/v1/broadcasts", headers=headers, json=body(world, "x", [world["city"]])).status_code == 403
    assert client.post("/v1/broadcasts/preview", headers=headers,
                       json=body(world, "x", [world["city"]])).status_code == 200
    assert client.put("/v1/messaging/pressure", headers=headers, json={"caps": []}).status_code == 403


def test_a_broadcast_left_sending_by_a_dead_process_is_sent_later(api, app, database, world):
    from yutang.messaging.models import Broadcast

    now = daytime_after(utcnow())
    made = api.post("/v1/broadcasts", json=body(world, "断电", [world["picked"]], send_at=now.isoformat())).json()
    with database.unit_of_work() as session:  # claimed, then the process died before its send committed
        broadcast = session.get(Broadcast, made["id"])
        broadcast.status, broadcast.started_at = "sending", now - timedelta(minutes=10)
    assert made["id"] not in app.state.broadcaster.run_due(now=now)
    assert made["id"] in app.state.broadcaster.run_due(now=now + timedelta(minutes=25))
    assert api.get(f"/v1/broadcasts/{made['id']}").json()["summary"]["audience"] == 2
