"""The outbox relay replicates customers, identities, tags, memberships and orders, and records Yutang's events."""

import time

import pytest
from sqlalchemy import select

from yutang.storage.outbox import OutboxRow
from yutang.warehouse import replica


@pytest.fixture
def wh(pipeline):
    """Query the warehouse after catching the relay up (read-your-writes)."""

    def query(sql, **params):
        pipeline.relay.catch_up()
        return pipeline.warehouse.query(sql, params)

    return query


def _seed(api):
    api.post("/v1/channels", json={"code": "mp", "name": "MP", "kind": "mini_program"})
    group = api.post("/v1/tag-groups", json={"name": "G", "tags": ["a", "b"]}).json()
    a, b = (t["id"] for t in group["tags"])
    one = api.post("/v1/customers", json={"name": "One", "city": "上海", "first_channel": "mp",
                                          "identities": [{"kind": "phone", "value": "13800001111"},
                                                         {"kind": "wecom_external_userid", "value": "wm1"}]})
    two = api.post("/v1/customers", json={"name": "Two", "identities": [{"kind": "app_user_id", "value": "u2"}]})
    one, two = one.json()["customer"]["id"], two.json()["customer"]["id"]
    api.post(f"/v1/customers/{one}/tags", json={"add": [{"id": a}]})
    api.post(f"/v1/customers/{two}/tags", json={"add": [{"id": a}, {"id": b}]})
    order = api.post("/v1/orders", json={"external_id": "W1", "channel": "mp", "status": "paid",
                                         "placed_at": "2026-11-01T10:00:00+08:00", "customer_id": two,
                                         "lines": [{"sku": "S1", "category": "tea", "quantity": 2,
                                                    "unit_price_fen": 1500}]})
    assert order.status_code == 200, order.text
    return one, two, a, b


def test_replicas_follow_the_oltp_store(api, wh, tenant):
    one, two, a, b = _seed(api)
    rows = wh("SELECT id, status, city, first_channel_id FROM customers WHERE workspace_id = %(w)s ORDER BY id",
              w=tenant.id)
    assert [(r[0], r[1], r[2]) for r in rows] == [(one, "active", "上海"), (two, "active", None)]
    kinds = wh("SELECT kind FROM identities WHERE customer_id = %(c)s ORDER BY kind", c=one)
    assert [k for (k,) in kinds] == ["phone", "wecom_external_userid"]
    assert not wh("SELECT 1 FROM identities WHERE kind = 'phone' AND namespace LIKE '%%138%%'")
    tags = wh("SELECT customer_id, tag_id FROM customer_tags WHERE workspace_id = %(w)s ORDER BY 1, 2", w=tenant.id)
    assert tags == [(one, a), (two, a), (two, b)]
    orders = wh("SELECT customer_id, status, paid_fen FROM orders WHERE workspace_id = %(w)s", w=tenant.id)
    assert orders == [(two, "paid", 3000)]
    lines = wh("SELECT sku, category, quantity, amount_fen FROM order_lines WHERE workspace_id = %(w)s", w=tenant.id)
    assert lines == [("S1", "tea", 2, 3000)]
    members = wh("SELECT customer_id FROM memberships WHERE workspace_id = %(w)s ORDER BY 1", w=tenant.id)
    assert [m for (m,) in members] == [one, two]  # first touch and the order's channel


def test_internal_changes_are_events_under_documented_names(api, wh, tenant):
    one, two, a, _ = _seed(api)
    api.post(f"/v1/customers/{one}/consents", json={"channel": "sms", "status": "granted", "method": "form"})
    api.delete(f"/v1/customers/{one}/tags/{a}")
    names = wh("SELECT event, customer_id FROM events WHERE workspace_id = %(w)s ORDER BY ts, message_id",
               w=tenant.id)
    assert ("Order Paid", two) in names and ("Consent Changed", one) in names
    assert ("Tag Added", one) in names and ("Tag Removed", one) in names
    assert {event for event, _ in names} <= set(replica.EVENT_NAMES.values())


def test_merge_and_erase_propagate(api, wh, tenant):
    one, two, a, b = _seed(api)
    assert api.post(f"/v1/customers/{one}/merge", json={"loser_id": two}).status_code == 200
    tags = wh("SELECT customer_id, tag_id FROM customer_tags WHERE workspace_id = %(w)s ORDER BY 2", w=tenant.id)
    assert tags == [(one, a), (one, b)]
    assert wh("SELECT customer_id FROM orders WHERE workspace_id = %(w)s", w=tenant.id) == [(one,)]
    assert wh("SELECT count(*) FROM events WHERE customer_id = %(c)s", c=two) == [(0,)]
    assert ("Customer Merged",) in wh("SELECT event FROM events WHERE customer_id = %(c)s", c=one)
    status = wh("SELECT status, merged_into_id FROM customers WHERE id = %(c)s", c=two)
    assert status == [("merged", one)]
    kinds = wh("SELECT kind FROM identities WHERE customer_id = %(c)s ORDER BY kind", c=one)
    assert [k for (k,) in kinds] == ["app_user_id", "phone", "wecom_external_userid"]
    assert api.post(f"/v1/customers/{one}/erase").status_code == 200
    assert wh("SELECT status, city FROM customers WHERE id = %(c)s", c=one) == [("erased", None)]
    assert wh("SELECT count(*) FROM identities WHERE customer_id = %(c)s", c=one) == [(0,)]
    assert wh("SELECT sum(paid_fen) FROM orders WHERE workspace_id = %(w)s", w=tenant.id) == [(3000,)]


