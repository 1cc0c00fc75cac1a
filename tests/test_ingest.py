"""Segment-compatible ingest: the real analytics-python client, limits, replays, skew, identify, anonymous ids."""

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from segment.analytics.client import Client

from tests.helpers.events import basic


@pytest.fixture
def write_key(api):
    response = api.post("/v1/sources", json={"name": "mini program", "kind": "mini_program"})
    assert response.status_code == 201, response.text
    return response.json()["write_key"]



@pytest.fixture
def events(pipeline, tenant):
    """Rows of this tenant's events after the loader and relay caught up."""

    def rows(where="TRUE", **params):
        pipeline.catch_up()
        return pipeline.warehouse.query(
            f"SELECT message_id, type, event, customer_id, user_id, anonymous_id, properties, ts FROM events "
            f"WHERE workspace_id = %(w)s AND source <> 'yutang' AND {where} ORDER BY ts, message_id",
            {"w": tenant.id, **params})

    return rows


def test_the_real_segment_client_works_unchanged(live_server, write_key, events, api):
    client = Client(write_key, host=live_server, sync_mode=True, gzip=True)
    client.identify("user-1", {"name": "王芳", "phone": "13812345678", "email": "wf@example.com", "plan": "vip"})
    client.track("user-1", "Product Viewed", {"sku": "GT-001", "price_fen": 16800})
    client.page("user-1", category="商城", name="首页", properties={"path": "/"})
    client.screen("user-1", name="购物车")
    client.alias(previous_id="user-1", user_id="user-1-new")
    client.flush()
    rows = events()
    assert [(r[1], r[2]) for r in rows] == [("identify", None), ("track", "Product Viewed"), ("page", "首页"),
                                            ("screen", "购物车"), ("alias", None)]
    customer_ids = {r[3] for r in rows}
    assert len(customer_ids) == 1 and None not in customer_ids
    customer = api.get(f"/v1/customers/{customer_ids.pop()}").json()
    assert customer["name"] == "王芳" and customer["attributes"] == {"plan": "vip"}
    kinds = {(i["kind"], i["value"]) for i in customer["identities"]}
    assert {("app_user_id", "user-1"), ("phone", "+8613812345678"), ("email", "wf@example.com"),
            ("app_user_id", "user-1-new")} <= kinds


def test_replayed_message_ids_count_once(client, write_key, events):
    body = {"batch": [{"type": "track", "userId": "u-replay", "event": "Signed In", "messageId": "m-1"},
                      {"type": "track", "userId": "u-replay", "event": "Signed In", "messageId": "m-1"}]}
    for _ in range(2):
        assert client.post("/v1/batch", json=body, headers=basic(write_key)).status_code == 200
    assert [r[0] for r in events("user_id = 'u-replay'")] == ["m-1"]


def test_clock_skew_is_corrected_from_sent_at(client, write_key, events):
    device_now = datetime.now(UTC) + timedelta(hours=3)  # the phone's clock is three hours fast
    body = {"userId": "u-skew", "event": "Article Read", "messageId": "skew-1",
            "timestamp": (device_now - timedelta(seconds=30)).isoformat(), "sentAt": device_now.isoformat()}
    before = datetime.now(UTC)
    assert client.post("/v1/track", json=body, headers=basic(write_key)).status_code == 200
    (row,) = events("message_id = 'skew-1'")
    assert before - timedelta(seconds=35) < row[7] < datetime.now(UTC) - timedelta(seconds=25)


def test_anonymous_history_joins_the_customer_when_identified(client, write_key, events):
    anon = f"anon-{uuid.uuid4()}"
    for event in ("Product Viewed", "Product Added"):
        client.post("/v1/track", json={"anonymousId": anon, "event": event}, headers=basic(write_key))
    assert {r[3] for r in events("anonymous_id = %(a)s", a=anon)} == {None}
    client.post("/v1/identify", json={"anonymousId": anon, "userId": "u-anon", "traits": {"email": "a@example.com"}},
                headers=basic(write_key))
    rows = events("anonymous_id = %(a)s", a=anon)
    assert len(rows) == 3 and len({r[3] for r in rows}) == 1 and rows[0][3] is not None
    client.post("/v1/track", json={"anonymousId": anon, "event": "Checkout Started"}, headers=basic(write_key))
    assert events("event = 'Checkout Started' AND anonymous_id = %(a)s", a=anon)[0][3] == rows[0][3]


def test_limits_and_bad_messages_are_400_naming_the_message(client, write_key, events):
    big = {"type": "track", "userId": "u-big", "event": "Big", "properties": {"blob": "x" * 33_000}}
    ok = {"type": "track", "userId": "u-big", "event": "Fine"}
    response = client.post("/v1/batch", json={"batch": [ok, big]}, headers=basic(write_key))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "batch[1]" and "32768" in response.json()["errors"][0]["detail"]
    huge = {"batch": [{**ok, "properties": {"blob": "y" * 20_000}} for _ in range(30)]}
    response = client.post("/v1/batch", json=huge, headers=basic(write_key))
    assert response.status_code == 400 and response.json()["field"] == "batch"
    bad = client.post("/v1/batch", json={"batch": [ok, {"type": "track", "event": "No id"}]}, headers=basic(write_key))
    assert bad.status_code == 400 and bad.json()["field"] == "batch[1]"
    assert client.post("/v1/track", json={"userId": "u"}, headers=basic(write_key)).json()["field"] == "body"
    assert events("user_id = 'u-big'") == []  # a rejected request stores nothing


