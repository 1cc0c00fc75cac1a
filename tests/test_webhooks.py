"""Webhooks for Yutang's own events: delivered after commit to a local receiver that checks the Standard Webhooks
signatures with the `standardwebhooks` library; retries after 500s, automatic disabling, secret rotation, replay,
and events the warehouse jobs write themselves (segment entries)."""

import json
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.helpers.console import signed_in
from tests.peers.server import serve
from tests.peers.webhooks import Receiver
from yutang.kit.clock import utcnow
from yutang.warehouse.own_events import CATALOGUE, TOPIC_EVENTS, events_of
from yutang.warehouse.replica import Change
from yutang.webhooks import service as webhooks_service


@pytest.fixture
def receiver():
    peer = Receiver()
    with serve(peer.app()) as url:
        yield peer, f"{url}/hook"


@pytest.fixture
def sender(pipeline):
    return pipeline.webhooks


def _customer(api, name="韩梅梅") -> int:
    response = api.post("/v1/customers", json={"name": name})
    assert response.status_code in (200, 201), response.text
    return response.json()["customer"]["id"]


def _paid_order(api, customer_id: int, external_id: str) -> None:
    api.post("/v1/channels", json={"code": "mp", "name": "小程序", "kind": "mini_program"})
    response = api.post("/v1/orders", json={
        "external_id": external_id, "channel": "mp", "status": "paid", "placed_at": "2026-11-01T10:00:00+08:00",
        "paid_at": "2026-11-01T10:01:00+08:00", "customer_id": customer_id,
        "lines": [{"sku": "LJ-250", "quantity": 1, "unit_price_fen": 6150}]})
    assert response.status_code == 200, response.text


def _tag(api, customer_id: int, name: str = "VIP") -> None:
    tag = api.post("/v1/tag-groups", json={"name": f"组-{name}", "tags": [name]}).json()["tags"][0]["id"]
    assert api.post(f"/v1/customers/{customer_id}/tags", json={"add": [{"id": tag}]}).status_code == 200


