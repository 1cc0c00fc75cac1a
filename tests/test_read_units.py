"""Read-only units of work: reads do not queue behind writers, and a write attempted in one fails loudly."""

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from yutang.storage.engine import ReadSession


@contextmanager
def writer_holding_the_store(database, tenant):
    """Another connection in a write transaction (on SQLite: holding the write lock) until the block ends; the
    block is handed a check that the writer still holds it (longer than SQLite's busy timeout would wait)."""
    holding, release = threading.Event(), threading.Event()

    def writer():
        with database.unit_of_work() as session:
            session.execute(text("UPDATE workspaces SET name = name WHERE id = :w"), {"w": tenant.id})
            holding.set()
            release.wait(60)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        yield lambda: not release.is_set() and thread.is_alive()
    finally:
        release.set()
        thread.join()


def test_read_only_units_do_not_queue_behind_a_writer(database, tenant):
    with writer_holding_the_store(database, tenant) as still_holding:
        with database.read_only() as session:
            assert session.execute(text("SELECT name FROM workspaces WHERE id = :w"), {"w": tenant.id}).scalar()
        assert still_holding()  # a write unit would have waited for the writer (or failed after busy_timeout)


def test_a_write_in_a_read_only_unit_fails(database, tenant):
    with database.read_only() as session:
        assert isinstance(session, ReadSession)
        with pytest.raises(DBAPIError):
            session.execute(text("UPDATE workspaces SET name = 'changed' WHERE id = :w"), {"w": tenant.id})
    with database.read_only() as session:
        assert session.execute(text("SELECT name FROM workspaces WHERE id = :w"), {"w": tenant.id}).scalar() != \
            "changed"


def test_write_units_after_read_units_write_again(database, tenant):
    # The pool hands the same connections to both kinds: a read unit must not leave its connection read-only.
    for name in ("first", "second"):
        with database.read_only() as session:
            session.execute(text("SELECT 1")).scalar()
        with database.unit_of_work() as session:
            session.execute(text("UPDATE workspaces SET name = :n WHERE id = :w"), {"n": name, "w": tenant.id})
        with database.read_only() as session:
            assert session.execute(text("SELECT name FROM workspaces WHERE id = :w"),
                                   {"w": tenant.id}).scalar() == name


def test_a_get_answers_while_another_connection_holds_the_write_lock(database, tenant, api):
    assert api.get("/v1/workspace").status_code == 200  # warm: the app and its pool are up
    with writer_holding_the_store(database, tenant) as still_holding:
        for path in ("/v1/workspace", "/v1/customers", "/v1/segments", "/v1/loyalty/settings"):
            assert api.get(path).status_code == 200, path
        assert still_holding()  # answered while the writer held the store, not after it let go
