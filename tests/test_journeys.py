"""Journeys on the stores: definitions and versions, enrolment under the re-entry policy, steps run by the runner
(send, wait in local time, task, tags, branch), exits and goals on every event, failures kept to one enrolment,
and the durable state across a restart."""

import secrets
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tests.helpers.customers import post_customer
from tests.helpers.events import basic, new_source
from tests.helpers.journeys import enrol, live_journey, null_channel, steps_of
from yutang.journeys.runner import Runner
from yutang.messaging.models import Message

WELCOME = "welcome"


def _welcome(channel_id: int, template_id: int, tag_id: int) -> dict:
    return {"entry": {"kind": "api"}, "reentry": "never", "start": "hello", "steps": {
        "hello": {"kind": "send", "channel_id": channel_id, "template_id": template_id, "next": "morning"},
        "morning": {"kind": "wait", "at": "09:30", "days": 1, "next": "mark"},
        "mark": {"kind": "tag", "add": [tag_id], "next": "end"},
        "end": {"kind": "exit"}}}


def _tag(api) -> int:
    group = api.post("/v1/tag-groups", json={"name": "旅程" + secrets.token_hex(3), "tags": ["新朋友"]}).json()
    return group["tags"][0]["id"]


def _runner(client) -> Runner:
    return client.app.state.journeys


def _messages(database, key_prefix: str) -> int:
    with database.read_only() as session:
        return session.scalar(select(func.count()).select_from(Message)
                              .where(Message.idempotency_key.like(key_prefix + "%")))


def test_a_welcome_journey_sends_waits_until_local_morning_then_tags(api, client, database):
    channel_id, template_id = null_channel(api)
    tag_id = _tag(api)
    journey = live_journey(api, _welcome(channel_id, template_id, tag_id))
    customer = post_customer(api, "小王")
    entered = enrol(api, journey["id"], customer, source="qr")
    assert entered["enrolled"] is True and entered["enrolment"]["properties"] == {"source": "qr"}
    _runner(client).run_until_idle()
    enrolment = api.get(f"/v1/journeys/enrolments/{entered['enrolment']['id']}").json()
    assert enrolment["step"] == "morning" and enrolment["status"] == "active"
    due = datetime.fromisoformat(enrolment["due_at"])
    # 09:30 in Shanghai (the workspace's zone) is 01:30 UTC, never 09:30 UTC.
    assert (due.astimezone(UTC).hour, due.astimezone(UTC).minute) == (1, 30)
    assert _messages(database, f"journey:{enrolment['id']}:hello:") == 1
    assert steps_of(api, journey["id"])["morning"] == {"entered": 1, "waiting": 1, "done": 0, "failed": 0,
                                                      "exited": 0, "goal": 0}
    _runner(client).run_until_idle(now=due - timedelta(seconds=1))
    assert api.get(f"/v1/journeys/enrolments/{enrolment['id']}").json()["step"] == "morning"
    _runner(client).run_until_idle(now=due + timedelta(seconds=1))
    done = api.get(f"/v1/journeys/enrolments/{enrolment['id']}").json()
    assert done["status"] == "done" and done["step"] == "end" and done["due_at"] is None
    assert [t["tag_id"] for t in api.get(f"/v1/customers/{customer}/archive").json()["tags"]] == [tag_id]
    counts = api.get(f"/v1/journeys/{journey['id']}/counts").json()
    assert counts["totals"] == {"active": 0, "done": 1, "exited": 0, "failed": 0, "entered": 1, "goal": 0}
    assert {s["step"]: (s["entered"], s["done"]) for s in counts["steps"]} == {
        "hello": (1, 1), "morning": (1, 1), "mark": (1, 1), "end": (1, 1)}
    # Never again: the policy says so, and nothing is left to run.
    assert enrol(api, journey["id"], customer) == {"enrolled": False, "reason": "not_again", "enrolment": None}
    assert _messages(database, f"journey:{enrolment['id']}:") == 1


