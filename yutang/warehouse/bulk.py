"""Bulk-load event history into the warehouse: Arrow batches appended in large transactions.

For operators backfilling history (and for the benchmarks): rows go straight into the warehouse's `events`
table through the backend's `append_arrow` (DuckDB reads the Arrow data directly; PostgreSQL gets COPY in CSV).
Nothing goes through ingest: no journal, no customer resolution, no replay check. A backfill carries history
that was never ingested, with `customer_id` already known (or null); loading the same rows twice stores them
twice. The columns are those of the `events` table (`schema.EVENTS_ARROW`); nullable columns may be left out.
On DuckDB this writes the database file, so it runs while the server (the file's one writer) is stopped.
"""

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, closing

import pyarrow as pa

from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse
from yutang.warehouse.schema import EVENTS_ARROW

DEFAULT_TRANSACTION_ROWS = 5_000_000


class BulkLoadError(ValueError):
    """The rows cannot be loaded as events (missing or unknown columns, nulls where a value is required)."""


def conform(table: pa.Table, *, workspace_id: int | None = None) -> pa.Table:
    """The batch as the events table's Arrow columns: cast, missing nullable columns as nulls, checked."""
    unknown = [name for name in table.column_names if EVENTS_ARROW.get_field_index(name) < 0]
    if unknown:
        raise BulkLoadError(f"unknown event column(s): {', '.join(unknown)}; "
                            f"the events table has {', '.join(EVENTS_ARROW.names)}")
    rows = table.num_rows
    columns = []
    for field in EVENTS_ARROW:
        if field.name == "workspace_id" and workspace_id is not None:
            columns.append(pa.repeat(pa.scalar(workspace_id, pa.int64()), rows))
            continue
        if field.name not in table.column_names:
            if not field.nullable:
                raise BulkLoadError(f"the required column {field.name} is missing")
            columns.append(pa.nulls(rows, field.type))
            continue
        column = table[field.name]
        try:
            column = column.cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise BulkLoadError(f"column {field.name} cannot be read as {field.type}: {exc}") from exc
        if not field.nullable and column.null_count:
            raise BulkLoadError(f"column {field.name} has {column.null_count} null value(s); it is required")
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=EVENTS_ARROW)


def _prefetched(batches: Iterable[pa.Table], depth: int = 2) -> Iterator[pa.Table]:
    """The batches, produced one or two ahead in a thread: reading Parquet overlaps the engine's inserting."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def offer(item) -> bool:
        while not stop.is_set():  # the consumer may have gone (an error): never block on a full queue then
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not offer(batch):
                    return
            offer(done)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(exc)

    producer = threading.Thread(target=produce, name="yutang-bulk-read", daemon=True)
    producer.start()
    try:
        while (item := slots.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join(timeout=5)


def load_events(warehouse: DuckDBWarehouse | PostgresWarehouse, batches: Iterable[pa.Table], *,
                workspace_id: int | None = None, transaction_rows: int = DEFAULT_TRANSACTION_ROWS) -> dict:
    """Append event rows, committing about every transaction_rows rows; returns rows, transactions and timing.

    workspace_id, when given, is set on every row (files exported from elsewhere rarely carry ours). A batch that
    fails (bad column, invalid JSON in properties / context) rolls back its transaction; rows committed by earlier
    transactions stay, and the error says how many that is.
    """
    started = time.perf_counter()
    committed = transactions = in_transaction = 0
    with ExitStack() as stack, closing(_prefetched(batches)) as reader:
        tx = None
        try:
            for batch in reader:
                if not batch.num_rows:
                    continue
                rows = conform(batch, workspace_id=workspace_id)
                if tx is None:
                    tx = stack.enter_context(warehouse.transaction())
                warehouse.append_arrow(tx, "events", rows)
                in_transaction += rows.num_rows
                if in_transaction >= transaction_rows:
                    stack.close()  # commits
                    committed, transactions, in_transaction, tx = committed + in_transaction, transactions + 1, 0, None
            stack.close()
        except BulkLoadError as exc:
            raise BulkLoadError(f"{exc} (loaded before the error: {committed} row(s), committed)") from exc
        except Exception as exc:  # the backend refused a row, say invalid JSON: that transaction rolled back
            raise BulkLoadError(f"loading failed after {committed} committed row(s): {exc}") from exc
        if tx is not None:
            committed, transactions = committed + in_transaction, transactions + 1
    seconds = time.perf_counter() - started
    return {"rows": committed, "transactions": transactions, "seconds": round(seconds, 3),
            "rows_per_second": round(committed / seconds) if seconds > 0 else None, "backend": warehouse.dialect}
