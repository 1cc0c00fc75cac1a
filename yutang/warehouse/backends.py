"""The two warehouse engines behind one small interface; every dialect difference lives in this module."""

import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from yutang.warehouse.schema import statements

PARAM = re.compile(r"%\((\w+)\)s")
COPY_CHUNK_ROWS = 100_000  # rows of CSV built at a time for PostgreSQL COPY


class Tx:
    """One warehouse transaction: execute statements with %(name)s parameters, fetch rows."""

    def __init__(self, cursor, *, dialect: str):
        self._cursor = cursor
        self._dialect = dialect

    def _sql(self, sql: str) -> str:
        if self._dialect != "duckdb":
            return sql
        return PARAM.sub(r"$\1", sql).replace("%%", "%")

    def _params(self, sql: str, params: dict | None) -> dict:
        # DuckDB refuses parameters a statement does not name; PostgreSQL ignores them.
        if not params or self._dialect != "duckdb":
            return params or {}
        return {name: params[name] for name in PARAM.findall(sql)}

    def execute(self, sql: str, params: dict | None = None) -> "Tx":
        """Run one statement."""
        self._cursor.execute(self._sql(sql), self._params(sql, params))
        return self

    def executemany(self, sql: str, rows: Sequence[dict]) -> None:
        """Run one statement for many parameter sets."""
        if rows:
            self._cursor.executemany(self._sql(sql), [self._params(sql, row) for row in rows])

    def fetchall(self) -> list[tuple]:
        """Rows of the last statement."""
        return self._cursor.fetchall()

    def insert_rows(self, table: str, rows: list[dict], *, conflict: str = "") -> None:
        """Insert many rows (dicts with the same keys) in one statement; conflict is an ON CONFLICT clause."""
        if not rows:
            return
        columns = list(rows[0])
        names = ", ".join(columns)
        if self._dialect == "duckdb":
            # Row-at-a-time statements cost DuckDB about a millisecond each; one INSERT … SELECT over Arrow does not.
            self._cursor.register("_rows", pa.Table.from_pylist(rows))
            try:
                self._cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _rows {conflict}")
            finally:
                self._cursor.unregister("_rows")
            return
        values = ", ".join(f"%({name})s" for name in columns)
        self._cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({values}) {conflict}", rows)

    def upsert_rows(self, table: str, rows: list[dict], *, key: str) -> None:
        """Insert many rows, replacing the other columns of rows whose key exists (keys unique among rows)."""
        if rows:
            updates = ", ".join(f"{name} = excluded.{name}" for name in rows[0] if name != key)
            self.insert_rows(table, rows, conflict=f"ON CONFLICT ({key}) DO UPDATE SET {updates}")


class WarehouseLocked(RuntimeError):
    """Another process holds the DuckDB warehouse file (embedded mode allows one: the server)."""