def test_write_keys_authenticate_and_revocation_takes_effect(client, write_key, api):
    event = {"userId": "u-key", "event": "Signed In"}
    assert client.post("/v1/track", json=event).status_code == 401
    assert client.post("/v1/track", json=event, headers=basic("ywk_nope")).status_code == 401
    assert client.post("/v1/track", json={**event, "writeKey": write_key}).status_code == 200
    source_id = api.get("/v1/sources").json()[0]["id"]
    assert api.delete(f"/v1/sources/{source_id}").status_code == 200
    assert client.post("/v1/track", json=event, headers=basic(write_key)).status_code == 401


def test_gzip_bodies_are_accepted(live_server, write_key, events):
    body = gzip.compress(json.dumps({"batch": [{"type": "track", "userId": "u-gz", "event": "Zipped"}]}).encode())
    response = httpx.post(f"{live_server}/v1/batch", content=body,
                          headers={**basic(write_key), "Content-Encoding": "gzip",
                                   "Content-Type": "application/json"})
    assert response.status_code == 200
    assert [r[2] for r in events("user_id = 'u-gz'")] == ["Zipped"]


def test_new_people_in_one_batch_are_created_together_and_linked_like_one_by_one(client, write_key, events, api,
                                                                                    pipeline):
    # Earlier anonymous history of a device, and an existing customer who gets a new device.
    client.post("/v1/track", json={"anonymousId": "dev-old", "event": "Page Opened"}, headers=basic(write_key))
    client.post("/v1/track", json={"userId": "known", "event": "Signed In"}, headers=basic(write_key))
    events()
    batch = [{"type": "track", "userId": f"new-{n}", "anonymousId": f"dev-{n}", "event": "Viewed"} for n in range(30)]
    batch += [
        {"type": "track", "userId": "new-0", "anonymousId": "dev-0b", "event": "Viewed"},   # second device
        {"type": "track", "userId": "new-h", "anonymousId": "dev-old", "event": "Viewed"},  # device with history
        {"type": "track", "userId": "new-x", "anonymousId": "dev-1", "event": "Viewed"},    # on new-1's device
        {"type": "track", "userId": "known", "anonymousId": "dev-k", "event": "Viewed"},    # known person, new device
        {"type": "track", "userId": "new-i", "event": "Viewed"},
        {"type": "identify", "userId": "new-i", "traits": {"name": "Ida", "email": "ida@example.com"}},
    ]
    response = client.post("/v1/batch", json={"batch": batch}, headers=basic(write_key))
    assert response.status_code == 200, response.text
    rows = events("event = 'Viewed'")
    by_user = {}
    for _, _, _, customer_id, user_id, _, _, _ in rows:
        by_user.setdefault(user_id, set()).add(customer_id)
    assert all(len(ids) == 1 and None not in ids for ids in by_user.values()), by_user
    people = {user: ids.pop() for user, ids in by_user.items()}
    # A login on a device someone already holds joins that person, as the one-by-one OneID upsert does.
    assert people["new-x"] == people["new-1"]
    assert len(set(people.values())) == len(people) - 1
    assert events("event = 'Page Opened'")[0][3] == people["new-h"]  # anonymous history attributed
    new_0 = api.get(f"/v1/customers/{people['new-0']}").json()
    assert sorted(i["value"] for i in new_0["identities"]) == ["dev-0", "dev-0b", "new-0"]
    new_1 = api.get(f"/v1/customers/{people['new-1']}").json()
    assert sorted(i["value"] for i in new_1["identities"]) == ["dev-1", "new-1", "new-x"]
    known = api.get(f"/v1/customers/{people['known']}").json()
    assert sorted(i["value"] for i in known["identities"]) == ["dev-k", "known"]
    ida = api.get(f"/v1/customers/{people['new-i']}").json()
    assert ida["name"] == "Ida" and ida["merged_into_id"] is None
    found = api.get("/v1/customers", params={"q": "new-5"}).json()["items"]  # searchable like any customer
    assert [c["id"] for c in found] == [people["new-5"]]
    audit = api.get(f"/v1/customers/{people['new-5']}/timeline", params={"kind": "change"}).json()["items"]
    assert [entry["name"] for entry in audit] == ["customer.created"]
    pipeline.catch_up()
    replica = pipeline.warehouse.query("SELECT count(*) FROM identities WHERE customer_id = %(c)s "
                                       "AND kind = 'anonymous_id'", {"c": people["new-0"]})
    assert replica == [(1,)]  # kinds only, one row per (kind, namespace)


def test_events_are_queryable_before_their_people_are_resolved_and_a_crash_in_between_loses_no_attribution(
        client, write_key, pipeline, tenant):
    real = pipeline.loader.resolver

    class CrashesWhileCreatingPeople:
        """The real resolver, killed at the moment it would create the batch's new people."""

        def __getattr__(self, name):
            return getattr(real, name)

        def create_many(self, *args, **kwargs):
            raise RuntimeError("killed")

    def rows():
        return pipeline.warehouse.query("SELECT user_id, customer_id FROM events WHERE workspace_id = %(w)s "
                                        "AND user_id LIKE 'late-%%' ORDER BY user_id", {"w": tenant.id})

    pipeline.loader.resolver = CrashesWhileCreatingPeople()
    try:
        batch = [{"type": "track", "userId": f"late-{n}", "event": "Viewed"} for n in range(5)]
        assert client.post("/v1/batch", json={"batch": batch}, headers=basic(write_key)).status_code == 200
        with pytest.raises(RuntimeError):
            pipeline.loader.catch_up()
        assert rows() == [(f"late-{n}", None) for n in range(5)]  # queryable, not yet attributed
    finally:
        pipeline.loader.resolver = real
    pipeline.loader.catch_up()
    attributed = rows()
    assert len(attributed) == 5 and None not in {c for _, c in attributed}
    assert len({c for _, c in attributed}) == 5