def test_a_bad_definition_is_refused_naming_the_step(api):
    channel_id, template_id = null_channel(api)
    email = api.post("/v1/messaging/templates", json={"name": "邮件", "channel_kind": "email",
                                                      "subject": "s", "body": "b"}).json()["id"]
    cases = [
        ({"start": "a", "steps": {"a": {"kind": "exit"}, "b": {"kind": "exit"}}}, "definition.steps.b"),
        ({"start": "a", "steps": {"a": {"kind": "wait", "days": 1, "next": "zz"}}}, "definition.steps.a.next"),
        ({"start": "a", "steps": {"a": {"kind": "send", "channel_id": channel_id, "template_id": email}}},
         "definition.steps.a.template_id"),
        ({"start": "a", "steps": {"a": {"kind": "tag", "add": [999999999]}}}, "definition.steps.a"),
        ({"start": "a", "steps": {"a": {"kind": "branch", "condition": {"kind": "segment", "segment_id": 99999999},
                                        "yes": None, "no": None}}}, "definition.steps.a.condition.segment_id"),
    ]
    for definition, field in cases:
        response = api.post("/v1/journeys", json={"name": "坏的", "definition": {"entry": {"kind": "api"},
                                                                                **definition}})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == field, response.json()
    bad_time = api.post("/v1/journeys", json={"name": "坏的", "definition": {
        "entry": {"kind": "api"}, "start": "a", "steps": {"a": {"kind": "wait", "at": "7:00", "next": "b"},
                                                            "b": {"kind": "exit"}}}})
    assert bad_time.status_code == 422 and "steps" in bad_time.json()["errors"][0]["field"]


