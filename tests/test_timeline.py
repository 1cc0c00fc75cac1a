"""The customer timeline: events sent through the real ingest, orders, tags, consents, notes and a merge recorded
through the API, read back newest first, filtered by kind and event name, paged stably, and seen per role."""

from dataclasses import dataclass
from datetime import datetime

import pytest

from tests.helpers.events import basic
from yutang.events import timeline

T = "2026-11-01T10:00:00+08:00"  # one instant shared by three events and an order: ties across and within kinds


@dataclass
class Story:
    """One customer's history: ids, and the headers of an analyst and of a guide who does not serve them."""

    customer: int
    loser: int
    analyst: dict
    guide: dict
    guide_customer: int



def _member(api, role: str) -> tuple[int, dict]:
    body = api.post("/v1/members", json={"name": role, "role": role}).json()
    return body["member"]["id"], {"Authorization": f"Bearer {body['api_key']['secret']}"}


@pytest.fixture
def story(api, client, pipeline) -> Story:
    source = api.post("/v1/sources", json={"name": "mini program", "kind": "mini_program"})
    assert source.status_code == 201, source.text
    key = source.json()["write_key"]
    batch = [
        {"type": "identify", "userId": "tl-1", "messageId": "tl-identify", "timestamp": "2026-10-30T08:00:00Z",
         "traits": {"name": "王芳", "phone": "13812345678", "plan": "vip"}},
        {"type": "page", "userId": "tl-1", "messageId": "tl-page", "name": "首页", "timestamp": "2026-10-31T09:00:00Z",
         "properties": {"path": "/"}},
        {"type": "track", "userId": "tl-1", "messageId": "tl-read", "event": "Article Read",
         "timestamp": "2026-10-31T09:05:00Z", "properties": {"title": "明前龙井怎么泡", "type": "article"}},
        {"type": "track", "userId": "tl-1", "messageId": "tl-click-b", "event": "Product Clicked", "timestamp": T,
         "properties": {"sku": "LJ-250"}},
        {"type": "track", "userId": "tl-1", "messageId": "tl-click-a", "event": "Product Clicked", "timestamp": T,
         "properties": {"sku": "LJ-500"}},
        {"type": "track", "userId": "tl-1", "messageId": "tl-click-c", "event": "Product Clicked", "timestamp": T,
         "properties": {"sku": "BLC-100"}},
        {"type": "track", "userId": "tl-2", "messageId": "tl-loser-read", "event": "Article Read",
         "timestamp": "2026-10-29T12:00:00Z", "properties": {"title": "白茶入门"}},
    ]
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(key)).status_code == 200
    pipeline.catch_up()
    customer = api.get("/v1/customers", params={"identity": "app_user_id:tl-1"}).json()["items"][0]["id"]
    loser = api.get("/v1/customers", params={"identity": "app_user_id:tl-2"}).json()["items"][0]["id"]

    api.post("/v1/channels", json={"code": "mp", "name": "小程序商城", "kind": "mini_program"})
    tea = api.post("/v1/tag-groups", json={"name": "兴趣", "tags": ["绿茶"]}).json()["tags"][0]["id"]
    for external_id, status, placed_at in (("MP-1", "paid", T), ("MP-2", "pending", "2026-11-02T20:00:00+08:00")):
        order = api.post("/v1/orders", json={
            "external_id": external_id, "channel": "mp", "status": status, "placed_at": placed_at,
            "customer_id": customer, "lines": [{"sku": "LJ-250", "category": "绿茶", "quantity": 2,
                                                "unit_price_fen": 6150},
                                               {"sku": "BLC-100", "quantity": 1, "unit_price_fen": 3900}]})
        assert order.status_code == 200, order.text
    assert api.post(f"/v1/customers/{customer}/tags", json={"add": [{"id": tea}]}).status_code == 200
    assert api.post(f"/v1/customers/{customer}/consents",
                    json={"channel": "sms", "status": "granted", "method": "小程序勾选"}).status_code == 201
    merge = api.post(f"/v1/customers/{customer}/merge", json={"loser_id": loser, "reason": "同一手机号"})
    assert merge.status_code == 200, merge.text
    assert api.post(f"/v1/customers/{customer}/notes", json={"body": "周末到店"}).status_code == 201

    _, analyst = _member(api, "analyst")
    guide_id, guide = _member(api, "guide")
    mine = api.post("/v1/customers", json={"name": "导购的客户", "assigned_member_id": guide_id,
                                           "identities": [{"kind": "app_user_id", "value": "tl-guide"}]})
    return Story(customer=customer, loser=loser, analyst=analyst, guide=guide,
                 guide_customer=mine.json()["customer"]["id"])


