"""Engines and units of work; SQLite gets the pragmas that make it a safe embedded OLTP store."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.settings import Settings


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
        # A read-only unit (see read_only) takes no write lock, so lookups never queue behind writers.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


READ_ONLY = "yutang_read_only"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Session factory bound to the engine; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


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
def read_only(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that only reads (always rolled back); on SQLite it does not wait for the write lock."""
    session = factory(bind=factory.kw["bind"].execution_options(**{READ_ONLY: True}))
    try:
        yield session
    finally:
        session.rollback()
        session.close()