TABLES = ["customers", "identities", "customer_tags", "memberships", "orders", "order_lines", "events"]


def _dump(pipeline, workspace_id):
    return {table: sorted(map(repr, pipeline.warehouse.query(
        f"SELECT * FROM {table} WHERE workspace_id = %(w)s", {"w": workspace_id}))) for table in TABLES}


def test_reapplying_relayed_changes_changes_nothing(api, pipeline, database, tenant):
    one, two, *_ = _seed(api)
    api.post(f"/v1/customers/{one}/merge", json={"loser_id": two})
    pipeline.relay.catch_up()
    before = _dump(pipeline, tenant.id)
    with database.unit_of_work() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.workspace_id == tenant.id).order_by(OutboxRow.id))
        changes = [replica.Change(id=r.id, workspace_id=r.workspace_id, topic=r.topic, entity_id=r.entity_id,
                                  payload=r.payload, created_at=r.created_at) for r in rows]
    assert all(r is not None for r in changes) and len(changes) > 10
    with pipeline.warehouse.transaction() as tx:  # a crash after the warehouse commit replays the batch
        replica.apply(tx, changes)
    assert _dump(pipeline, tenant.id) == before


def test_background_relay_applies_commits_without_being_asked(api, pipeline, tenant):
    customer = api.post("/v1/customers", json={"identities": [{"kind": "app_user_id", "value": "bg"}]}).json()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if pipeline.warehouse.query("SELECT 1 FROM customers WHERE id = %(c)s", {"c": customer["customer"]["id"]}):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the relay did not apply the commit within 5 s")


def test_listeners_hear_which_customers_each_warehouse_commit_touched(api, pipeline, tenant, client):
    heard: list[dict[int, set[int]]] = []
    pipeline.on_touched(heard.append)
    one, two, a, _ = _seed(api)
    pipeline.relay.catch_up()
    relayed = set().union(*(batch.get(tenant.id, set()) for batch in heard))
    assert relayed == {one, two}
    heard.clear()
    key = api.post("/v1/sources", json={"name": "web"}).json()["write_key"]
    sent = client.post("/v1/track", auth=(key, ""), json={"userId": "u2", "event": "Viewed", "messageId": "t1"})
    assert sent.status_code == 200, sent.text
    pipeline.loader.catch_up()
    assert heard[-1] == {tenant.id: {two}}


def test_a_batch_holding_several_states_of_one_customer_keeps_the_last(api, wh, tenant, pipeline):
    created = api.post("/v1/customers", json={"name": "Wu", "city": "杭州",
                                              "identities": [{"kind": "app_user_id", "value": "wu"}]}).json()
    customer = created["customer"]["id"]
    for city in ("苏州", "南京"):
        assert api.patch(f"/v1/customers/{customer}", json={"city": city}).status_code == 200
    added = api.post(f"/v1/customers/{customer}/identities", json=[{"kind": "email", "value": "w@example.com"}])
    assert added.status_code == 200, added.text
    assert wh("SELECT city FROM customers WHERE id = %(c)s", c=customer) == [("南京",)]
    kinds = wh("SELECT kind FROM identities WHERE customer_id = %(c)s ORDER BY kind", c=customer)
    assert kinds == [("app_user_id",), ("email",)]


def test_an_order_changed_several_times_in_one_batch_keeps_its_last_lines(api, pipeline, database, tenant):
    api.post("/v1/channels", json={"code": "mp", "name": "MP", "kind": "mini_program"})
    customer = api.post("/v1/customers", json={"identities": [{"kind": "app_user_id", "value": "o"}]}).json()

    def order(*skus):
        answer = api.post("/v1/orders", json={
            "external_id": "W9", "channel": "mp", "status": "paid", "placed_at": "2026-11-01T10:00:00+08:00",
            "customer_id": customer["customer"]["id"],
            "lines": [{"sku": sku, "quantity": 1, "unit_price_fen": 100 * (n + 1)} for n, sku in enumerate(skus)]})
        assert answer.status_code == 200, answer.text
        return answer.json()["id"]

    order_id = order("A", "B", "C")
    order("D")
    order("E", "F")
    with database.unit_of_work() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.workspace_id == tenant.id).order_by(OutboxRow.id))
        changes = [replica.Change(id=r.id, workspace_id=r.workspace_id, topic=r.topic, entity_id=r.entity_id,
                                  payload=r.payload, created_at=r.created_at) for r in rows]
    assert sum(c.topic == "order.changed" for c in changes) >= 3
    with pipeline.warehouse.transaction() as tx:  # every state of the order in one warehouse transaction
        replica.apply(tx, changes)
    lines = pipeline.warehouse.query("SELECT line_no, sku, amount_fen FROM order_lines WHERE order_id = %(o)s "
                                     "ORDER BY line_no", {"o": order_id})
    assert lines == [(1, "E", 100), (2, "F", 200)]
