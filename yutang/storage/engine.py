"""Engines and units of work; SQLite gets the pragmas that make it a safe embedded OLTP store.

Two kinds of unit: `unit_of_work` (a write transaction, `BEGIN IMMEDIATE` on SQLite) and `read_only` (a
`ReadSession`: a plain deferred `BEGIN` on SQLite with `PRAGMA query_only`, a `READ ONLY` transaction on
PostgreSQL), so reads never queue behind writers and a write attempted in a read fails loudly on both stores.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.settings import Settings

READ_ONLY = "yutang_read_only"


class ReadSession(Session):
    """A session of a read-only unit of work: reads only, never commits (the store refuses writes in it)."""


def make_engine(settings: Settings) -> Engine:
    """Create the OLTP engine for the configured URL (SQLite file by default)."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=settings.sql_echo, connect_args={"timeout": 30})
        _make_sqlite_transactional(engine)
        return engine
    return create_engine(url, echo=settings.sql_echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _make_sqlite_transactional(engine: Engine) -> None:
    # pysqlite's own implicit BEGIN is deferred and skips DDL; take over so every unit of work is one
    # IMMEDIATE transaction (writers serialise up front instead of failing on lock upgrade) and
    # foreign keys are enforced as on PostgreSQL.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A read-only unit takes no write lock, so reads never queue behind writers; query_only makes a write in
        # it fail at once (as PostgreSQL's READ ONLY does) instead of silently upgrading to a write lock.
        read_only = bool(connection.get_execution_options().get(READ_ONLY, False))
        if connection.info.get(READ_ONLY, False) != read_only:
            connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
            connection.info[READ_ONLY] = read_only
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def read_engine(engine: Engine) -> Engine:
    """The same engine and pool, for read-only units: deferred BEGIN on SQLite, READ ONLY on PostgreSQL."""
    if engine.dialect.name == "postgresql":
        # A connection characteristic: set before the transaction starts, reset when the connection is returned.
        return engine.execution_options(**{READ_ONLY: True}, postgresql_readonly=True)
    return engine.execution_options(**{READ_ONLY: True})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Session factory bound to the engine; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_read_factory(factory: sessionmaker[Session]) -> sessionmaker[ReadSession]:
    """The factory of ReadSessions beside a write factory (same engine and pool, same session info)."""
    found = _read_factories.get(factory)
    if found is None:
        found = sessionmaker(bind=read_engine(factory.kw["bind"]), class_=ReadSession, expire_on_commit=False,
                             info=dict(factory.kw.get("info") or {}))
        _read_factories[factory] = found
    return found


_read_factories: "WeakKeyDictionary[sessionmaker[Session], sessionmaker[ReadSession]]" = WeakKeyDictionary()


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction per entry point: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_only(factory: sessionmaker[Session] | sessionmaker[ReadSession]) -> Iterator[ReadSession]:
    """A transaction that only reads (ended by a rollback); it does not wait for the write lock."""
    if factory.class_ is not ReadSession:
        factory = make_read_factory(factory)
    session = factory()
    try:
        yield session
    finally:
        # close() rolls the transaction back without expiring what was loaded, as a commit would not either:
        # the answer is shaped from these objects after the unit ends.
        session.close()
