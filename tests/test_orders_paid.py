"""What a paid order is, everywhere: refunds that only grow, one definition of paid for lifecycle, segments,
loyalty and the archive, facts at their own time on the timeline, and ledger keys clients cannot take."""

from tests.loyalty_helpers import assert_consistent, ledger_state


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
