"""Earn rules end to end: paid orders through the outbox subscriber (tier multiplier, category exclusion, pro-rata
refund reversal), events from the warehouse with daily caps in workspace time, and the subscriber's cursor."""

from datetime import UTC, datetime, timedelta

from tests.helpers.customers import post_customer
from tests.helpers.events import basic
from tests.helpers.loyalty import assert_consistent, ledger_state
from yutang.runtime.subscribers import GAP_SECONDS, advance

NOW = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def _order(api, customer_id: int, external_id: str, **changes) -> dict:
    body = {"external_id": external_id, "channel": "mp", "status": "paid", "placed_at": "2026-11-20T10:00:00+08:00",
            "paid_at": "2026-11-20T10:01:00+08:00", "customer_id": customer_id,
            "lines": [{"sku": "LJ-250", "category": "绿茶", "quantity": 2, "unit_price_fen": 6000},
                      {"sku": "GIFT-BOX", "category": "包装", "quantity": 1, "unit_price_fen": 3000}],
            "paid_fen": 15000, "total_fen": 15000} | changes
    response = api.post("/v1/orders", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _entries(api, customer_id: int) -> list[tuple]:
    items = api.get(f"/v1/loyalty/customers/{customer_id}/points/entries").json()["items"]
    return [(e["kind"], e["points"]) for e in reversed(items)]


def test_paid_orders_earn_and_refunds_take_back_pro_rata(api, database, pipeline):
    api.post("/v1/channels", json={"code": "mp", "name": "小程序商城", "kind": "mini_program"})
    rule = api.post("/v1/loyalty/rules", json={"name": "消费积分", "kind": "order", "points_per_yuan": 2,
                                                "excluded_categories": ["包装"]})
    assert rule.status_code == 201, rule.text
    api.post("/v1/loyalty/tiers", json={"name": "金卡", "rank": 1, "threshold": 300, "multiplier_pct": 150,
                                        "benefits": ["free_returns"]})
    customer = post_customer(api, app_user_id="rules-1")
    _order(api, customer, "R-1")
    pipeline.catch_up()
    # 150 yuan paid, 120 of it on eligible lines: 240 points; that reaches no tier yet (threshold 300).
    assert _entries(api, customer) == [("earn", 240)]
    _order(api, customer, "R-2")
    pipeline.catch_up()
    assert api.get(f"/v1/loyalty/customers/{customer}/tier").json()["tier"]["name"] == "金卡"
    _order(api, customer, "R-3")  # now at 1.5x
    pipeline.catch_up()
    assert _entries(api, customer) == [("earn", 240), ("earn", 240), ("earn", 360)]
    # A third refunded, then all of it: 120 then the remaining 240 taken back; repeats change nothing.
    _order(api, customer, "R-3", status="partially_refunded", refunded_fen=5000)
    pipeline.catch_up()
    _order(api, customer, "R-3", status="refunded", refunded_fen=15000)
    pipeline.catch_up()
    pipeline.subscribers.catch_up()
    assert _entries(api, customer)[3:] == [("reverse", -120), ("reverse", -240)]
    with database.unit_of_work() as session:
        state = ledger_state(session, customer)
    assert_consistent(state)
    assert state["balance"] == 480



def test_events_earn_within_daily_and_total_caps(api, client, pipeline):
    rule = api.post("/v1/loyalty/rules", json={"name": "签到", "kind": "event", "event_name": "Signed In",
                                                "points": 10, "daily_cap": 15, "total_cap": 35})
    assert rule.status_code == 201, rule.text
    key = api.post("/v1/sources", json={"name": "mini program", "kind": "mini_program"}).json()["write_key"]
    customer = post_customer(api, app_user_id="ev-1")
    # Two sign-ins on 24 Nov Beijing time (one at 23:30 UTC on the 23rd), one late on the 24th, two on the 25th.
    times = ["2026-11-23T23:30:00Z", "2026-11-24T03:00:00Z", "2026-11-24T15:59:00Z", "2026-11-24T16:00:00Z",
             "2026-11-25T05:00:00Z", "2026-11-26T05:00:00Z"]
    batch = [{"type": "track", "userId": "ev-1", "messageId": f"sign-{n}", "event": "Signed In", "timestamp": t}
             for n, t in enumerate(times)]
    batch.append({"type": "track", "userId": "ev-1", "messageId": "other", "event": "Page Shared",
                  "timestamp": times[0]})
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(key)).status_code == 200
    pipeline.catch_up()
    # Day 24th: 10 + 5 (cap 15) + 0; day 25th: 10 + 5; then the total cap of 35 leaves 5 for the 26th.
    assert _entries(api, customer) == [("earn", 10), ("earn", 5), ("earn", 10), ("earn", 5), ("earn", 5)]
    # The same messages again (replayed by a client) are dropped by the loader, and the earner's overlap
    # re-reads what it has seen: nothing more is awarded.
    client.post("/v1/batch", json={"batch": batch}, headers=basic(key))
    pipeline.catch_up()
    pipeline.earner.catch_up()
    assert len(_entries(api, customer)) == 5