def _page(api, customer: int, headers: dict | None = None, **params) -> dict:
    response = api.get(f"/v1/customers/{customer}/timeline", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def _key(item: dict) -> tuple:
    return datetime.fromisoformat(item["at"]), timeline.RANK[item["kind"]]


def test_timeline_merges_events_orders_and_changes_newest_first(api, story):
    page = _page(api, story.customer, limit=200)
    items = page["items"]
    assert page["next_cursor"] is None
    assert [_key(i) for i in items] == sorted((_key(i) for i in items), reverse=True)
    assert {i["kind"] for i in items} == {"event", "order", "change"}
    events = {i["name"] for i in items if i["kind"] == "event"}
    assert {"identify", "首页", "Article Read", "Product Clicked"} <= events
    # Yutang's own events come from the relay, read-your-writes: the merge and note were just made.
    assert {"Order Paid", "Tag Added", "Consent Changed", "Customer Merged"} <= events
    assert "tl-loser-read" in {i["ref"] for i in items}  # the merged customer's events moved over
    read = next(i for i in items if i["ref"] == "tl-read")
    assert read["detail"] == {"type": "track", "source": read["detail"]["source"],
                              "properties": {"title": "明前龙井怎么泡", "type": "article"}}
    own = next(i for i in items if i["name"] == "Customer Merged")
    assert own["detail"]["source"] == "yutang" and own["detail"]["properties"]["loser_id"] == story.loser

    orders = [i for i in items if i["kind"] == "order"]
    assert [o["name"] for o in orders] == ["MP-2", "MP-1"]
    paid = orders[1]["detail"]
    assert (paid["status"], paid["paid_fen"], paid["refunded_fen"], paid["total_fen"]) == ("paid", 16200, 0, 16200)
    assert [(line["sku"], line["quantity"], line["amount_fen"]) for line in paid["lines"]] == [
        ("LJ-250", 2, 12300), ("BLC-100", 1, 3900)]
    assert paid["channel_id"] and orders[1]["at"].startswith("2026-11-01T02:00:00")

    changes = [i["name"] for i in items if i["kind"] == "change"]
    assert changes[:4] == ["customer.note_added", "customer.merged", "customer.consent", "customer.tagged"]
    assert changes.count("customer.created") == 2  # this customer's and the merged one's
    merged = next(i for i in items if i["name"] == "customer.merged")
    assert merged["detail"]["changes"]["reason"] == "同一手机号" and merged["detail"]["member_id"]

    at_t = [(i["kind"], i["ref"]) for i in items if i["at"].startswith("2026-11-01T02:00:00")]
    assert at_t[0][0] == "order" and [ref for _, ref in at_t[1:]] == ["tl-click-c", "tl-click-b", "tl-click-a"]


def test_kind_and_event_name_filters(api, story):
    orders = _page(api, story.customer, kind="order")["items"]
    assert [i["kind"] for i in orders] == ["order", "order"]
    mixed = _page(api, story.customer, kind=["event", "change"], limit=200)["items"]
    assert {i["kind"] for i in mixed} == {"event", "change"}
    reads = _page(api, story.customer, event="Article Read")["items"]
    assert [i["ref"] for i in reads] == ["tl-read", "tl-loser-read"]
    assert [i["name"] for i in _page(api, story.customer, event="identify")["items"]] == ["identify"]
    assert _page(api, story.customer, kind="event", event="Nothing Like It")["items"] == []

    bad = api.get(f"/v1/customers/{story.customer}/timeline", params={"kind": ["event", "visit"]})
    assert bad.status_code == 422 and bad.json()["field"] == "kind"
    assert bad.headers["content-type"] == "application/problem+json"
    clash = api.get(f"/v1/customers/{story.customer}/timeline", params={"kind": "order", "event": "Article Read"})
    assert clash.status_code == 422 and clash.json()["field"] == "event"
    cursor = api.get(f"/v1/customers/{story.customer}/timeline", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert cursor.status_code == 422 and cursor.json()["field"] == "cursor"


@pytest.mark.parametrize("kinds", [None, ["event"], ["order", "change"]])
def test_paging_by_two_walks_the_same_entries_as_one_page(api, story, kinds):
    params = {"kind": kinds} if kinds else {}
    whole = _page(api, story.customer, limit=200, **params)["items"]
    assert len(whole) >= 4
    walked, cursor = [], None
    while True:
        page = _page(api, story.customer, limit=2, **params, **({"cursor": cursor} if cursor else {}))
        walked += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 2
    assert [(i["kind"], i["ref"], i["at"]) for i in walked] == [(i["kind"], i["ref"], i["at"]) for i in whole]


def test_guides_see_only_their_customers_timeline_analysts_see_it_masked(api, client, story):
    hidden = client.get(f"/v1/customers/{story.customer}/timeline", headers=story.guide)
    assert hidden.status_code == 404 and hidden.json()["field"] == "customer_id"
    own = client.get(f"/v1/customers/{story.guide_customer}/timeline", headers=story.guide)
    assert own.status_code == 200 and [i["name"] for i in own.json()["items"]] == ["customer.created"]

    seen = client.get(f"/v1/customers/{story.customer}/timeline", params={"limit": 200}, headers=story.analyst)
    assert seen.status_code == 200
    assert "13812345678" not in seen.text and "王芳" not in seen.text
    identify = next(i for i in seen.json()["items"] if i["name"] == "identify")
    assert identify["detail"]["properties"] == {"name": "王**", "phone": "138****5678", "plan": "vip"}
    assert "13812345678" in client.get(f"/v1/customers/{story.customer}/timeline", params={"event": "identify"},
                                       headers=api.headers).text


def test_another_workspace_cannot_read_the_timeline(client, story, other_tenant):
    response = client.get(f"/v1/customers/{story.customer}/timeline", headers=other_tenant.headers)
    assert response.status_code == 404