def test_editing_a_live_journey_makes_a_version_and_enrolled_customers_stay_on_theirs(api, client):
    channel_id, template_id = null_channel(api)
    tag_id = _tag(api)
    journey = live_journey(api, _welcome(channel_id, template_id, tag_id), name="可编辑")
    first = post_customer(api, "甲")
    old = enrol(api, journey["id"], first)["enrolment"]
    _runner(client).run_until_idle()
    changed = _welcome(channel_id, template_id, tag_id)
    changed["steps"]["morning"] = {"kind": "wait", "days": 3, "next": "end"}
    del changed["steps"]["mark"]
    edited = api.patch(f"/v1/journeys/{journey['id']}", json={"definition": changed})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    second = post_customer(api, "乙")
    new = enrol(api, journey["id"], second)["enrolment"]
    assert new["version_id"] != old["version_id"]
    _runner(client).run_until_idle(now=datetime.now(UTC) + timedelta(days=2))
    # The first stays on version 1 (tomorrow 09:30, then the tag); the second waits 3 days on version 2.
    assert api.get(f"/v1/journeys/enrolments/{old['id']}").json()["status"] == "done"
    assert api.get(f"/v1/journeys/enrolments/{new['id']}").json()["step"] == "morning"
    versions = api.get(f"/v1/journeys/{journey['id']}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert steps_of(api, journey["id"], 1)["mark"]["done"] == 1 and "mark" not in steps_of(api, journey["id"], 2)


def test_reentry_policies_and_one_active_enrolment(api, client):
    channel_id, template_id = null_channel(api)
    definition = {"entry": {"kind": "api"}, "reentry": "always", "start": "w", "steps": {
        "w": {"kind": "wait", "hours": 1, "next": "end"}, "end": {"kind": "exit"}}}
    always = live_journey(api, definition, name="随时可再入")
    after = live_journey(api, {**definition, "reentry": "after", "reentry_days": 7}, name="七天后再入")
    customer = post_customer(api, "丙")
    assert enrol(api, always["id"], customer)["enrolled"] is True
    assert enrol(api, always["id"], customer) == {"enrolled": False, "reason": "already_active", "enrolment": None}
    assert enrol(api, after["id"], customer)["enrolled"] is True
    _runner(client).run_until_idle(now=datetime.now(UTC) + timedelta(hours=2))
    assert enrol(api, always["id"], customer)["enrolled"] is True
    assert enrol(api, after["id"], customer)["reason"] == "not_again"
    assert api.get(f"/v1/journeys/{always['id']}/counts").json()["totals"]["entered"] == 2
    bad = api.post("/v1/journeys", json={"name": "x", "definition": {**definition, "reentry": "after"}})
    assert bad.status_code == 422


def _track(client, key, user, event, message_id, **properties):
    body = {"type": "track", "userId": user, "event": event, "messageId": message_id, "properties": properties}
    assert client.post("/v1/track", json=body, headers=basic(key)).status_code == 200


def test_events_enter_exit_at_any_step_and_reach_the_goal(api, client, pipeline, tenant):
    key = new_source(api)
    definition = {"entry": {"kind": "event", "event": "Friend Added",
                            "filters": [{"property": "source", "value": "store"}]},
                  "exit_on": [{"event": "Unsubscribed"}], "goal": {"event": "Order Placed", "within_days": 7},
                  "start": "w", "steps": {"w": {"kind": "wait", "days": 30, "next": "end"}, "end": {"kind": "exit"}}}
    journey = live_journey(api, definition, name="事件旅程")
    leaving, buying, online = (post_customer(api, n, app_user_id=f"jy-{n}") for n in ("leave", "buy", "online"))
    _track(client, key, "jy-leave", "Friend Added", "fa-1", source="store")
    _track(client, key, "jy-buy", "Friend Added", "fa-2", source="store")
    _track(client, key, "jy-online", "Friend Added", "fa-3", source="online")
    pipeline.catch_up()
    _runner(client).run_until_idle()
    active = api.get(f"/v1/journeys/{journey['id']}/enrolments", params={"status": "active"}).json()
    assert sorted(e["customer_id"] for e in active) == sorted([leaving, buying]) and online not in active
    # The same event read again (the listener's overlap) enters nobody twice.
    pipeline.journeys.catch_up()
    # Exits apply at once, in the middle of a 30-day wait.
    _track(client, key, "jy-leave", "Unsubscribed", "un-1")
    _track(client, key, "jy-buy", "Order Placed", "op-1")
    pipeline.catch_up()
    by_customer = {e["customer_id"]: e for e in api.get(f"/v1/journeys/{journey['id']}/enrolments").json()}
    assert by_customer[leaving]["status"] == "exited" and by_customer[leaving]["reason"] == "exit_event:Unsubscribed"
    assert by_customer[buying]["status"] == "exited" and by_customer[buying]["reason"] == "goal"
    assert by_customer[buying]["goal_at"] is not None
    assert steps_of(api, journey["id"])["w"] == {"entered": 2, "waiting": 0, "done": 0, "failed": 0, "exited": 2,
                                                 "goal": 1}
    pipeline.catch_up()
    events = pipeline.warehouse.query("SELECT event, COUNT(*) FROM events WHERE workspace_id = %(w)s "
                                      "AND event LIKE 'Journey %%' GROUP BY event", {"w": tenant.id})
    assert dict(events) == {"Journey Entered": 2, "Journey Exited": 2, "Journey Converted": 1}


def test_a_branch_asks_whether_the_event_happened_during_the_wait(api, client, pipeline):
    key = new_source(api)
    tag_id = _tag(api)
    journey = live_journey(api, {"entry": {"kind": "api"}, "start": "w", "steps": {
        "w": {"kind": "wait", "days": 3, "next": "paid"},
        "paid": {"kind": "branch", "condition": {"kind": "event", "event": "Order Placed"}, "yes": None,
                 "no": "nudge"},
        "nudge": {"kind": "tag", "add": [tag_id]}}}, name="首购提醒")
    bought, idle = post_customer(api, "买了", app_user_id="br-1"), post_customer(api, "没买", app_user_id="br-2")
    ids = {c: enrol(api, journey["id"], c)["enrolment"]["id"] for c in (bought, idle)}
    _runner(client).run_until_idle()
    _track(client, key, "br-1", "Order Placed", "br-op-1")
    pipeline.catch_up()
    _runner(client).run_until_idle(now=datetime.now(UTC) + timedelta(days=3, minutes=1))
    assert api.get(f"/v1/journeys/enrolments/{ids[bought]}").json()["step"] == "paid"
    assert api.get(f"/v1/journeys/enrolments/{ids[idle]}").json()["step"] == "nudge"
    assert api.get(f"/v1/customers/{bought}/archive").json()["tags"] == []
    assert [t["tag_id"] for t in api.get(f"/v1/customers/{idle}/archive").json()["tags"]] == [tag_id]


def test_a_send_error_fails_only_that_enrolment_with_backoff_then_parks_it(api, client, database):
    sms = api.post("/v1/messaging/channels", json={"kind": "sms", "name": "短信", "settings": {
        "url": "http://127.0.0.1:9/sms"}, "secrets": {"api_key": "k"}}).json()
    template = api.post("/v1/messaging/templates", json={"name": "短信", "channel_kind": "sms",
                                                         "purpose": "service", "body": "您好",
                                                         "payload": {"template": "SMS_0001"}}).json()
    assert "id" in sms and "id" in template, (sms, template)
    journey = live_journey(api, {"entry": {"kind": "api"}, "start": "sms", "steps": {
        "sms": {"kind": "send", "channel_id": sms["id"], "template_id": template["id"]}}}, name="短信旅程")
    with_phone = post_customer(api, "有手机", phone="13900007777")
    without = post_customer(api, "无手机")
    ok = enrol(api, journey["id"], with_phone)["enrolment"]["id"]
    bad = enrol(api, journey["id"], without)["enrolment"]["id"]
    runner = _runner(client)
    runner.run_until_idle()
    assert api.get(f"/v1/journeys/enrolments/{ok}").json()["status"] == "done"
    failing = api.get(f"/v1/journeys/enrolments/{bad}").json()
    assert failing["status"] == "active" and failing["attempts"] == 1 and "phone" in failing["error"]
    now = datetime.now(UTC)
    for _ in range(4):
        now += timedelta(hours=2)
        runner.run_until_idle(now=now)
    parked = api.get(f"/v1/journeys/enrolments/{bad}").json()
    assert parked["status"] == "failed" and parked["attempts"] == 5 and parked["reason"].startswith("sms: ")
    assert steps_of(api, journey["id"])["sms"] == {"entered": 2, "waiting": 0, "done": 1, "failed": 1, "exited": 0,
                                                   "goal": 0}
    assert _messages(database, f"journey:{ok}:") == 1 and _messages(database, f"journey:{bad}:") == 0
    # Replayed once the customer has a phone: it goes through.
    api.post(f"/v1/customers/{without}/identities", json=[{"kind": "phone", "value": "13900008888"}])
    assert api.post(f"/v1/journeys/enrolments/{bad}/replay").json()["status"] == "active"
    runner.run_until_idle()
    assert api.get(f"/v1/journeys/enrolments/{bad}").json()["status"] == "done"
    assert api.post(f"/v1/journeys/enrolments/{bad}/replay").status_code == 409


def test_due_steps_survive_a_restart_and_run_once(api, client, database, pipeline):
    channel_id, template_id = null_channel(api)
    journey = live_journey(api, {"entry": {"kind": "api"}, "start": "w", "steps": {
        "w": {"kind": "wait", "hours": 1, "next": "hello"},
        "hello": {"kind": "send", "channel_id": channel_id, "template_id": template_id}}}, name="重启")
    customers = [post_customer(api, f"客{n}") for n in range(7)]
    ids = [enrol(api, journey["id"], c)["enrolment"]["id"] for c in customers]
    _runner(client).run_until_idle()
    # The runtime stops; a new one starts on the same store (nothing was held in memory).
    _runner(client).stop()
    try:
        fresh = Runner(database.factory, lambda s, c: pipeline.segments.is_member(segment_id=s, customer_id=c),
                       batch_size=3)
        later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
        assert fresh.run_until_idle(now=later) == 7
        assert fresh.run_until_idle(now=later + timedelta(days=1)) == 0
    finally:
        _runner(client).start()
    assert sum(_messages(database, f"journey:{i}:") for i in ids) == 7
    assert api.get(f"/v1/journeys/{journey['id']}/counts").json()["totals"]["done"] == 7


def test_pausing_holds_steps_and_stopping_lets_everyone_out(api, client):
    journey = live_journey(api, {"entry": {"kind": "api"}, "start": "w", "steps": {
        "w": {"kind": "wait", "hours": 1, "next": "end"}, "end": {"kind": "exit"}}}, name="暂停")
    customer = post_customer(api, "丁")
    enrolment = enrol(api, journey["id"], customer)["enrolment"]["id"]
    assert api.post(f"/v1/journeys/{journey['id']}/pause").json()["status"] == "paused"
    assert api.post(f"/v1/journeys/{journey['id']}/enrolments", json={"customer_id": customer}).status_code == 409
    _runner(client).run_until_idle(now=datetime.now(UTC) + timedelta(hours=2))
    assert api.get(f"/v1/journeys/enrolments/{enrolment}").json()["status"] == "active"
    assert api.post(f"/v1/journeys/{journey['id']}/pause").status_code == 409
    assert api.post(f"/v1/journeys/{journey['id']}/stop").json()["status"] == "stopped"
    stopped = api.get(f"/v1/journeys/enrolments/{enrolment}").json()
    assert stopped["status"] == "exited" and stopped["reason"] == "stopped"
    assert steps_of(api, journey["id"])["w"]["exited"] == 1


def test_contact_pressure_holds_a_send_in_quiet_hours_and_a_cap_suppresses_it(api, client, database):
    channel_id, template_id = null_channel(api)
    journey = live_journey(api, {"entry": {"kind": "api"}, "reentry": "always", "start": "hello", "steps": {
        "hello": {"kind": "send", "channel_id": channel_id, "template_id": template_id}}}, name="打扰")
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    start, end = (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=1)).strftime("%H:%M")
    api.put("/v1/messaging/pressure", json={"caps": [], "quiet_start": start, "quiet_end": end})
    customer = post_customer(api, "戊")
    held = enrol(api, journey["id"], customer)["enrolment"]["id"]
    _runner(client).run_until_idle()
    waiting = api.get(f"/v1/journeys/enrolments/{held}").json()
    assert waiting["step"] == "hello" and waiting["error"] == "quiet_hours"
    assert datetime.fromisoformat(waiting["due_at"]).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M") == end
    assert _messages(database, f"journey:{held}:") == 0
    _runner(client).run_until_idle(now=datetime.fromisoformat(waiting["due_at"]) + timedelta(seconds=1))
    assert _messages(database, f"journey:{held}:") == 1
    # One marketing message a day: the next pass through the journey is suppressed, and the journey goes on.
    daily = {"caps": [{"name": "daily", "limit": 1, "window_days": 1}]}
    assert api.put("/v1/messaging/pressure", json=daily).is_success
    again = enrol(api, journey["id"], customer)["enrolment"]["id"]
    _runner(client).run_until_idle()
    assert api.get(f"/v1/journeys/enrolments/{again}").json()["status"] == "done", \
        str(api.get(f"/v1/journeys/enrolments/{again}").json())
    assert _messages(database, f"journey:{again}:") == 0


