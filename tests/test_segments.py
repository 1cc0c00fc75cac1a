"""Segments end to end on the warehouse under test (DuckDB, or PostgreSQL with YUTANG_TEST_WAREHOUSE_URL):
rule conditions against real replicas, preview, explain, materialised membership, incremental updates from
events and changes, rebuilds, static lists, auto-tags, roles and problem+json paths."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.events import basic

NOW = datetime.now(UTC)


def _iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")



@dataclass
class World:
    ids: dict[str, int]  # customer name → id
    vip: int
    newbie: int
    mp: int
    store: int
    write_key: str

    def names(self, ids) -> set[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[i] for i in ids}


@pytest.fixture
def world(api, client, pipeline, tenant) -> World:
    mp = api.post("/v1/channels", json={"code": "mp", "name": "小程序", "kind": "mini_program"}).json()["id"]
    store = api.post("/v1/channels", json={"code": "store", "name": "门店", "kind": "store"}).json()["id"]
    group = api.post("/v1/tag-groups", json={"name": "会员", "tags": ["VIP", "新客"]}).json()
    vip, newbie = (t["id"] for t in group["tags"])
    ids = {}
    for name, body in {
        "A": {"city": "上海", "gender": "female", "first_channel": "mp",
              "identities": [{"kind": "phone", "value": "13800000001"}, {"kind": "app_user_id", "value": "seg-a"}]},
        "B": {"city": "北京", "gender": "male",
              "identities": [{"kind": "email", "value": "b@example.com"}, {"kind": "app_user_id", "value": "seg-b"}]},
        "C": {"city": "上海", "first_channel": "store", "birthday": "1990-05-01",
              "identities": [{"kind": "wecom_external_userid", "value": "wm-c"}]},
    }.items():
        response = api.post("/v1/customers", json={"name": name, **body})
        assert response.status_code == 200, response.text
        ids[name] = response.json()["customer"]["id"]
    a, b, c = ids["A"], ids["B"], ids["C"]
    assert api.post(f"/v1/customers/{a}/tags", json={"add": [{"id": vip}]}).status_code == 200
    assert api.post(f"/v1/customers/{c}/tags", json={"add": [{"id": vip}, {"id": newbie}]}).status_code == 200
    for customer, status in ((a, "granted"), (b, "granted"), (b, "withdrawn")):
        assert api.post(f"/v1/customers/{customer}/consents",
                        json={"channel": "sms", "status": status, "method": "form"}).status_code == 201
    orders = (("O1", 2, "GT-001", "绿茶", 10000), ("O2", 40, "BT-001", "红茶", 5000))
    for external, days, sku, category, price in orders:
        response = api.post("/v1/orders", json={
            "external_id": external, "channel": "mp", "status": "paid", "placed_at": _iso(days), "paid_at": _iso(days),
            "customer_id": a, "lines": [{"sku": sku, "category": category, "quantity": 2, "unit_price_fen": price}]})
        assert response.status_code in (200, 201), response.text
    source = api.post("/v1/sources", json={"name": "app", "kind": "mini_program"}).json()
    batch = [
        *({"type": "track", "userId": "seg-a", "event": "Product Viewed", "timestamp": _iso(1 + i / 10),
           "properties": {"price": price, "sku": sku}} for i, (price, sku) in enumerate([(100, "x"), (200, "y"),
                                                                                         (300, "x")])),
        {"type": "track", "userId": "seg-a", "event": "Message Sent", "timestamp": _iso(20)},
        {"type": "track", "userId": "seg-b", "event": "Message Sent", "timestamp": _iso(1)},
        {"type": "track", "userId": "seg-b", "event": "Product Viewed", "timestamp": _iso(60),
         "properties": {"price": "12"}},
    ]
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(source["write_key"])).status_code == 200
    pipeline.catch_up()
    with pipeline.warehouse.transaction() as tx:
        tx.execute("INSERT INTO customer_scores (workspace_id, customer_id, lifecycle_stage, rfm_r, rfm_f, rfm_m, "
                   "rfm_class, historic_value_fen, predicted_value_fen, computed_at) VALUES "
                   "(%(w)s, %(a)s, 'repeat', 5, 2, 3, 'important_development', 50000, 20000, %(t)s), "
                   "(%(w)s, %(c)s, 'loyal', 4, 5, 5, 'important_value', 100000, NULL, %(t)s)",
                   {"w": tenant.id, "a": a, "c": c, "t": NOW})
    return World(ids=ids, vip=vip, newbie=newbie, mp=mp, store=store, write_key=source["write_key"])


def _preview(api, rule, **extra):
    response = api.post("/v1/segments/preview", json={"rule": rule, "sample_size": 50, **extra})
    assert response.status_code == 200, response.text
    return response.json()


# Each condition of issue 5 item 1, with who it must select among A, B and C (see the world fixture).
CONDITIONS = [
    ("attribute", lambda w: {"type": "attribute", "field": "city", "op": "eq", "value": "上海"}, {"A", "C"}),
    ("attribute in", lambda w: {"type": "attribute", "field": "gender", "op": "in", "value": ["male", "other"]},
     {"B"}),
    ("attribute unset", lambda w: {"type": "attribute", "field": "gender", "op": "is_not_set"}, {"C"}),
    ("birthday", lambda w: {"type": "attribute", "field": "birthday", "op": "lt", "value": "2000-01-01"}, {"C"}),
    ("has a WeCom contact", lambda w: {"type": "identity", "kind": "wecom_external_userid"}, {"C"}),
    ("has no phone", lambda w: {"type": "identity", "kind": "phone", "present": False}, {"B", "C"}),
    ("any tag", lambda w: {"type": "tag", "tag_ids": [w.vip]}, {"A", "C"}),
    ("all tags", lambda w: {"type": "tag", "tag_ids": [w.vip, w.newbie], "match": "all"}, {"C"}),
    ("no tag", lambda w: {"type": "tag", "tag_ids": [w.newbie], "match": "none"}, {"A", "B"}),
    ("channel member", lambda w: {"type": "channel", "channel_ids": [w.mp]}, {"A"}),
    ("first touch", lambda w: {"type": "channel", "channel_ids": [w.store], "relation": "first_touch"}, {"C"}),
    ("consent granted", lambda w: {"type": "consent", "channel": "sms"}, {"A"}),
    ("consent withdrawn (latest entry wins)", lambda w: {"type": "consent", "channel": "sms", "status": "withdrawn"},
     {"B"}),
    ("consent never asked", lambda w: {"type": "consent", "channel": "sms", "status": "unknown"}, {"C"}),
    ("event count in the last 7 days", lambda w: {"type": "event", "event": "Product Viewed", "op": "gte",
                                                  "value": 3, "window": {"kind": "last_days", "days": 7}}, {"A"}),
    ("no event in a window (people with none count)",
     lambda w: {"type": "event", "event": "Message Sent", "op": "eq", "value": 0,
                "window": {"kind": "last_days", "days": 14}}, {"A", "C"}),
    ("fewer than 1 view ever", lambda w: {"type": "event", "event": "Product Viewed", "op": "lt", "value": 1}, {"C"}),
    ("events between dates", lambda w: {"type": "event", "event": "Product Viewed", "op": "gte", "value": 1,
                                        "window": {"kind": "between", "start": (NOW - timedelta(days=90)).date()
                                                   .isoformat(), "end": (NOW - timedelta(days=30)).date().isoformat()}},
     {"B"}),
    ("events since the first purchase", lambda w: {"type": "event", "event": "Product Viewed", "op": "gte",
                                                   "value": 1, "window": {"kind": "since_first_purchase"}}, {"A"}),
    ("last event time", lambda w: {"type": "event", "event": "Message Sent", "measure": "last_time", "op": "gt",
                                   "value": (NOW - timedelta(days=7)).isoformat()}, {"B"}),
    ("first event time", lambda w: {"type": "event", "event": "Product Viewed", "measure": "first_time",
                                    "op": "lt", "value": (NOW - timedelta(days=30)).isoformat()}, {"B"}),
    ("sum of a numeric property (text does not count)",
     lambda w: {"type": "event", "event": "Product Viewed", "measure": "sum", "property": "price", "op": "gte",
                "value": 600}, {"A"}),
    ("sum below a bar includes people with none",
     lambda w: {"type": "event", "event": "Product Viewed", "measure": "sum", "property": "price", "op": "lt",
                "value": 1}, {"B", "C"}),
    ("distinct values of a property", lambda w: {"type": "event", "event": "Product Viewed", "measure": "distinct",
                                                 "property": "sku", "op": "eq", "value": 2}, {"A"}),
    ("order count", lambda w: {"type": "order", "op": "gte", "value": 2}, {"A"}),
    ("never bought", lambda w: {"type": "order", "op": "eq", "value": 0}, {"B", "C"}),
    ("spend in the last 30 days", lambda w: {"type": "order", "measure": "spend", "op": "eq", "value": 20000,
                                             "window": {"kind": "last_days", "days": 30}}, {"A"}),
    ("average order value", lambda w: {"type": "order", "measure": "average_order_value", "op": "eq",
                                       "value": 15000}, {"A"}),
    ("first purchase", lambda w: {"type": "order", "measure": "first_purchase", "op": "lt",
                                  "value": (NOW - timedelta(days=30)).isoformat()}, {"A"}),
    ("last purchase", lambda w: {"type": "order", "measure": "last_purchase", "op": "gt",
                                 "value": (NOW - timedelta(days=7)).isoformat()}, {"A"}),
    ("bought a category", lambda w: {"type": "bought", "category": "绿茶"}, {"A"}),
    ("bought a SKU in the last week", lambda w: {"type": "bought", "sku": "BT-001",
                                                 "window": {"kind": "last_days", "days": 7}}, set()),
    ("did not buy", lambda w: {"type": "bought", "sku": "GT-001", "did": False}, {"B", "C"}),
    ("lifecycle (unscored are prospects)", lambda w: {"type": "lifecycle_stage", "stages": ["prospect", "loyal"]},
     {"B", "C"}),
    ("rfm class", lambda w: {"type": "rfm_class", "classes": ["important_value", "general_value"]}, {"C"}),
    ("historic value", lambda w: {"type": "customer_value", "op": "lt", "value": 60000}, {"A", "B"}),
    ("predicted value", lambda w: {"type": "customer_value", "measure": "predicted", "op": "gt", "value": 0}, {"A"}),
    ("all / any / not", lambda w: {"all": [{"type": "attribute", "field": "city", "op": "eq", "value": "上海"},
                                           {"any": [{"type": "order", "op": "gte", "value": 1},
                                                    {"not": {"type": "tag", "tag_ids": [w.newbie]}}]}]}, {"A"}),
]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in CONDITIONS], ids=[c[0] for c in CONDITIONS])
def test_condition_selects(api, world, make, expected):
    result = _preview(api, make(world))
    assert world.names(result["sample"]) == expected
    assert result["count"] == len(expected)


def test_preview_counts_samples_and_spreads_over_channels(api, world):
    result = _preview(api, {"type": "attribute", "field": "city", "op": "eq", "value": "上海"}, sample_size=1)
    assert result["count"] == 2
    assert result["sample"] == [world.ids["C"]]  # newest first
    assert result["by_first_channel"] == [{"channel_id": world.mp, "customers": 1},
                                          {"channel_id": world.store, "customers": 1}]
    assert result["by_channel"] == [{"channel_id": world.mp, "customers": 1},
                                    {"channel_id": world.store, "customers": 1}]


def test_invalid_rule_is_problem_json_at_the_node(api, world):
    response = api.post("/v1/segments/preview", json={"rule": {"all": [
        {"type": "tag", "tag_ids": [world.vip]},
        {"any": [{"type": "event", "event": "x", "op": "gte", "value": 1, "window": {"kind": "last_days", "days": 0}}]},
    ]}})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "rule.all[1].any[0].window.days"
    response = api.post("/v1/segments", json={"name": "x", "rule": {"not": {"type": "tag", "tag_ids": [999999]}}})
    assert response.status_code == 422 and response.json()["field"] == "rule.not.tag_ids[0]"


def test_explain_shows_each_node_with_its_values(api, world):
    rule = {"all": [{"type": "attribute", "field": "city", "op": "eq", "value": "上海"},
                    {"type": "event", "event": "Product Viewed", "op": "gte", "value": 3,
                     "window": {"kind": "last_days", "days": 7}},
                    {"not": {"type": "order", "measure": "spend", "op": "gte", "value": 100000}}]}
    segment = api.post("/v1/segments", json={"name": "沪上活跃", "rule": rule}).json()
    a = api.get(f"/v1/segments/{segment['id']}/explain/{world.ids['A']}").json()
    assert a["matches"] and a["member"] and a["active"]
    city, views, no_big_spend = a["tree"]["children"]
    assert (city["held"], city["observed"], city["path"]) == (True, "上海", "rule.all[0]")
    assert (views["held"], views["observed"]) == (True, 3)
    assert no_big_spend["node"] == "not" and no_big_spend["held"]
    assert no_big_spend["children"][0] == {**no_big_spend["children"][0], "held": False, "observed": 30000,
                                           "path": "rule.all[2].not"}
    c = api.get(f"/v1/segments/{segment['id']}/explain/{world.ids['C']}").json()
    assert not c["matches"] and not c["member"]
    assert [n["held"] for n in c["tree"]["children"]] == [True, False, True]
    assert c["tree"]["children"][1]["observed"] == 0


def _wait_member(api, segment_id: int, customer_id: int, present: bool, timeout: float = 5) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        explained = api.get(f"/v1/segments/{segment_id}/explain/{customer_id}").json()
        if explained["member"] == present:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"customer {customer_id} member={present} not reached")


def test_dynamic_membership_follows_events_and_changes_with_history_and_events(api, client, pipeline, world):
    rule = {"all": [{"type": "event", "event": "Coupon Claimed", "op": "gte", "value": 1},
                    {"type": "consent", "channel": "sms"}]}
    created = api.post("/v1/segments", json={"name": "领券且可短信", "rule": rule})
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["member_count"] == 0
    a = world.ids["A"]
    # An event arrives through ingest: the loader's commit re-evaluates A alone and A enters.
    assert client.post("/v1/track", json={"userId": "seg-a", "event": "Coupon Claimed"},
                       headers=basic(world.write_key)).status_code == 200
    pipeline.catch_up()
    members = api.get(f"/v1/segments/{segment['id']}/members").json()
    assert [m["customer_id"] for m in members["items"]] == [a]
    # A change arrives through the outbox relay: withdrawing consent makes A exit.
    assert api.post(f"/v1/customers/{a}/consents", json={"channel": "sms", "status": "withdrawn",
                                                         "method": "form"}).status_code == 201
    pipeline.catch_up()
    assert api.get(f"/v1/segments/{segment['id']}/members").json()["items"] == []
    history = pipeline.segments.history(segment_id=segment["id"], customer_id=a)
    assert [(seq, change) for seq, change, _ in history] == [(1, "entered"), (2, "exited")]
    events = pipeline.warehouse.query(
        "SELECT event, message_id FROM events WHERE customer_id = %(c)s AND event LIKE 'Segment %%' ORDER BY ts, "
        "message_id", {"c": a})
    assert events == [("Segment Entered", f"yutang:segment:{segment['id']}:{a}:1"),
                      ("Segment Exited", f"yutang:segment:{segment['id']}:{a}:2")]
    # Re-running the update changes nothing and records nothing twice.
    definition = pipeline.segments.definitions(workspace_id=pipeline.warehouse.query(
        "SELECT workspace_id FROM customers WHERE id = %(c)s", {"c": a})[0][0])[0]
    assert pipeline.segments.update(definition, ids={a}).entered == []
    assert len(pipeline.segments.history(segment_id=segment["id"], customer_id=a)) == 2


def test_membership_change_lands_within_a_second_of_the_event(api, client, world):
    segment = api.post("/v1/segments", json={"name": "签到", "rule": {
        "type": "event", "event": "Signed In", "op": "gte", "value": 1}}).json()
    sent = time.monotonic()
    assert client.post("/v1/track", json={"userId": "seg-b", "event": "Signed In"},
                       headers=basic(world.write_key)).status_code == 200
    _wait_member(api, segment["id"], world.ids["B"], True)
    assert time.monotonic() - sent < 1.5  # the loader and listener in the background, no catch-up asked for


def test_rebuild_and_rebuild_all_follow_the_clock(api, pipeline, world):
    segment = api.post("/v1/segments", json={"name": "近 3 天浏览", "rule": {
        "type": "event", "event": "Product Viewed", "op": "gte", "value": 1,
        "window": {"kind": "last_days", "days": 3}}}).json()
    assert segment["member_count"] == 1
    response = api.post(f"/v1/segments/{segment['id']}/rebuild")
    assert response.json() == {"members": 1, "entered": 0, "exited": 0}
    later = pipeline.segments.rebuild_all(now=NOW + timedelta(days=5))
    assert later[segment["id"]].exited == [world.ids["A"]]
    assert api.get(f"/v1/segments/{segment['id']}").json()["member_count"] == 0


def test_the_scheduler_rebuilds_the_workspace_s_segments_nightly(api, pipeline, world, tenant):
    segment = api.post("/v1/segments", json={"name": "近 3 天浏览", "rule": {
        "type": "event", "event": "Product Viewed", "op": "gte", "value": 1,
        "window": {"kind": "last_days", "days": 3}}}).json()
    job = next(j for j in pipeline.scheduler.jobs if j.name == "segments.rebuild")
    assert job.at > next(j for j in pipeline.scheduler.jobs if j.name == "lifecycle.compute").at
    built = api.get(f"/v1/segments/{segment['id']}").json()["rebuilt_at"]
    job.run(tenant.actor, NOW + timedelta(days=5))
    after = api.get(f"/v1/segments/{segment['id']}").json()
    assert after["member_count"] == 0
    assert after["rebuilt_at"] is not None and after["rebuilt_at"] > built  # the nightly rebuild is recorded too


def test_auto_tag_added_on_entry_removed_on_exit(api, pipeline, world):
    a = world.ids["A"]
    segment = api.post("/v1/segments", json={"name": "绿茶客", "tag_id": world.newbie, "rule": {
        "all": [{"type": "bought", "category": "绿茶"}, {"type": "attribute", "field": "city", "op": "eq",
                                                          "value": "上海"}]}}).json()
    tags = api.get(f"/v1/customers/{a}/archive").json()["tags"]
    assert {t["tag_id"]: t["source"] for t in tags}[world.newbie] == f"segment:{segment['id']}"
    assert api.patch(f"/v1/customers/{a}", json={"city": "杭州"}).status_code == 200
    pipeline.catch_up()
    assert world.newbie not in {t["tag_id"] for t in api.get(f"/v1/customers/{a}/archive").json()["tags"]}
    response = api.post("/v1/segments", json={"name": "loop", "tag_id": world.vip,
                                              "rule": {"type": "tag", "tag_ids": [world.vip], "match": "none"}})
    assert response.status_code == 422 and response.json()["field"] == "tag_id"


def test_static_segments_from_a_snapshot_picks_and_a_csv(api, world):
    snapshot = api.post("/v1/segments", json={"name": "快照", "kind": "static", "rule": {
        "type": "attribute", "field": "city", "op": "eq", "value": "上海"}}).json()
    assert snapshot["member_count"] == 2
    assert api.post(f"/v1/segments/{snapshot['id']}/rebuild").status_code == 422
    picked = api.post("/v1/segments", json={"name": "手选", "kind": "static",
                                            "customer_ids": [world.ids["B"]]}).json()
    assert picked["member_count"] == 1
    csv = "kind,value\nphone,13800000001\nemail,nobody@example.com\nwecom_external_userid,wm-c\n"
    response = api.post(f"/v1/segments/{picked['id']}/members/import", files={"file": ("list.csv", csv.encode())})
    assert response.json() == {"added": 2, "matched": 2, "unmatched_lines": [3]}
    page = api.get(f"/v1/segments/{picked['id']}/members", params={"limit": 2}).json()
    rest = api.get(f"/v1/segments/{picked['id']}/members", params={"cursor": page["next_cursor"]}).json()
    assert [m["customer_id"] for m in page["items"] + rest["items"]] == sorted(world.ids.values())
    bad = api.post(f"/v1/segments/{picked['id']}/members", json={"customer_ids": [world.ids["A"], 99999999]})
    assert bad.status_code == 422 and bad.json()["field"] == "customer_ids[1]"
    explained = api.get(f"/v1/segments/{picked['id']}/explain/{world.ids['B']}").json()
    assert explained["member"] and explained["tree"] is None


def test_crud_and_roles(api, client, world):
    created = api.post("/v1/segments", json={"name": "VIP", "description": "会员",
                                             "rule": {"type": "tag", "tag_ids": [world.vip]}}).json()
    assert api.post("/v1/segments", json={"name": "VIP", "rule": {"all": []}}).status_code == 409
    assert api.post("/v1/segments", json={"name": "no rule"}).json()["field"] == "rule"
    analyst = api.post("/v1/members", json={"name": "a", "role": "analyst"}).json()["api_key"]["secret"]
    headers = {"Authorization": f"Bearer {analyst}"}
    assert client.get("/v1/segments", headers=headers).json()["items"][0]["id"] == created["id"]
    assert client.post("/v1/segments/preview", headers=headers, json={"rule": {"all": []}}).json()["count"] == 3
    assert client.post("/v1/segments", headers=headers, json={"name": "x", "rule": {"all": []}}).status_code == 403
    assert client.delete(f"/v1/segments/{created['id']}", headers=headers).status_code == 403
    updated = api.patch(f"/v1/segments/{created['id']}", json={"rule": {"type": "tag", "tag_ids": [world.newbie]}})
    assert updated.json()["member_count"] == 1
    assert api.delete(f"/v1/segments/{created['id']}").status_code == 204
    assert api.get(f"/v1/segments/{created['id']}").status_code == 404


def test_merge_moves_static_places_and_consents_and_the_loser_leaves_dynamic_segments(api, pipeline, world):
    a, b = world.ids["A"], world.ids["B"]
    static = api.post("/v1/segments", json={"name": "名单", "kind": "static", "customer_ids": [b]}).json()
    beijing = api.post("/v1/segments", json={"name": "北京", "rule": {
        "type": "attribute", "field": "city", "op": "eq", "value": "北京"}}).json()
    assert beijing["member_count"] == 1
    merged = api.post(f"/v1/customers/{a}/merge", json={"loser_id": b, "reason": "同一人"})
    assert merged.status_code == 200, merged.text
    pipeline.catch_up()
    assert [m["customer_id"] for m in api.get(f"/v1/segments/{static['id']}/members").json()["items"]] == [a]
    assert api.get(f"/v1/segments/{beijing['id']}/members").json()["items"] == []
    # B's withdrawal is later than A's grant: in the merged ledger it is the one in force.
    assert world.names(_preview(api, {"type": "consent", "channel": "sms", "status": "withdrawn"})["sample"]) == {"A"}
    assert api.get(f"/v1/customers/{a}/export").json()["static_segments"] == [{"segment_id": static["id"],
                                                                               "name": "名单"}]