def _endpoint(api, url: str, events: list[str]) -> dict:
    response = api.post("/v1/webhooks/endpoints", json={"url": url, "events": events, "description": "CRM"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    return created


def _verified(secret: str, headers: dict, body: bytes) -> dict:
    return Webhook(secret).verify(body, {k: v for k, v in headers.items() if k.startswith("webhook-")})


def test_event_names_are_one_catalogue_shared_with_the_warehouse(api):
    # Given the catalogue, when the API lists it, then every outbox event and every direct event is there.
    names = api.get("/v1/webhooks/event-types").json()
    assert names == list(CATALOGUE)
    assert set(TOPIC_EVENTS.values()) | {"Segment Entered", "Lifecycle Stage Changed"} <= set(names)
    # One mapping turns an outbox row into events, for the relay and the webhooks alike (a batch is many).
    batch = Change(id=7, workspace_id=1, topic="message.batch", entity_id=None, created_at=utcnow(),
                   payload={"state": "queued", "purpose": "marketing", "messages": [[11, 21, None], [12, 22, None]]})
    assert [(e.id, e.name, e.customer_id) for e in events_of(batch)] == [
        ("yutang:outbox:7:11", "Message Queued", 21), ("yutang:outbox:7:12", "Message Queued", 22)]


def test_unknown_event_names_and_urls_are_refused_naming_the_field(api):
    bad = api.post("/v1/webhooks/endpoints", json={"url": "https://example.com/h", "events": ["Order Eaten"]})
    assert bad.status_code == 422 and bad.json()["field"] == "events", bad.text
    bad = api.post("/v1/webhooks/endpoints", json={"url": "ftp://example.com/h", "events": ["Order Paid"]})
    assert bad.status_code == 422 and bad.json()["field"] == "url", bad.text


def test_order_paid_is_delivered_signed_after_commit_and_retried_after_500s(api, pipeline, sender, receiver):
    peer, url = receiver
    # Given an endpoint for Order Paid and Tag Added whose receiver fails twice with 500
    endpoint = _endpoint(api, url, ["Order Paid", "Tag Added"])
    peer.statuses = [500, 500]
    customer = _customer(api)
    # When an order is paid and a tag is put on the customer
    _paid_order(api, customer, "WH-1")
    _tag(api, customer)
    pipeline.catch_up()
    start = utcnow()
    sender.drain(now=start)
    sender.drain(now=start + timedelta(minutes=1))
    sender.drain(now=start + timedelta(minutes=10))
    # Then each event arrives, signed with the endpoint's secret, on the retry after a 500
    assert len(peer.received) == 4
    bodies = [_verified(endpoint["secret"], headers, body) for headers, body in peer.received]
    delivered = {b["type"]: b for b in bodies}
    assert set(delivered) == {"Order Paid", "Tag Added"}
    paid = delivered["Order Paid"]["data"]
    assert paid["customer_id"] == customer and paid["properties"]["paid_fen"] == 6150
    ids = [headers["webhook-id"] for headers, _ in peer.received]
    assert sorted(ids.count(i) for i in set(ids)) == [2, 2]  # the same webhook-id on the retry
    # And the delivery log shows each attempt's answer
    log = api.get(f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries").json()["items"]
    assert [d["status"] for d in log] == ["delivered", "delivered"]
    for delivery in log:
        detail = api.get(f"/v1/webhooks/deliveries/{delivery['id']}").json()
        assert [a["status_code"] for a in detail["attempt_log"]] == [500, 200]


def test_endpoint_is_disabled_after_repeated_failure_with_a_notice(api, pipeline, sender, receiver):
    peer, url = receiver
    # Given an endpoint whose receiver answers 410 Gone (final: no retries)
    endpoint = _endpoint(api, url, ["Tag Added"])
    peer.statuses = [410] * 10
    customer = _customer(api)
    # When three deliveries in a row fail for good
    for name in ("A", "B", "C"):
        _tag(api, customer, name)
    pipeline.catch_up()
    sender.drain()
    # Then the endpoint is disabled, says why, and the audit log has the notice
    found = api.get(f"/v1/webhooks/endpoints/{endpoint['id']}").json()
    assert found["enabled"] is False and "3 deliveries in a row failed" in found["disabled_reason"]
    audit = api.get("/v1/audit-log", params={"entity_type": "webhook_endpoint", "entity_id": endpoint["id"]})
    assert "webhook.disabled" in [e["action"] for e in audit.json()["items"]]
    # And later events are not sent to it
    _tag(api, customer, "D")
    pipeline.catch_up()
    sender.drain()
    assert len(peer.received) == 3
    # When it is enabled again, the count starts over and new events flow
    peer.statuses = []
    enabled = api.patch(f"/v1/webhooks/endpoints/{endpoint['id']}", json={"enabled": True}).json()
    assert enabled["enabled"] and enabled["consecutive_failures"] == 0 and enabled["disabled_reason"] is None
    _tag(api, customer, "E")
    pipeline.catch_up()
    sender.drain()
    assert len(peer.received) == 4 and peer.received[-1][1]


def test_rotation_signs_with_both_secrets_during_the_grace_period(api, pipeline, sender, receiver):
    peer, url = receiver
    endpoint = _endpoint(api, url, ["Tag Added"])
    old = endpoint["secret"]
    # Given a rotation with an hour's grace
    rotated = api.post(f"/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", json={"grace_seconds": 3600})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and len(rotated.json()["secret_expirations"]) == 1
    customer = _customer(api)
    _tag(api, customer, "R1")
    pipeline.catch_up()
    sender.drain()
    # Then a receiver holding either secret accepts the delivery (two signatures in the header)
    headers, body = peer.received[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert _verified(old, headers, body) == _verified(new, headers, body)
    # Given a rotation without grace, the secret it replaces stops signing at once (the first one keeps its hour)
    newest = api.post(f"/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", json={"grace_seconds": 0}).json()
    _tag(api, customer, "R2")
    pipeline.catch_up()
    sender.drain()
    headers, body = peer.received[-1]
    assert _verified(newest["secret"], headers, body)["type"] == "Tag Added"
    with pytest.raises(WebhookVerificationError):
        _verified(new, headers, body)
    assert _verified(old, headers, body)["type"] == "Tag Added"
    assert len(headers["webhook-signature"].split(" ")) == 2


def test_a_delivery_can_be_replayed_with_the_same_webhook_id(api, pipeline, sender, receiver):
    peer, url = receiver
    endpoint = _endpoint(api, url, ["Tag Added"])
    _tag(api, _customer(api), "P")
    pipeline.catch_up()
    sender.drain()
    assert len(peer.received) == 1
    delivery = api.get(f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries").json()["items"][0]
    replayed = api.post(f"/v1/webhooks/deliveries/{delivery['id']}/replay")
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
    sender.drain()
    assert len(peer.received) == 2
    assert peer.received[0][0]["webhook-id"] == peer.received[1][0]["webhook-id"]
    assert peer.received[0][1] == peer.received[1][1]
    detail = api.get(f"/v1/webhooks/deliveries/{delivery['id']}").json()
    assert detail["status"] == "delivered" and len(detail["attempt_log"]) == 2


def test_segment_entered_written_by_the_warehouse_reaches_the_endpoint(api, pipeline, sender, receiver):
    peer, url = receiver
    endpoint = _endpoint(api, url, ["Segment Entered"])
    tag = api.post("/v1/tag-groups", json={"name": "兴趣", "tags": ["红茶"]}).json()["tags"][0]["id"]
    segment = api.post("/v1/segments", json={"name": "红茶客", "rule": {"type": "tag", "tag_ids": [tag]}}).json()
    customer = _customer(api)
    # When the customer is tagged, the relay's commit puts them in the segment (an event the warehouse writes)
    assert api.post(f"/v1/customers/{customer}/tags", json={"add": [{"id": tag}]}).status_code == 200
    pipeline.catch_up()
    sender.drain()
    # Then the endpoint gets Segment Entered, once, even when the warehouse is read again
    sender.drain()
    entered = [_verified(endpoint["secret"], h, b) for h, b in peer.received]
    assert [(e["type"], e["data"]["customer_id"], e["data"]["properties"]["segment_id"]) for e in entered] == [
        ("Segment Entered", customer, segment["id"])]
    assert json.loads(peer.received[0][1])["data"]["id"] == f"yutang:segment:{segment['id']}:{customer}:1"


def test_other_workspaces_and_other_roles_see_no_endpoints(api, client, other_tenant):
    endpoint = _endpoint(api, "https://example.com/hook", ["Order Paid"])
    foreign = client.get(f"/v1/webhooks/endpoints/{endpoint['id']}", headers=other_tenant.headers)
    assert foreign.status_code == 404
    member = api.post("/v1/members", json={"name": "Ops", "role": "operator"}).json()
    operator = {"Authorization": f"Bearer {member['api_key']['secret']}"}
    assert client.get("/v1/webhooks/endpoints", headers=operator).status_code == 403
    assert "secret" not in api.get(f"/v1/webhooks/endpoints/{endpoint['id']}").json()


def test_console_adds_an_endpoint_shows_its_secret_once_and_the_disabled_notice(app, api, pipeline, sender,
                                                                                   receiver, tenant):
    peer, url = receiver
    console = signed_in(app, tenant.key)
    console.cookies.set("yutang_lang", "zh_CN")
    # Given the owner adds an endpoint in the console
    page = console.post("/console/webhooks", data={"url": url, "description": "ERP", "events": ["Tag Added"]})
    assert page.status_code == 200
    assert "签名密钥" in page.text and "whsec_" in page.text
    endpoint = api.get("/v1/webhooks/endpoints").json()[0]
    assert endpoint["events"] == ["Tag Added"] and endpoint["description"] == "ERP"
    # A wrong event list is answered inline
    bad = console.post("/console/webhooks", data={"url": url})
    assert bad.status_code == 422 and '<small class="error">' in bad.text
    # When its receiver keeps refusing, Yutang turns it off and the page says so
    peer.statuses = [410] * 3
    customer = _customer(api)
    for name in ("X", "Y", "Z"):
        _tag(api, customer, name)
    pipeline.catch_up()
    sender.drain()
    listing = console.get("/console/webhooks")
    assert "鱼塘已将其停用" in listing.text and f'id="disabled-notice-{endpoint["id"]}"' in listing.text
    detail = console.get(f"/console/webhooks/{endpoint['id']}")
    assert "whsec_" not in detail.text and 'id="disabled-notice"' in detail.text
    assert detail.text.count("重新发送") == 3
    # Turning it on again from the page clears the notice
    console.post(f"/console/webhooks/{endpoint['id']}/enabled", data={"enabled": "true"})
    assert "鱼塘已将其停用" not in console.get("/console/webhooks").text
    console.cookies.set("yutang_lang", "en")
    assert "Webhooks" in console.get("/console/webhooks").text


def test_a_delivery_claimed_by_a_sender_that_died_is_sent_again(api, database, pipeline, sender, receiver):
    peer, url = receiver
    endpoint = _endpoint(api, url, ["Tag Added"])
    sender.stop()  # the background thread must not send it first
    try:
        _tag(api, _customer(api), "S")
        pipeline.catch_up()
        # Given a sender that claimed the delivery and died before recording anything
        with database.unit_of_work() as session:
            claimed = webhooks_service.claim_due(session, now=utcnow(), limit=100)
            assert [d.endpoint_id for d, _ in claimed] == [endpoint["id"]]
        sender.drain(now=utcnow(), timeout=0.5)
        assert peer.received == []  # still claimed: not sent twice at once
        # When the claim has gone stale, another sender sends it
        sender.drain(now=utcnow() + webhooks_service.STALE_CLAIM + timedelta(seconds=1))
    finally:
        sender.start()
    assert len(peer.received) == 1
    assert _verified(endpoint["secret"], *peer.received[0])["type"] == "Tag Added"
