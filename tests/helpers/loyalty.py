"""Loyalty: a seeded programme, and the ledger's invariants checked straight on the store's tables."""


from sqlalchemy import func, select

from tests.helpers.customers import new_customer
from tests.helpers.images import screenshot
from yutang.loyalty.models import PointsAccount, PointsEntry, PointsLot


def ledger_state(session, customer_id: int) -> dict:
    """Balance, sum of entries, sum and minimum of lots, and whether any key appears twice."""
    account = session.scalar(select(PointsAccount).where(PointsAccount.customer_id == customer_id))
    total = session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0))
                           .where(PointsEntry.customer_id == customer_id))
    lots = list(session.scalars(select(PointsLot.remaining).where(PointsLot.customer_id == customer_id)))
    keys = list(session.scalars(select(PointsEntry.idempotency_key).where(PointsEntry.customer_id == customer_id)))
    return {"balance": account.balance if account else 0, "entries_sum": int(total), "lots_sum": sum(lots),
            "lots_min": min(lots, default=0), "keys": len(keys), "distinct_keys": len(set(keys)),
            "shortfall": account.shortfall if account else 0}


def assert_consistent(state: dict) -> None:
    assert state["balance"] == state["entries_sum"]
    assert state["lots_min"] >= 0
    assert state["lots_sum"] == max(state["balance"], 0)
    assert state["keys"] == state["distinct_keys"]


def seed_loyalty(api, database, tenant) -> dict:
    """A workspace with a rule, a tier, a coupon template with one used coupon, and two proofs to review."""
    customer = new_customer(database, tenant.actor, name="积分顾客")
    api.post("/v1/loyalty/rules", json={"name": "签到送积分", "kind": "event", "event_name": "Signed In",
                                        "points": 5, "daily_cap": 5})
    api.post("/v1/loyalty/tiers", json={"name": "金卡会员", "rank": 1, "threshold": 100, "multiplier_pct": 150,
                                        "benefits": ["free_returns"]})
    api.post("/v1/loyalty/points/earn", json={"customer_id": customer, "points": 120, "idempotency_key": "seed",
                                              "reason": "开卡礼"})
    template = api.post("/v1/loyalty/coupon-templates", json={
        "name": "满200减30", "kind": "threshold", "value_fen": 3000, "threshold_fen": 20000, "valid_days": 30}).json()
    coupon = api.post(f"/v1/loyalty/coupon-templates/{template['id']}/issue",
                      json={"customer_id": customer, "idempotency_key": "seed"}).json()
    api.post(f"/v1/loyalty/coupons/{coupon['id']}/redeem", json={"order_ref": "T1", "order_amount_fen": 26800})
    task = api.post("/v1/loyalty/tasks", json={"name": "晒好评", "points": 30, "per_customer_limit": 5}).json()
    proofs = [api.post(f"/v1/loyalty/tasks/{task['id']}/submissions",
                       data={"customer_id": str(customer), "note": f"第{n}张截图"},
                       files={"image": ("p.png", screenshot(100 + n), "image/png")}).json()["id"] for n in (1, 2)]
    return {"customer": customer, "template": template["id"], "proofs": proofs, "coupon": coupon["code"]}
