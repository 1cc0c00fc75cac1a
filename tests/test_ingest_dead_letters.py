"""One accepted event never stops the pipeline: bad traits, NULs, surrogates, depth, gzip bombs, dead letters."""

import gzip
import json
import tracemalloc
import uuid

import pytest

from tests.helpers.console import signed_in
from tests.helpers.events import basic, new_source
from tests.helpers.tenants import add_member
from yutang.events import deadletters
from yutang.events.models import DeadLetter
from yutang.events.schemas import DeadLetterStage


@pytest.fixture
def write_key(api):
    return new_source(api)


def _json(value):
    return value if isinstance(value, dict) else json.loads(value)  # PostgreSQL's jsonb arrives parsed


def _events(pipeline, workspace_id, where="TRUE", **params):
    pipeline.catch_up()
    return pipeline.warehouse.query(
        f"SELECT message_id, customer_id, user_id, properties FROM events WHERE workspace_id = %(w)s "
        f"AND source <> 'yutang' AND {where} ORDER BY message_id", {"w": workspace_id, **params})


@pytest.mark.parametrize("trait", [{"phone": "12345"}, {"phone": "abc"}, {"email": "a@ex.test"},
                                   {"email": "not-an-email"}, {"email": "a@b"}, {"email": "a@localhost"}])
def test_an_identify_with_an_invalid_phone_or_email_is_kept_attributed_and_the_trait_reported(
        client, api, write_key, pipeline, tenant, other_tenant, trait):
    # Given an identify whose phone or email fails validation, beside a valid email
    user = f"bad-{uuid.uuid4().hex[:8]}"
    body = {"userId": user, "messageId": f"m-{user}", "traits": {**trait, "name": "坏号码", "city": "杭州"}}
    if "phone" in trait:
        body["traits"]["email"] = f"{user}@example.com"
    assert client.post("/v1/identify", json=body, headers=basic(write_key)).status_code == 200
    # and, behind it, another workspace's event
    other_key = client.post("/v1/sources", json={"name": "web"}, headers=other_tenant.headers).json()["write_key"]
    assert client.post("/v1/track", json={"userId": "fine", "event": "Signed In"},
                       headers=basic(other_key)).status_code == 200
    # When another workspace previews a segment (which catches the pipeline up), it gets its own answer
    preview = client.post("/v1/segments/preview", headers=other_tenant.headers,
                          json={"rule": {"type": "event", "event": "Signed In", "op": "gte", "value": 1}})
    assert preview.status_code == 200 and next(iter(trait.values())) not in preview.text, preview.text
    # and the event is stored and attributed on the valid identities
    ((_, customer_id, _, _),) = _events(pipeline, tenant.id, "user_id = %(u)s", u=user)
    assert customer_id is not None
    customer = api.get(f"/v1/customers/{customer_id}").json()
    kinds = {i["kind"] for i in customer["identities"]}
    assert "app_user_id" in kinds and next(iter(trait)) not in kinds and customer["name"] == "坏号码"
    if "phone" in trait:
        assert "email" in kinds
    # and the dropped trait is reported as a dead letter of stage "trait"
    letters = api.get("/v1/events/dead-letters", params={"stage": "trait"}).json()["items"]
    (letter,) = [x for x in letters if x["message_id"] == f"m-{user}"]
    assert f"traits.{next(iter(trait))}" in letter["error"]
    # and the other workspace's event flowed on, attributed, without seeing this one's data
    ((_, other_customer, _, _),) = _events(pipeline, other_tenant.id, "user_id = 'fine'")
    assert other_customer is not None
    assert client.get("/v1/events/dead-letters", headers=other_tenant.headers).json()["total"] == 0


