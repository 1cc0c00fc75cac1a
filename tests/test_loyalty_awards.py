"""Group-committed points awards: many concurrent callers share transactions and stay exact; a bad award in a
batch fails alone while the rest of its batch applies."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.helpers.customers import new_customer
from tests.helpers.loyalty import assert_consistent, ledger_state
from yutang.kit.errors import Invalid, NotFound
from yutang.loyalty import batch, points
from yutang.loyalty.awards import Awarder
from yutang.loyalty.models import PointsEntry
from yutang.storage.outbox import OutboxRow


def test_concurrent_awards_commit_together_and_stay_exact(database, tenant):
    actor = tenant.actor
    customers = [new_customer(database, actor) for _ in range(3)]
    awarder = Awarder(database.factory)
    awarder.start()
    workers, steps = 12, 15
    start = threading.Barrier(workers)
    created_points = {customer: 0 for customer in customers}
    lock = threading.Lock()

    def work(worker: int) -> None:
        start.wait()
        for step in range(steps):
            customer = customers[(worker + step) % 3]
            for key, amount in ((f"own-{worker}-{step}", 3), (f"shared-{step}", 7)):
                # The shared keys are sent by every worker (to different customers): each applies exactly once.
                entry, created = awarder.award(actor, customer_id=customer, points=amount, key=key)
                assert entry.idempotency_key == key
                if created:
                    with lock:
                        created_points[entry.customer_id] += amount

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(workers)))
    awarder.stop()
    total = workers * steps * 3 + steps * 7
    assert sum(created_points.values()) == total
    with database.unit_of_work() as session:
        for customer in customers:
            state = ledger_state(session, customer)
            assert_consistent(state)
            assert state["balance"] == created_points[customer]
        keys = session.scalar(select(func.count()).select_from(PointsEntry)
                              .where(PointsEntry.workspace_id == tenant.id))
        outbox_rows = session.scalar(select(func.count()).select_from(OutboxRow)
                                     .where(OutboxRow.topic == "points.changed", OutboxRow.workspace_id == tenant.id))
    assert keys == outbox_rows == workers * steps + steps
    # Fewer commits than awards: concurrent awards really shared transactions.
    assert awarder.batches < workers * steps + steps


def test_a_bad_award_fails_alone_in_its_batch(database, tenant, other_tenant):
    actor = tenant.actor
    alice, bob = new_customer(database, actor), new_customer(database, actor)
    stranger = new_customer(database, other_tenant.actor)
    with database.unit_of_work() as session:
        before, _ = points.earn(session, actor=actor, customer_id=alice, points=10, key="before")
    requests = [
        batch.AwardRequest(actor=actor, customer_id=alice, points=5, key="a1"),
        batch.AwardRequest(actor=actor, customer_id=10**12, points=5, key="unknown"),
        batch.AwardRequest(actor=actor, customer_id=stranger, points=5, key="stranger"),
        batch.AwardRequest(actor=actor, customer_id=bob, points=0, key="zero"),
        batch.AwardRequest(actor=actor, customer_id=alice, points=99, key="before"),  # applied earlier
        batch.AwardRequest(actor=actor, customer_id=bob, points=4, key="b1"),  # bob's first: opens his account
        batch.AwardRequest(actor=actor, customer_id=bob, points=50, key="a1"),  # repeats a key of this batch
        batch.AwardRequest(actor=actor, customer_id=alice, points=2, key="a2"),
    ]
    with database.unit_of_work() as session:
        results = batch.earn_many(session, requests).results
    assert isinstance(results[1], NotFound) and isinstance(results[2], NotFound)
    assert isinstance(results[3], Invalid)
    a1, a2, b1 = results[0][0], results[7][0], results[5][0]
    assert results[0][1] and results[7][1] and results[5][1]
    assert (a1.balance_after, a2.balance_after, b1.balance_after) == (15, 17, 4)
    assert results[4][0].id == before.id and results[4][1] is False
    assert results[6][0].id == a1.id and results[6][1] is False
    with database.unit_of_work() as session:
        for customer, balance in ((alice, 17), (bob, 4)):
            state = ledger_state(session, customer)
            assert_consistent(state)
            assert state["balance"] == balance
        assert ledger_state(session, stranger)["keys"] == 0
        payloads = list(session.scalars(select(OutboxRow.payload).where(OutboxRow.workspace_id == tenant.id,
                                                                        OutboxRow.topic == "points.changed")
                                        .order_by(OutboxRow.id)))
    assert [(p["customer_id"], p["points"], p["balance_after"]) for p in payloads] == [
        (alice, 10, 10), (alice, 5, 15), (bob, 4, 4), (alice, 2, 17)]


def test_the_api_earn_goes_through_the_awarder(api, database, tenant):
    customer = new_customer(database, tenant.actor)
    body = {"customer_id": customer, "points": 30, "idempotency_key": "api-1"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: api.post("/v1/loyalty/points/earn", json=body | (
            {} if n % 2 else {"idempotency_key": f"api-{n}"})), range(8)))
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    assert len({answer.json()["id"] for answer in answers}) == 5  # api-1 once, api-0/2/4/6 once each
    bad = api.post("/v1/loyalty/points/earn", json=body | {"customer_id": 10**12, "idempotency_key": "x"})
    assert bad.status_code == 404
    with database.unit_of_work() as session:
        state = ledger_state(session, customer)
    assert_consistent(state)
    assert state["balance"] == 150


@pytest.mark.parametrize("repeat", [1, 2])
def test_the_same_batch_twice_changes_nothing(database, tenant, repeat):
    customer = new_customer(database, tenant.actor)
    requests = [batch.AwardRequest(actor=tenant.actor, customer_id=customer, points=n + 1, key=f"k{n}")
                for n in range(5)]
    for _ in range(repeat):
        with database.unit_of_work() as session:
            results = batch.earn_many(session, requests).results
    assert [created for _, created in results] == [repeat == 1] * 5
    with database.unit_of_work() as session:
        assert ledger_state(session, customer)["balance"] == 15
