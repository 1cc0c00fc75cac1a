"""What differs between the OLTP stores (PostgreSQL and SQLite), in one place, so services stay dialect-free.

As Prefect's query_components: one object per dialect with the same methods; a service asks `of(session)` for
the store it runs on and builds its statements through it, never by testing the dialect's name itself. The
warehouse has its own (warehouse/backends.py, segments/dialect.py).
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Select, Table, bindparam, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Dialect:
    """The statements that differ per OLTP store."""

    name: str
    # PostgreSQL can write several tables in one statement (data-modifying CTEs: WITH … INSERT … RETURNING
    # feeding the next INSERT); SQLite cannot, but runs in-process, so a few statements cost little there.
    writes_through_ctes: bool

    def insert_ignoring(self, table: Table, *, keys: list[str]):
        """INSERT … ON CONFLICT (keys) DO NOTHING; add .values() or pass rows, and .returning() as needed."""
        module = postgresql if self.name == "postgresql" else sqlite
        return module.insert(table).on_conflict_do_nothing(index_elements=keys)

    def any_of(self, column: ColumnElement, name: str) -> ColumnElement:
        """`column` is one of the list bound as `name`: = ANY(array) on PostgreSQL (one cached statement for any
        length), an expanding IN elsewhere."""
        if self.name == "postgresql":
            return column == func.any(bindparam(name))
        return column.in_(bindparam(name, expanding=True))

    def claim(self, query: Select) -> Select:
        """Rows for this worker only: FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent workers take different
        rows; SQLite's units of work are BEGIN IMMEDIATE (one writer at a time) and render no lock clause."""
        return query.with_for_update(skip_locked=True)

    def lock(self, query: Select) -> Select:
        """Rows locked until commit: FOR UPDATE on PostgreSQL; SQLite is serialised by BEGIN IMMEDIATE."""
        return query.with_for_update()


POSTGRESQL = Dialect(name="postgresql", writes_through_ctes=True)
SQLITE = Dialect(name="sqlite", writes_through_ctes=False)


def of(bind: Session | Connection) -> Dialect:
    """The dialect of the store a session or connection is bound to."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return POSTGRESQL if engine.dialect.name == "postgresql" else SQLITE
