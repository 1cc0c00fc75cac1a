"""Points on the store and through the API: idempotency, FEFO, expiry job, reversal after spending, negative
balances or recorded shortfalls, liability, merges, and many threads at once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.helpers.customers import new_customer
from tests.helpers.loyalty import assert_consistent, ledger_state
from yutang.archive import service as archive_service
from yutang.loyalty import config, points
from yutang.loyalty.errors import NotEnoughPoints
from yutang.loyalty.models import PointsEntry
from yutang.loyalty.schemas import SettingsIn
from yutang.storage.outbox import OutboxRow


def _earn(database, actor, customer_id, amount, key, **kw):
    with database.unit_of_work() as session:
        return points.earn(session, actor=actor, customer_id=customer_id, points=amount, key=key, **kw)


def _state(database, customer_id):
    with database.unit_of_work() as session:
        return ledger_state(session, customer_id)


def test_same_key_twice_changes_nothing_and_returns_the_first_entry(api, tenant, database):
    customer_id = new_customer(database, tenant.actor)
    body = {"customer_id": customer_id, "points": 120, "idempotency_key": "signup-bonus", "reason": "welcome"}
    first = api.post("/v1/loyalty/points/earn", json=body)
    assert first.status_code == 200, first.text
    again = api.post("/v1/loyalty/points/earn", json=body | {"points": 999})
    assert again.json()["id"] == first.json()["id"] and again.json()["points"] == 120
    balance = api.get(f"/v1/loyalty/customers/{customer_id}/points").json()
    assert balance["balance"] == 120 and [lot["remaining"] for lot in balance["lots"]] == [120]
    with database.unit_of_work() as session:
        topics = list(session.scalars(select(OutboxRow.payload).where(OutboxRow.workspace_id == tenant.id,
                                                                      OutboxRow.topic == "points.changed")))
    assert [(p["kind"], p["points"], p["balance_after"]) for p in topics] == [("earn", 120, 120)]


def test_redeem_spends_first_expiring_lots_and_refuses_too_much(api, tenant, database):
    customer_id = new_customer(database, tenant.actor)
    now = datetime.now(UTC)
    _earn(database, tenant.actor, customer_id, 100, "late", occurred_at=now - timedelta(days=1))
    _earn(database, tenant.actor, customer_id, 100, "early", occurred_at=now - timedelta(days=200))
    spent = api.post("/v1/loyalty/points/redeem", json={"customer_id": customer_id, "points": 150,
                                                        "idempotency_key": "r1"})
    assert spent.status_code == 200 and spent.json()["balance_after"] == 50
    lots = api.get(f"/v1/loyalty/customers/{customer_id}/points").json()["lots"]
    assert [lot["remaining"] for lot in lots] == [50]  # the early lot went first
    too_much = api.post("/v1/loyalty/points/redeem", json={"customer_id": customer_id, "points": 51,
                                                           "idempotency_key": "r2"})
    assert too_much.status_code == 409
    assert too_much.headers["content-type"].startswith("application/problem+json")
    assert too_much.json()["errors"][0]["field"] == "points"
    bad = api.post("/v1/loyalty/points/redeem", json={"customer_id": customer_id, "points": 0,
                                                      "idempotency_key": "r3"})
    assert bad.status_code == 422


def test_expiry_job_writes_expire_entries_once(database, tenant):
    actor = tenant.actor
    customer_id = new_customer(database, actor)
    now = datetime.now(UTC)
    _earn(database, actor, customer_id, 70, "old", occurred_at=now - timedelta(days=400))  # 12 months rolling
    _earn(database, actor, customer_id, 30, "new")
    for _ in range(2):
        with database.unit_of_work() as session:
            assert (actor.workspace_id, customer_id) in points.due_accounts(session, now=now) or _ == 1
            points.expire_customer(session, workspace_id=actor.workspace_id, customer_id=customer_id, now=now)
    with database.unit_of_work() as session:
        kinds = [(e.kind, e.points) for e in points.history(session, actor=actor, customer_id=customer_id)]
        assert kinds == [("expire", -70), ("earn", 30), ("earn", 70)]
        assert_consistent(ledger_state(session, customer_id))
        assert ledger_state(session, customer_id)["balance"] == 30


def test_reversal_after_spending_records_a_shortfall_or_goes_negative(api, database, tenant):
    actor = tenant.actor
    customer_id = new_customer(database, actor)
    entry, _ = _earn(database, actor, customer_id, 100, "order:1:earn")
    with database.unit_of_work() as session:
        points.redeem(session, actor=actor, customer_id=customer_id, points=80, key="spend")
    first = api.post("/v1/loyalty/points/reverse", json={"entry_id": entry.id, "points": 60,
                                                         "idempotency_key": "refund-a"}).json()
    assert (first["points"], first["shortfall"], first["balance_after"]) == (-20, 40, 0)
    with database.unit_of_work() as session:
        config.update_settings(session, actor=actor, data=SettingsIn(allow_negative=True))
    second = api.post("/v1/loyalty/points/reverse", json={"entry_id": entry.id, "idempotency_key": "refund-b"}).json()
    assert (second["points"], second["balance_after"]) == (-40, -40)  # only 40 of the earn was left to reverse
    assert api.post("/v1/loyalty/points/reverse", json={"entry_id": entry.id,
                                                        "idempotency_key": "refund-c"}).json() is None
    _earn(database, actor, customer_id, 50, "later")  # pays the negative balance back first
    state = _state(database, customer_id)
    assert_consistent(state)
    assert (state["balance"], state["lots_sum"], state["shortfall"]) == (10, 10, 40)


def test_liability_by_expiry_month_in_workspace_time(api, database, tenant):
    actor = tenant.actor
    with database.unit_of_work() as session:
        config.update_settings(session, actor=actor, data=SettingsIn(expiry_policy="fixed", expiry_month_day="12-31",
                                                                     fen_per_100_points=50))
    customer_id = new_customer(database, actor)
    # 2025-12-31 20:00 UTC is 2026-01-01 in Beijing: those points expire at the end of 2027, not 2026.
    _earn(database, actor, customer_id, 300, "a", occurred_at=datetime(2025, 12, 31, 20, tzinfo=UTC))
    _earn(database, actor, customer_id, 101, "b", occurred_at=datetime(2025, 12, 31, 12, tzinfo=UTC))
    report = api.get("/v1/loyalty/points/liability").json()
    assert [(r["month"], r["points"], r["value_fen"]) for r in report["rows"]] == [
        ("2026-12", 101, 50), ("2027-12", 300, 150)]
    assert (report["total_points"], report["total_value_fen"]) == (401, 200)


def test_merge_moves_lots_and_ledger_with_a_merge_entry(database, tenant):
    actor = tenant.actor
    winner, loser = new_customer(database, actor), new_customer(database, actor)
    _earn(database, actor, winner, 10, "w")
    _earn(database, actor, loser, 25, "l")
    with database.unit_of_work() as session:
        archive_service.merge(session, actor=actor, winner_id=winner, loser_id=loser, reason="same person")
    state = _state(database, winner)
    assert_consistent(state)
    assert state["balance"] == 35
    with database.unit_of_work() as session:
        last = session.scalar(select(PointsEntry).where(PointsEntry.customer_id == winner)
                              .order_by(PointsEntry.id.desc()))
        assert (last.kind, last.detail["from_customer_id"], last.detail["moved_balance"]) == ("merge", loser, 25)
        export = archive_service.export(session, actor=actor, customer_id=winner)
    assert export["loyalty"]["points"]["balance"] == 35
    # Points sent to the merged id afterwards reach the survivor.
    entry, _ = _earn(database, actor, loser, 5, "late-event")
    assert entry.customer_id == winner


def test_many_threads_lose_and_double_nothing(database, tenant):
    actor = tenant.actor
    customer_id = new_customer(database, actor)
    spent, lock = [], threading.Lock()

    def work(worker: int) -> None:
        for step in range(12):
            # Every worker sends the shared keys too: each must apply exactly once.
            _earn(database, actor, customer_id, 7, f"shared-{step}")
            _earn(database, actor, customer_id, 3, f"own-{worker}-{step}")
            try:
                with database.unit_of_work() as session:
                    entry, created = points.redeem(session, actor=actor, customer_id=customer_id, points=11,
                                                   key=f"spend-{(worker + step) % 20}")
                if created:
                    with lock:
                        spent.append(11)
            except NotEnoughPoints:
                pass

    workers = 12
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(workers)))
    state = _state(database, customer_id)
    assert_consistent(state)
    assert state["balance"] == 12 * 7 + workers * 12 * 3 - sum(spent)
    assert len(spent) == 20


def test_nightly_job_expires_points_and_coupons(database, tenant):
    from yutang.loyalty import tasks

    actor = tenant.actor
    customer_id = new_customer(database, actor)
    _earn(database, actor, customer_id, 40, "night-old", occurred_at=datetime.now(UTC) - timedelta(days=500))
    done = tasks.nightly(database.factory)
    assert done["points_expired"] >= 1
    assert tasks.nightly(database.factory)["points_expired"] == 0
    assert _state(database, customer_id)["balance"] == 0
