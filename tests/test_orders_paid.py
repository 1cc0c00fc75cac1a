"""What a paid order is, everywhere: refunds that only grow, one definition of paid for lifecycle, segments,
loyalty and the archive, facts at their own time on the timeline, and ledger keys clients cannot take."""

import base64
from datetime import UTC, datetime, timedelta

from tests.helpers.loyalty import assert_consistent, ledger_state


def _customer(api, user: str) -> int:
    response = api.post("/v1/customers", json={"name": "顾客", "identities": [{"kind": "app_user_id", "value": user}]})
    assert response.status_code in (200, 201), response.text
    return response.json()["customer"]["id"]


def _order(api, customer_id: int, external_id: str, *, expect: int = 200, **changes):
    body = {"external_id": external_id, "channel": "mp", "status": "paid", "placed_at": "2026-07-09T10:00:00+08:00",
            "paid_at": "2026-07-09T10:01:00+08:00", "customer_id": customer_id,
            "lines": [{"sku": "LJ-250", "quantity": 1, "unit_price_fen": 30000}]} | changes
    response = api.post("/v1/orders", json=body)
    assert response.status_code == expect, response.text
    return response.json()


def _mp(api) -> None:
    api.post("/v1/channels", json={"code": "mp", "name": "小程序商城", "kind": "mini_program"})


def test_a_stale_lower_refund_is_refused_and_points_follow_the_final_state(api, database, pipeline):
    # Given an order worth 300 points, refunded in full
    _mp(api)
    assert api.post("/v1/loyalty/rules", json={"name": "消费积分", "kind": "order",
                                               "points_per_yuan": 1}).status_code == 201
    customer = _customer(api, "refund-1")
    _order(api, customer, "RF-1")
    _order(api, customer, "RF-1", status="refunded", refunded_fen=30000)
    pipeline.catch_up()
    # When a stale snapshot with a smaller refund arrives later
    problem = _order(api, customer, "RF-1", expect=409, status="partially_refunded", refunded_fen=10000)
    pipeline.catch_up()
    # Then it is refused naming the field, the order stays refunded and the points stay taken back
    assert problem["errors"][0]["field"] == "refunded_fen"
    order = api.get("/v1/orders", params={"customer_id": customer}).json()["items"][0]
    assert (order["status"], order["refunded_fen"]) == ("refunded", 30000)
    with database.unit_of_work() as session:
        state = ledger_state(session, customer)
    assert_consistent(state)
    assert state["balance"] == 0


def _yesterday() -> datetime:
    return (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)


def test_a_paid_order_without_paid_at_counts_alike_for_segments_lifecycle_and_the_archive(api, pipeline):
    # Given a paid order of 99 yuan recorded without a payment time
    _mp(api)
    customer = _customer(api, "paid-1")
    placed = _yesterday()
    order = _order(api, customer, "P-1", placed_at=placed.isoformat(), paid_at=None,
                   lines=[{"sku": "LJ-250", "quantity": 1, "unit_price_fen": 9900}])
    # When segments, lifecycle and the archive read it
    pipeline.catch_up()
    rule = {"type": "order", "measure": "count", "op": "gte", "value": 1}
    preview = api.post("/v1/segments/preview", json={"rule": rule, "sample_size": 5})
    assert api.post("/v1/lifecycle/compute").status_code == 200
    archive = api.get(f"/v1/customers/{customer}/archive").json()
    # Then it is paid when it was placed, and every one of them counts it
    assert preview.json()["count"] == 1, preview.text
    assert datetime.fromisoformat(order["paid_at"]) == placed
    assert (archive["scores"]["lifecycle_stage"], archive["scores"]["historic_value_fen"]) == ("new", 9900)
    summary = archive["order_summary"]
    assert (summary["paid_orders"], summary["paid_fen"]) == (1, 9900)
    assert datetime.fromisoformat(summary["first_paid_at"]) == placed


