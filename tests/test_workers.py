"""The runtime owns every background thread: one start, one graceful stop that leaves no thread and drops no work."""

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from tests.helpers.customers import new_customer
from tests.helpers.tenants import make_tenant
from yutang.app import create_app
from yutang.loyalty.awards import Awarder, AwarderStopped
from yutang.loyalty.models import PointsEntry
from yutang.runtime.database import open_database
from yutang.runtime.pipeline import open_pipeline
from yutang.tags.models import CustomerTag

WORKERS = {"yutang-relay", "yutang-loader", "yutang-attributor", "yutang-segment-tags", "yutang-subscribers",
           "yutang-loyalty-events", "yutang-scheduler", "yutang-points-awarder", "yutang-sender",
           "yutang-broadcaster"}


@pytest.fixture
def own_database(settings, tmp_path):
    """A database beside the session's, with a journal (and on DuckDB a warehouse) of its own, so stopping this
    runtime's threads leaves the session's running."""
    database = open_database(settings.model_copy(update={"data_dir": tmp_path}))
    database.migrate()
    yield database
    database.dispose()


def _alive_since(before: set[threading.Thread]) -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.is_alive() and t not in before)


def test_the_app_s_stop_leaves_no_background_thread(own_database):
    # Given a running server that has taken a points award (the awarder's thread is running too),
    pipeline = open_pipeline(own_database)
    tenant = make_tenant(own_database)
    customer = new_customer(own_database, tenant.actor)
    before = set(threading.enumerate())
    try:
        with TestClient(create_app(own_database.settings, database=own_database, pipeline=pipeline)) as client:
            assert set(_alive_since(before)) >= WORKERS - {"yutang-points-awarder"}
            earned = client.post("/v1/loyalty/points/earn", headers={"Authorization": f"Bearer {tenant.key}"},
                                 json={"customer_id": customer, "points": 5, "idempotency_key": "before-stop"})
            assert earned.status_code == 200, earned.text
            assert set(_alive_since(before)) >= WORKERS
        # when it stops, then no thread of it is left.
        deadline = time.monotonic() + 5
        while _alive_since(before) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _alive_since(before) == []
    finally:
        pipeline.stop()


def test_awards_queued_before_stop_are_committed_and_later_ones_refused(own_database):
    # Given an awarder under load,
    tenant = make_tenant(own_database)
    customer = new_customer(own_database, tenant.actor)
    awarder = Awarder(own_database.factory)
    awarder.start()
    outcomes: list[tuple[str, int]] = []
    lock = threading.Lock()

    def award(n: int) -> None:
        try:
            entry, _ = awarder.award(tenant.actor, customer_id=customer, points=1, key=f"k{n}")
            outcome = ("committed", entry.id)
        except AwarderStopped:
            outcome = ("refused", n)
        with lock:
            outcomes.append(outcome)

    callers = [threading.Thread(target=award, args=(n,)) for n in range(60)]
    for caller in callers:
        caller.start()
    while not outcomes:
        time.sleep(0.001)
    # when it stops while awards are in flight,
    awarder.stop()
    for caller in callers:
        caller.join(10)
    # then every caller has its answer: committed (and in the ledger) or refused, none dropped or left waiting.
    assert not any(caller.is_alive() for caller in callers)
    assert len(outcomes) == 60 and awarder.thread is None
    committed = {ref for kind, ref in outcomes if kind == "committed"}
    with own_database.read_only() as session:
        stored = set(session.scalars(select(PointsEntry.id).where(PointsEntry.workspace_id == tenant.id)))
    assert stored == committed and committed
    with pytest.raises(AwarderStopped):
        awarder.award(tenant.actor, customer_id=customer, points=1, key="after-stop")
    with own_database.read_only() as session:
        assert session.scalar(select(func.count()).select_from(PointsEntry)
                              .where(PointsEntry.workspace_id == tenant.id)) == len(committed)


def test_auto_tags_are_written_by_their_own_worker_not_the_relay(api, database, client):
    # Given a dynamic segment with an auto-tag, and a record of which threads write customer tags,
    group = api.post("/v1/tag-groups", json={"name": "城市", "tags": ["沪上客"]}).json()
    tag_id = group["tags"][0]["id"]
    customer = api.post("/v1/customers", json={"name": "Lu", "city": "杭州", "identities": [
        {"kind": "app_user_id", "value": "lu-" + str(time.monotonic_ns())}]}).json()["customer"]["id"]
    segment = api.post("/v1/segments", json={"name": "上海客", "tag_id": tag_id, "rule": {
        "type": "attribute", "field": "city", "op": "eq", "value": "上海"}})
    assert segment.status_code == 201, segment.text
    writers: list[str] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        # Tags are written set-based (Core INSERTs), so watch the statements rather than the session.
        if statement.lstrip().upper().startswith("INSERT INTO CUSTOMER_TAGS") and str(tag_id) in repr(parameters):
            writers.append(threading.current_thread().name)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        # when the customer's change reaches the warehouse through the relay thread (no catch-up asked for),
        assert api.patch(f"/v1/customers/{customer}", json={"city": "上海"}).status_code == 200
        deadline = time.monotonic() + 20
        while not writers and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    # then the tag was written, by the auto-tag worker: the relay thread wrote only the warehouse.
    assert writers == ["yutang-segment-tags"]

    def tagged() -> int:
        with database.read_only() as session:
            return session.scalar(select(func.count()).select_from(CustomerTag).where(
                CustomerTag.customer_id == customer, CustomerTag.tag_id == tag_id))

    deadline = time.monotonic() + 10
    while not tagged() and time.monotonic() < deadline:  # seen at flush; the commit follows
        time.sleep(0.05)
    assert tagged() == 1