def test_a_task_step_goes_to_the_customer_s_owner_once(api, client):
    store = api.post("/v1/stores", json={"code": "jy", "name": "旅程店", "region": "华东"}).json()
    member = api.post("/v1/members", json={"name": "小美", "role": "guide"}).json()["member"]["id"]
    staff = api.post("/v1/stores/staff", json={"name": "小美", "member_id": member, "store_id": store["id"]}).json()
    journey = live_journey(api, {"entry": {"kind": "api"}, "start": "call", "steps": {
        "call": {"kind": "task", "title": "新朋友回访", "note": "问候并介绍会员权益", "due_hours": 48}}}, name="回访")
    owned, orphan = post_customer(api, "有主"), post_customer(api, "无主")
    api.post(f"/v1/stores/owners/{owned}/claim", json={"member_id": member})
    ok = enrol(api, journey["id"], owned)["enrolment"]["id"]
    lost = enrol(api, journey["id"], orphan)["enrolment"]["id"]
    _runner(client).run_until_idle()
    tasks = api.get("/v1/stores/tasks", params={"staff_id": staff["id"]}).json()
    assert [(t["title"], t["customer_id"]) for t in tasks] == [("新朋友回访", owned)]
    assert api.get(f"/v1/journeys/enrolments/{ok}").json()["status"] == "done"
    failing = api.get(f"/v1/journeys/enrolments/{lost}").json()
    assert failing["status"] == "active" and failing["attempts"] == 1 and "owner" in failing["error"]


