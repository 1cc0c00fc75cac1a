"""The few places segment SQL differs between DuckDB and PostgreSQL (everything else is portable)."""

# JSON types DuckDB reports for numbers (json_type); PostgreSQL's jsonb_typeof says 'number'.
DUCKDB_NUMBERS = "('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')"


def json_number(dialect: str, column: str, key: str) -> str:
    """A JSON property as a double when it is a JSON number, else NULL (text like "12" does not count)."""
    if dialect == "postgres":
        return f"CASE WHEN jsonb_typeof({column} -> {key}) = 'number' THEN ({column} ->> {key})::double precision END"
    return f"CASE WHEN json_type({column} -> {key}) IN {DUCKDB_NUMBERS} THEN CAST({column} ->> {key} AS DOUBLE) END"


def json_text(dialect: str, column: str, key: str) -> str:
    """A JSON property as text (NULL when absent), for distinct counts."""
    return f"({column} ->> {key})"


SEGMENT_LOCK_KEY = 72_617_302  # the relay's is 72_617_301


def segment_lock(dialect: str) -> str | None:
    """A statement taking a transaction-scoped lock on segment %(s)s across processes (DuckDB has one writer)."""
    if dialect == "postgres":
        return f"SELECT pg_advisory_xact_lock({SEGMENT_LOCK_KEY}, CAST(MOD(%(s)s, 2147483647) AS INTEGER))"
    return None