def test_cursor_keeps_skipped_ids_as_gaps_until_they_appear_or_age_out():
    moved = advance({"last": 10}, read=[11, 13, 14], failed=[14], now=NOW)
    assert moved["last"] == 14
    assert [gap[:2] for gap in moved["gaps"]] == [[12, 12], [14, 14]]
    later = advance(moved, read=[12, 14, 15], failed=[], now=NOW + timedelta(seconds=5))
    assert later == {"last": 15, "gaps": [], "failures": {}}
    forgotten = advance(moved, read=[], failed=[], now=NOW + timedelta(seconds=GAP_SECONDS + 1))
    assert forgotten["gaps"] == [] and forgotten["last"] == 14


def test_ledger_changes_reach_the_warehouse_as_events(api, database, tenant, pipeline):
    customer = post_customer(api, app_user_id="wh-1")
    api.post("/v1/loyalty/points/earn", json={"customer_id": customer, "points": 30, "idempotency_key": "wh"})
    api.post("/v1/loyalty/points/redeem", json={"customer_id": customer, "points": 12, "idempotency_key": "wh-r"})
    template = api.post("/v1/loyalty/coupon-templates", json={"name": "券", "kind": "fixed", "value_fen": 100,
                                                              "valid_days": 3}).json()
    coupon = api.post(f"/v1/loyalty/coupon-templates/{template['id']}/issue",
                      json={"customer_id": customer, "idempotency_key": "wh"}).json()
    api.post(f"/v1/loyalty/coupons/{coupon['id']}/redeem", json={"order_ref": "W1", "order_amount_fen": 500})
    pipeline.catch_up()
    rows = pipeline.warehouse.query(
        "SELECT event, properties FROM events WHERE workspace_id = %(w)s AND customer_id = %(c)s "
        "AND source = 'yutang' ORDER BY message_id", {"w": tenant.id, "c": customer})
    events = [name for name, _ in rows]
    assert sorted(events) == ["Coupon Issued", "Coupon Redeemed", "Points Changed", "Points Changed"]


def test_redelivery_after_a_lost_cursor_awards_nothing_twice(api, database, pipeline):
    from sqlalchemy import update

    from yutang.storage.cursors import ConsumerCursor

    api.post("/v1/channels", json={"code": "mp", "name": "小程序商城", "kind": "mini_program"})
    api.post("/v1/loyalty/rules", json={"name": "消费积分", "kind": "order", "points_per_yuan": 1})
    customer = post_customer(api, app_user_id="redeliver-1")
    _order(api, customer, "RD-1")
    _order(api, customer, "RD-1", status="partially_refunded", refunded_fen=3000)
    pipeline.catch_up()
    before = _entries(api, customer)
    assert before == [("earn", 150), ("reverse", -30)]
    # As if the process died before its cursor moves committed: every row is delivered again.
    with database.unit_of_work() as session:
        session.execute(update(ConsumerCursor).where(ConsumerCursor.name == "outbox:loyalty.orders")
                        .values(position={}))
    pipeline.subscribers.catch_up()
    assert _entries(api, customer) == before


def test_a_new_event_rule_does_not_award_for_events_that_arrived_before_it(api, client, pipeline):
    key = api.post("/v1/sources", json={"name": "app", "kind": "app"}).json()["write_key"]
    customer = post_customer(api, app_user_id="ev-old")
    old = {"type": "track", "userId": "ev-old", "messageId": "old-share", "event": "Page Shared",
           "timestamp": "2026-11-20T05:00:00Z"}
    client.post("/v1/batch", json={"batch": [old]}, headers=basic(key))
    pipeline.catch_up()
    api.post("/v1/loyalty/rules", json={"name": "分享", "kind": "event", "event_name": "Page Shared", "points": 3})
    new = old | {"messageId": "new-share"}
    client.post("/v1/batch", json={"batch": [new]}, headers=basic(key))
    pipeline.catch_up()
    assert _entries(api, customer) == [("earn", 3)]