def test_entering_a_segment_enters_the_journey(api, client, pipeline):
    tag_id = _tag(api)
    segment = api.post("/v1/segments", json={"name": "旅程人群", "rule": {"type": "tag", "tag_ids": [tag_id]}}).json()
    journey = live_journey(api, {"entry": {"kind": "segment", "segment_id": segment["id"]}, "start": "w", "steps": {
        "w": {"kind": "wait", "days": 1, "next": "end"}, "end": {"kind": "exit"}}}, name="人群旅程")
    inside, outside = post_customer(api, "在内"), post_customer(api, "在外")
    api.post(f"/v1/customers/{inside}/tags", json={"add": [{"id": tag_id}]})
    pipeline.catch_up()
    pipeline.catch_up()
    enrolled = api.get(f"/v1/journeys/{journey['id']}/enrolments").json()
    assert [e["customer_id"] for e in enrolled] == [inside] and outside != inside
    assert enrolled[0]["properties"] == {"event": "Segment Entered"}


def test_waiting_for_an_event_goes_on_when_it_happens_else_at_the_timeout(api, client, pipeline):
    key = new_source(api)
    tag_id = _tag(api)
    journey = live_journey(api, {"entry": {"kind": "api"}, "start": "paid", "steps": {
        "paid": {"kind": "wait_for", "event": "Order Placed", "days": 3, "next": None, "timeout": "nudge"},
        "nudge": {"kind": "tag", "add": [tag_id]}}}, name="等待下单")
    bought, idle = post_customer(api, "下单了", app_user_id="wf-1"), post_customer(api, "没下单", app_user_id="wf-2")
    ids = {c: enrol(api, journey["id"], c)["enrolment"]["id"] for c in (bought, idle)}
    _runner(client).run_until_idle()
    due = datetime.fromisoformat(api.get(f"/v1/journeys/enrolments/{ids[idle]}").json()["due_at"])
    assert timedelta(days=3) - timedelta(minutes=1) < due - datetime.now(UTC) <= timedelta(days=3)
    _track(client, key, "wf-1", "Order Placed", "wf-op-1")
    pipeline.catch_up()
    _runner(client).run_until_idle()  # woken by the event, long before the timeout
    assert api.get(f"/v1/journeys/enrolments/{ids[bought]}").json()["status"] == "done"
    assert api.get(f"/v1/journeys/enrolments/{ids[idle]}").json()["step"] == "paid"
    _runner(client).run_until_idle(now=due + timedelta(seconds=1))
    assert api.get(f"/v1/journeys/enrolments/{ids[idle]}").json()["status"] == "done"
    assert [t["tag_id"] for t in api.get(f"/v1/customers/{idle}/archive").json()["tags"]] == [tag_id]
    assert api.get(f"/v1/customers/{bought}/archive").json()["tags"] == []


