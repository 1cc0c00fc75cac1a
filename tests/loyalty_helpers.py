"""Helpers shared by the loyalty tests: customers, and invariants checked straight on the store's tables."""

import secrets

from sqlalchemy import func, select

from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn, IdentityIn, IdentityKind
from yutang.loyalty.models import PointsAccount, PointsEntry, PointsLot


def new_customer(database, actor, name: str = "顾客") -> int:
    with database.unit_of_work() as session:
        customer = customers_service.create(session, actor=actor, data=CustomerIn(
            name=name, identities=[IdentityIn(kind=IdentityKind.APP_USER_ID, value="u-" + secrets.token_hex(6))]))
        return customer.id


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
