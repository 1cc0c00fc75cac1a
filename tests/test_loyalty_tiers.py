"""Tiers: upgrade at once on points earned in the rolling window (not the balance), downgrade only at period end
after the grace period, history, multipliers, benefits and tier-only coupons; spend as the basis."""

from datetime import UTC, datetime, timedelta

from tests.helpers.customers import new_customer
from yutang.loyalty import tasks


def _tiers(api):
    silver = api.post("/v1/loyalty/tiers", json={"name": "银卡", "rank": 1, "threshold": 100, "multiplier_pct": 120})
    gold = api.post("/v1/loyalty/tiers", json={"name": "金卡", "rank": 2, "threshold": 500, "multiplier_pct": 150,
                                               "benefits": ["exclusive_service", "free_returns"]})
    assert silver.status_code == 201 and gold.status_code == 201, gold.text
    return silver.json(), gold.json()


def _earn(api, customer, points, key):
    response = api.post("/v1/loyalty/points/earn", json={"customer_id": customer, "points": points,
                                                         "idempotency_key": key})
    assert response.status_code == 200, response.text


def test_upgrade_at_once_and_downgrade_only_after_period_and_grace(api, database, tenant):
    silver, gold = _tiers(api)
    assert api.post("/v1/loyalty/tiers", json={"name": "重复", "rank": 2, "threshold": 9}).status_code == 409
    customer = new_customer(database, tenant.actor)
    _earn(api, customer, 120, "a")
    assert api.get(f"/v1/loyalty/customers/{customer}/tier").json()["tier"]["id"] == silver["id"]
    _earn(api, customer, 400, "b")
    state = api.get(f"/v1/loyalty/customers/{customer}/tier").json()
    assert (state["tier"]["name"], state["qualifying"]) == ("金卡", 520)
    assert state["tier"]["benefits"] == ["exclusive_service", "free_returns"]
    # Spending points does not lower the tier: it is earned points that count, not the balance.
    assert api.post("/v1/loyalty/points/redeem", json={"customer_id": customer, "points": 500,
                                                       "idempotency_key": "spend"}).status_code == 200
    assert api.get(f"/v1/loyalty/customers/{customer}/tier").json()["tier"]["name"] == "金卡"
    review_at = datetime.fromisoformat(state["review_at"])
    # At the period end but inside the 30-day grace: nothing changes.
    assert tasks.review_tiers(database.factory, now=review_at + timedelta(days=10)) == 0
    assert api.get(f"/v1/loyalty/customers/{customer}/tier").json()["tier"]["name"] == "金卡"
    # After the grace period the window holds nothing any more: down to no tier.
    assert tasks.review_tiers(database.factory, now=review_at + timedelta(days=31)) >= 1
    after = api.get(f"/v1/loyalty/customers/{customer}/tier").json()
    assert after["tier"] is None
    assert [(h["reason"], h["to_tier_id"]) for h in after["history"]] == [
        ("downgrade", None), ("upgrade", gold["id"]), ("upgrade", silver["id"])]


def test_tier_only_coupons_and_spend_basis(api, database, tenant):
    _, gold = _tiers(api)
    settings = api.put("/v1/loyalty/settings", json={"tier_basis": "spend", "tier_window_months": 6})
    assert settings.status_code == 200, settings.text
    template = api.post("/v1/loyalty/coupon-templates", json={
        "name": "金卡专享", "kind": "fixed", "value_fen": 2000, "valid_days": 7, "tier_ids": [gold["id"]]}).json()
    customer = new_customer(database, tenant.actor)
    refused = api.post(f"/v1/loyalty/coupon-templates/{template['id']}/issue",
                       json={"customer_id": customer, "idempotency_key": "x"})
    assert refused.status_code == 409 and "tier" in refused.json()["detail"]
    api.post("/v1/channels", json={"code": "shop", "name": "门店", "kind": "store"})
    paid_at = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    old = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    for external_id, when, fen in (("S-1", paid_at, 40000), ("S-2", old, 90000), ("S-3", paid_at, 15000)):
        assert api.post("/v1/orders", json={"external_id": external_id, "channel": "shop", "status": "paid",
                                            "placed_at": when, "paid_at": when, "customer_id": customer,
                                            "lines": [{"sku": "T", "quantity": 1, "unit_price_fen": fen}]}
                        ).status_code == 200
    _earn(api, customer, 1, "nudge")  # an earn re-evaluates the tier
    state = api.get(f"/v1/loyalty/customers/{customer}/tier").json()
    assert (state["qualifying"], state["tier"]["name"]) == (55000, "金卡")  # the 400-day-old order is outside
    issued = api.post(f"/v1/loyalty/coupon-templates/{template['id']}/issue",
                      json={"customer_id": customer, "idempotency_key": "x"})
    assert issued.status_code == 200, issued.text