def test_waiting_until_in_a_segment_rechecks_then_times_out(api, client):
    segment = api.post("/v1/segments", json={"name": "等待条件" + secrets.token_hex(2), "kind": "static"})
    assert segment.status_code == 201, segment.text
    journey = live_journey(api, {"entry": {"kind": "api"}, "start": "until", "steps": {
        "until": {"kind": "wait_until", "condition": {"kind": "segment", "segment_id": segment.json()["id"]},
                  "check_minutes": 60, "max_days": 1, "next": None, "timeout": "gone"},
        "gone": {"kind": "exit"}}}, name="等待条件")
    customer = post_customer(api, "等条件")
    enrolment = enrol(api, journey["id"], customer)["enrolment"]["id"]
    start = datetime.now(UTC)
    _runner(client).run_until_idle(now=start)
    first = api.get(f"/v1/journeys/enrolments/{enrolment}").json()
    assert first["step"] == "until" and first["status"] == "active"
    # Rechecked hourly (the background runner may have made the first check a moment before `start`).
    assert abs(datetime.fromisoformat(first["due_at"]) - (start + timedelta(minutes=60))) < timedelta(minutes=1)
    _runner(client).run_until_idle(now=start + timedelta(days=1, minutes=1))
    assert api.get(f"/v1/journeys/enrolments/{enrolment}").json()["status"] == "done"
    assert steps_of(api, journey["id"])["gone"]["entered"] == 1