def test_nul_characters_and_lone_surrogates_are_replaced_and_stored(client, write_key, pipeline, tenant):
    body = ('{"batch": [{"type": "track", "userId": "nul\\u0000user", "event": "E\\u0000", "messageId": "nul-1",'
            ' "properties": {"s": "a\\u0000b", "k\\u0000": 1}},'
            ' {"type": "track", "userId": "sur-user", "event": "Surrogate", "messageId": "sur-1",'
            ' "properties": {"s": "x\\ud800y", "pair": "\\ud83d\\ude00"}}]}')
    response = client.post("/v1/batch", content=body.encode(),
                           headers={**basic(write_key), "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    rows = _events(pipeline, tenant.id, "message_id IN ('nul-1', 'sur-1')")
    (nul_row, sur_row) = rows
    assert nul_row[2] == "nul\ufffduser" and nul_row[1] is not None
    assert _json(nul_row[3]) == {"s": "a\ufffdb", "k\ufffd": 1}
    assert _json(sur_row[3]) == {"s": "x\ufffdy", "pair": "😀"}


def test_nesting_past_the_limit_is_400_naming_the_message(client, write_key):
    def message(depth):  # written out: json.dumps itself cannot encode the deepest one
        return '{"type": "track", "userId": "deep", "event": "Deep", "properties": ' + '{"a": ' * depth + "{}" + (
            "}" * (depth + 1))

    ok = message(28)  # 31 levels counting the message, the batch's array and its object
    assert client.post("/v1/batch", content=f'{{"batch": [{ok}]}}'.encode(),
                       headers={**basic(write_key), "Content-Type": "application/json"}).status_code == 200
    for depth in (40, 990):
        response = client.post("/v1/batch", content=f'{{"batch": [{ok}, {message(depth)}]}}'.encode(),
                               headers={**basic(write_key), "Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == "batch[1]" and "32 deep" in response.json()["detail"]


def test_a_gzip_bomb_is_refused_without_being_inflated(pipeline, write_key):
    bomb = gzip.compress(b"[" + b" " * (64 * 1024 * 1024) + b"]", compresslevel=9)
    tracemalloc.start()
    try:
        with pytest.raises(Exception) as refused:
            pipeline.ingest.receive(body=bomb, kind=None, write_key=write_key, gzipped=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert getattr(refused.value, "status", None) == 400 and "expands past" in str(refused.value)
    assert peak < 20 * 1024 * 1024  # never the 64 MB expansion (background threads allocate meanwhile)


def test_unreadable_journal_lines_are_dead_lettered_and_everything_behind_flows_on(
        client, api, write_key, pipeline, tenant, database):
    # Given lines no message became (a torn copy, no workspace, an unknown type) ahead of a good message
    good = {"w": tenant.id, "src": 1, "type": "track", "messageId": "after-junk", "userId": "u-junk",
            "event": "Fine", "timestamp": "2026-12-01T00:00:00+00:00", "receivedAt": "2026-12-01T00:00:00+00:00"}
    gone = json.dumps({**good, "messageId": "gone-ws", "w": 2**40}).encode()  # a workspace that does not exist
    junk = [b"{not json", json.dumps({"type": "track"}).encode(),
            json.dumps({**good, "messageId": "odd-type", "type": "teleport"}).encode(), gone]
    pipeline.journal.append([*junk, json.dumps(good).encode()])
    # When the pipeline catches up, then the good message is stored and attributed
    ((_, customer_id, _, _),) = _events(pipeline, tenant.id, "message_id = 'after-junk'")
    assert customer_id is not None
    # and the junk is set aside: one the workspace sees, two that name no workspace
    letters = api.get("/v1/events/dead-letters", params={"stage": "load"}).json()["items"]
    assert [x["message_id"] for x in letters if "teleport" in x["error"]] == ["odd-type"]
    with database.read_only() as session:
        unowned = {letter.raw for letter in session.query(DeadLetter).filter(DeadLetter.workspace_id.is_(None))}
    assert {"{not json", json.dumps({"type": "track"})} <= unowned
    assert any('"gone-ws"' in raw for raw in unowned)


def test_dead_letters_are_listed_shown_replayed_and_discarded_by_role(client, api, write_key, pipeline, tenant,
                                                                      other_tenant, database):
    # Given a message that cannot be attributed (a userId longer than any identity) and one set aside by an
    # earlier version that would load now (as after a fix)
    too_long = "u" * 400
    assert client.post("/v1/track", json={"userId": too_long, "event": "Long", "messageId": "long-1"},
                       headers=basic(write_key)).status_code == 200
    line = {"w": tenant.id, "src": 1, "type": "track", "messageId": "fixed-1", "userId": "u-fixed",
            "event": "Fixed", "timestamp": "2026-12-01T00:00:00+00:00", "receivedAt": "2026-12-01T00:00:00+00:00",
            "properties": {}, "context": {}}
    with database.unit_of_work() as session:
        deadletters.set_aside(session, entries=[deadletters.SetAside(
            key=f"{tenant.id}:fixed-1", workspace_id=tenant.id, message_id="fixed-1", stage=DeadLetterStage.LOAD,
            error="ValueError: an earlier defect", raw=json.dumps(line))])
    (stored,) = _events(pipeline, tenant.id, "message_id = 'long-1'")
    assert stored[1] is None  # kept, without a customer
    listing = api.get("/v1/events/dead-letters", params={"status": "open"}).json()
    by_message = {x["message_id"]: x for x in listing["items"]}
    long_letter, fixed_letter = by_message["long-1"], by_message["fixed-1"]
    assert long_letter["stage"] == "attribute" and "320" in long_letter["error"] and long_letter["raw"]
    # Analysts read without the raw message; guides and other workspaces see nothing
    analyst, guide, operator = (add_member(api, role)[1] for role in ("analyst", "guide", "operator"))
    shown = client.get(f"/v1/events/dead-letters/{long_letter['id']}", headers=analyst)
    assert shown.status_code == 200 and shown.json()["raw"] is None
    assert client.get("/v1/events/dead-letters", headers=guide).status_code == 403
    assert client.get(f"/v1/events/dead-letters/{long_letter['id']}", headers=other_tenant.headers).status_code == 404
    assert client.post(f"/v1/events/dead-letters/{fixed_letter['id']}/replay", headers=analyst).status_code == 403
    # When an operator replays them
    replayed = client.post(f"/v1/events/dead-letters/{fixed_letter['id']}/replay", headers=operator)
    assert replayed.status_code == 200 and replayed.json()["replay_count"] == 1
    client.post(f"/v1/events/dead-letters/{long_letter['id']}/replay", headers=operator)
    client.post(f"/v1/events/dead-letters/{fixed_letter['id']}/replay", headers=operator)
    # then the fixed one is loaded once and attributed; the other fails again and is open again
    rows = _events(pipeline, tenant.id, "message_id IN ('fixed-1', 'long-1')")
    assert [(r[0], r[1] is not None) for r in rows] == [("fixed-1", True), ("long-1", False)]
    after = {x["message_id"]: x for x in api.get("/v1/events/dead-letters").json()["items"]}
    assert after["fixed-1"]["status"] == "replayed" and after["fixed-1"]["replay_count"] == 2
    assert after["long-1"]["status"] == "open" and after["long-1"]["replay_count"] == 1
    # and a discarded letter stays listed as discarded and cannot be replayed
    assert api.post(f"/v1/events/dead-letters/{long_letter['id']}/discard").json()["status"] == "discarded"
    assert api.post(f"/v1/events/dead-letters/{long_letter['id']}/replay").status_code == 409


def test_the_console_lists_dead_letters_in_both_languages(app, client, write_key, pipeline, tenant):
    client.post("/v1/identify", json={"userId": "console-bad", "messageId": "console-bad-1",
                                      "traits": {"phone": "12345"}}, headers=basic(write_key))
    pipeline.catch_up()
    browser = signed_in(app, tenant.key)
    languages = (("zh_CN", ("死信", "已丢弃属性", "重放")), ("en", ("Dead letters", "Trait dropped", "Replay")))
    for locale, words in languages:
        browser.get(f"/console/language?to={locale}")
        page = browser.get("/console/events/dead-letters")
        assert page.status_code == 200 and "console-bad-1" in page.text and "traits.phone" in page.text
        assert all(word in page.text for word in words), locale
