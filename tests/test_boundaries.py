"""Domain boundaries: consent in force is decided by customers alone; OLTP dialect differences live in storage."""

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from yutang.customers import service as customers_service
from yutang.customers.schemas import ConsentIn, CustomerIn, IdentityIn, IdentityKind
from yutang.storage import dialect

SOURCE = Path(__file__).resolve().parent.parent / "yutang"


def _customer(session, actor, name: str) -> int:
    return customers_service.create(session, actor=actor, data=CustomerIn(
        name=name, identities=[IdentityIn(kind=IdentityKind.APP_USER_ID, value=f"boundary-{name}")])).id


def _consent(session, actor, customer_id: int, status: str, day: int) -> None:
    customers_service.record_consent(session, actor=actor, customer_id=customer_id, data=ConsentIn(
        channel="email", status=status, method="form", occurred_at=datetime(2026, 1, day, tzinfo=UTC)))


def test_consent_in_force_is_the_latest_occurrence_not_the_latest_recorded(database, tenant):
    # Given two customers whose decisions were recorded out of the order they happened
    with database.unit_of_work() as session:
        granted_last = _customer(session, tenant.actor, "A")
        _consent(session, tenant.actor, granted_last, "granted", 2)
        _consent(session, tenant.actor, granted_last, "withdrawn", 1)
        withdrawn_last = _customer(session, tenant.actor, "B")
        _consent(session, tenant.actor, withdrawn_last, "withdrawn", 2)
        _consent(session, tenant.actor, withdrawn_last, "granted", 1)
        silent = _customer(session, tenant.actor, "C")
    # When the customers domain is asked, one by one and in bulk
    with database.unit_of_work() as session:
        ids = [granted_last, withdrawn_last, silent]
        bulk = customers_service.in_force(session, customer_ids=ids)
        one = {cid: customers_service.current_consents(session, customer_id=cid) for cid in ids}
        withdrawn = customers_service.withdrawn(session, customer_ids=ids, channel="email")
    # Then both answers agree, and the latest occurrence wins
    assert bulk == one == {granted_last: {"email": "granted"}, withdrawn_last: {"email": "withdrawn"}, silent: {}}
    assert withdrawn == {withdrawn_last}


def test_no_module_outside_storage_asks_which_oltp_dialect_it_runs_on():
    # The warehouse has its own dialect modules; migrations are generated per store.
    allowed = ("storage/", "warehouse/", "runtime/migrations/", "segments/dialect.py")
    asking = re.compile(r"dialect\.name|get_backend_name\(|from sqlalchemy\.dialects import")
    offenders = [str(path.relative_to(SOURCE)) for path in SOURCE.rglob("*.py")
                 if not str(path.relative_to(SOURCE)).startswith(allowed) and asking.search(path.read_text())]
    assert offenders == []


def test_the_dialect_objects_render_each_store_own_statement():
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("k", Integer))
    on_pg = str(dialect.POSTGRESQL.insert_ignoring(table, keys=["k"]).compile(dialect=postgresql.dialect()))
    on_sqlite = str(dialect.SQLITE.insert_ignoring(table, keys=["k"]).compile(dialect=sqlite.dialect()))
    assert "ON CONFLICT (k) DO NOTHING" in on_pg and "ON CONFLICT (k) DO NOTHING" in on_sqlite
    assert "= any(" in str(select(table).where(dialect.POSTGRESQL.any_of(table.c.k, "ks")).compile(
        dialect=postgresql.dialect()))
    assert "t.k IN (" in str(select(table).where(dialect.SQLITE.any_of(table.c.k, "ks")).params(ks=[1, 2]).compile(
        dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}))
    claimed = dialect.POSTGRESQL.claim(select(table))
    assert "SKIP LOCKED" in str(claimed.compile(dialect=postgresql.dialect()))
    assert "FOR UPDATE" not in str(claimed.compile(dialect=sqlite.dialect()))


def test_of_names_the_store_the_session_is_bound_to(database):
    with database.unit_of_work() as session:
        store = dialect.of(session)
        assert store is dialect.of(session.connection())
        assert store.name == database.engine.dialect.name