class DuckDBWarehouse:
    """Embedded warehouse in one DuckDB file; one process writes (the server), cursors read in parallel."""

    dialect = "duckdb"
    json_type = "JSON"

    def __init__(self, path: str):
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self._connection = duckdb.connect(path)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            raise WarehouseLocked(f"the warehouse file {path} is in use by another process: {exc}") from exc
        self._write_lock = threading.Lock()
        with self.transaction() as tx:
            for ddl in statements(self.json_type, with_indexes=False):
                tx.execute(ddl)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction; writers take turns (DuckDB allows one writer at a time without conflicts)."""
        with self._write_lock:
            cursor = self._connection.cursor()
            try:
                cursor.begin()
                yield Tx(cursor, dialect=self.dialect)
                cursor.commit()
            except BaseException:
                cursor.rollback()
                raise
            finally:
                cursor.close()

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        """A read on its own cursor (sees committed data)."""
        cursor = self._connection.cursor()
        try:
            return Tx(cursor, dialect=self.dialect).execute(sql, params).fetchall()
        finally:
            cursor.close()

    def append_arrow(self, tx: Tx, table: str, data: pa.Table) -> None:
        """Bulk-insert an Arrow table (columns named as the target's) inside a transaction."""
        tx._cursor.register("_incoming", data)
        try:
            columns = ", ".join(data.column_names)
            tx._cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
        finally:
            try:
                tx._cursor.unregister("_incoming")
            except duckdb.TransactionException:
                pass  # the insert failed and aborted the transaction; its error is the one to raise, and the
                # registration goes with the cursor, which the transaction closes

    def existing_message_ids(self, tx: Tx, pairs: pa.Table, *, since) -> set[tuple[int, str]]:
        """Which (workspace_id, message_id) pairs are already stored, among events received since a time."""
        tx._cursor.register("_probe", pairs)
        try:
            rows = tx._cursor.execute(
                "SELECT e.workspace_id, e.message_id FROM events e JOIN _probe p "
                "ON e.workspace_id = p.workspace_id AND e.message_id = p.message_id WHERE e.received_at >= $since",
                {"since": since}).fetchall()
        finally:
            tx._cursor.unregister("_probe")
        return set(rows)

    def close(self) -> None:
        """Close the database file."""
        self._connection.close()


class PostgresWarehouse:
    """Warehouse tables in their own schema of a PostgreSQL database (the tested second backend)."""

    dialect = "postgres"
    json_type = "JSONB"

    def __init__(self, url: str, *, schema: str = "warehouse"):
        parsed = make_url(url)
        schema = parsed.query.get("schema", schema)
        parsed = parsed.difference_update_query(["schema"]).set(drivername="postgresql+psycopg")
        self.schema = schema
        self._engine = create_engine(parsed, pool_size=5, max_overflow=10, pool_pre_ping=True,
                                     connect_args={"options": f"-c search_path={schema}"})
        with self.transaction() as tx:
            tx.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            for ddl in statements(self.json_type, with_indexes=True):
                tx.execute(ddl)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction on a pooled connection."""
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            yield Tx(cursor, dialect=self.dialect)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        """A read in its own short transaction."""
        with self.transaction() as tx:
            return tx.execute(sql, params).fetchall()

    def append_arrow(self, tx: Tx, table: str, data: pa.Table) -> None:
        """Bulk-insert an Arrow table with COPY: CSV written by Arrow in slices, or rows for nested columns."""
        columns = ", ".join(f'"{name}"' for name in data.column_names)
        if any(pa.types.is_nested(field.type) for field in data.schema):  # CSV cannot carry nested values
            with tx._cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in zip(*(column.to_pylist() for column in data.columns), strict=True):
                    copy.write_row([_copy_value(value) for value in row])
            return
        # Arrow quotes every string and leaves nulls empty and unquoted: CSV COPY reads "" as '' and nothing as
        # NULL, and a \. inside a quoted value is data, so any text (JSON included) arrives as it was.
        options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
        with tx._cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
            for batch in data.to_batches(max_chunksize=COPY_CHUNK_ROWS):
                sink = pa.BufferOutputStream()
                pa_csv.write_csv(batch, sink, options)
                copy.write(memoryview(sink.getvalue()))

    def existing_message_ids(self, tx: Tx, pairs: pa.Table, *, since) -> set[tuple[int, str]]:
        """Which (workspace_id, message_id) pairs are already stored, among events received since a time."""
        found: set[tuple[int, str]] = set()
        by_workspace: dict[int, list[str]] = {}
        for workspace_id, message_id in zip(pairs["workspace_id"].to_pylist(), pairs["message_id"].to_pylist(),
                                            strict=True):
            by_workspace.setdefault(workspace_id, []).append(message_id)
        for workspace_id, ids in by_workspace.items():
            rows = tx.execute("SELECT message_id FROM events WHERE workspace_id = %(w)s AND message_id = ANY(%(ids)s) "
                              "AND received_at >= %(since)s",
                              {"w": workspace_id, "ids": ids, "since": since}).fetchall()
            found.update((workspace_id, message_id) for (message_id,) in rows)
        return found

    def close(self) -> None:
        """Close pooled connections."""
        self._engine.dispose()


def _copy_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def lock_in_transaction(tx: Tx, key: int, value: int) -> None:
    """Hold a lock on (key, value) until the transaction ends: a PostgreSQL advisory lock, so that processes
    take turns; DuckDB has one writing process whose transactions already take turns."""
    if tx._dialect == "postgres":
        tx.execute("SELECT pg_advisory_xact_lock(CAST(%(k)s AS INTEGER), CAST(%(v)s AS INTEGER))",
                   {"k": key, "v": value % 2**31})


def open_warehouse(url: str) -> DuckDBWarehouse | PostgresWarehouse:
    """Open the warehouse named by a URL: duckdb:///path.duckdb (default) or postgresql://…"""
    if url.startswith("duckdb://"):
        # As with SQLite URLs: duckdb:///relative.duckdb, duckdb:////absolute/path.duckdb, duckdb:// for memory.
        path = url.removeprefix("duckdb://").removeprefix("/")
        return DuckDBWarehouse(path or ":memory:")
    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        return PostgresWarehouse(url.replace("postgres://", "postgresql://", 1))
    raise ValueError(f"unsupported warehouse URL {url!r} (duckdb:///… or postgresql://…)")