def test_order_paid_is_on_the_timeline_when_it_was_paid_and_first_seen_moves_back(api, pipeline):
    # Given a customer first seen today
    _mp(api)
    customer = _customer(api, "paid-2")
    # When an order placed and paid last July is recorded
    _order(api, customer, "P-2")
    pipeline.catch_up()
    # Then the timeline shows Order Paid at the payment time, and the customer was first seen by then
    events = api.get(f"/v1/customers/{customer}/timeline", params={"kind": "event"}).json()["items"]
    paid = [e for e in events if e["name"] == "Order Paid"]
    assert [datetime.fromisoformat(e["at"]) for e in paid] == [datetime(2026, 7, 9, 2, 1, tzinfo=UTC)]
    shown = api.get(f"/v1/customers/{customer}").json()
    assert datetime.fromisoformat(shown["first_seen_at"]) == datetime(2026, 7, 9, 2, 0, tzinfo=UTC)
    seen = pipeline.warehouse.query("SELECT first_seen_at FROM customers WHERE id = %(c)s", {"c": customer})
    assert seen[0][0].astimezone(UTC) == datetime(2026, 7, 9, 2, 0, tzinfo=UTC)


def test_client_keys_cannot_take_yutangs_own_ledger_keys(api, pipeline):
    # Given two customers, and a client earn keyed as a merge of them would be
    _mp(api)
    winner, loser = _customer(api, "keys-w"), _customer(api, "keys-l")
    earned = api.post("/v1/loyalty/points/earn", json={"customer_id": loser, "points": 50,
                                                       "idempotency_key": f"merge:{loser}:{winner}"})
    assert earned.status_code in (200, 201), earned.text
    # When they are merged
    merged = api.post(f"/v1/customers/{winner}/merge", json={"loser_id": loser})
    # Then the merge works, the points move, and Yutang's own prefix is refused to clients
    assert merged.status_code == 200, merged.text
    assert api.get(f"/v1/loyalty/customers/{winner}/points").json()["balance"] == 50
    refused = api.post("/v1/loyalty/points/earn", json={"customer_id": winner, "points": 5,
                                                        "idempotency_key": f"yutang:merge:{loser}:{winner}"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "idempotency_key"


def _basic(write_key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


def test_first_seen_moves_back_to_the_earliest_event_and_linked_anonymous_history(api, client, pipeline):
    # Given a customer known since today, and an anonymous visitor who browsed in June
    key = api.post("/v1/sources", json={"name": "app", "kind": "app"}).json()["write_key"]
    known = _customer(api, "seen-1")
    send = [{"type": "page", "anonymousId": "dev-9", "name": "Home", "timestamp": "2026-06-01T00:00:00Z"}]
    assert client.post("/v1/batch", json={"batch": send}, headers=_basic(key)).status_code == 200
    pipeline.catch_up()
    # When an older event of the customer arrives, and the visitor signs in today
    late = [{"type": "track", "userId": "seen-1", "event": "Signed In", "timestamp": "2026-05-01T08:00:00Z"},
            {"type": "track", "userId": "seen-2", "anonymousId": "dev-9", "event": "Signed In"}]
    assert client.post("/v1/batch", json={"batch": late}, headers=_basic(key)).status_code == 200
    pipeline.catch_up()
    # Then each was first seen at their earliest event
    assert api.get(f"/v1/customers/{known}").json()["first_seen_at"].startswith("2026-05-01T08:00:00")
    visitor = api.get("/v1/customers", params={"q": "seen-2"}).json()["items"]
    assert [c["first_seen_at"][:19] for c in visitor] == ["2026-06-01T00:00:00"]


def test_a_refund_takes_back_only_what_the_order_rules_earned(api, database, pipeline):
    # Given an order that earned 300 points, and a client's own bonus that names the same order
    _mp(api)
    assert api.post("/v1/loyalty/rules", json={"name": "消费积分", "kind": "order",
                                               "points_per_yuan": 1}).status_code == 201
    customer = _customer(api, "refund-2")
    order = _order(api, customer, "RF-2")
    pipeline.catch_up()
    bonus = api.post("/v1/loyalty/points/earn", json={"customer_id": customer, "points": 100, "idempotency_key": "b",
                                                      "source_type": "order", "source_ref": str(order["id"])})
    assert bonus.status_code in (200, 201), bonus.text
    # When the order is refunded in full
    _order(api, customer, "RF-2", status="refunded", refunded_fen=30000)
    pipeline.catch_up()
    # Then the 300 go back and the bonus stays
    with database.unit_of_work() as session:
        state = ledger_state(session, customer)
    assert_consistent(state)
    assert state["balance"] == 100
