"""The outbox relay: applies committed OLTP changes to the warehouse in order, in batches, idempotently."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.background import Background, Worker
from yutang.storage import outbox
from yutang.storage.engine import unit_of_work
from yutang.warehouse import replica
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse

RELAY_LOCK_KEY = 72_617_301  # PostgreSQL advisory lock: one relay at a time across processes


class Relay(Background):
    """Moves outbox rows into the warehouse; runs in the background and can be caught up on demand."""

    def __init__(self, factory: sessionmaker[Session], warehouse: DuckDBWarehouse | PostgresWarehouse, *,
                 batch_size: int = 2000, idle_seconds: float = 1.0):
        self.factory = factory
        self.warehouse = warehouse
        self.batch_size = batch_size
        # Called after each applied batch with the customers it touched, by workspace (segments listen).
        self.listeners: list[Callable[[dict[int, set[int]]], None]] = []
        self._lock = threading.Lock()
        self.worker = Worker(self.catch_up, name="yutang-relay", idle_seconds=idle_seconds)

    def relay_once(self) -> int:
        """Apply one batch of pending rows; returns how many were applied."""
        with self._lock, self._exclusive():
            # Three short steps so no OLTP lock is held while the warehouse works: read, apply, mark.
            with unit_of_work(self.factory) as session:
                changes = [replica.Change(id=r.id, workspace_id=r.workspace_id, topic=r.topic,
                                          entity_id=r.entity_id, payload=r.payload, created_at=r.created_at)
                           for r in outbox.pending(session, limit=self.batch_size)]
            if not changes:
                return 0
            # Warehouse first, then mark: a crash in between re-applies the batch, which apply() makes harmless.
            with self.warehouse.transaction() as tx:
                replica.apply(tx, changes)
            with unit_of_work(self.factory) as session:
                outbox.mark_relayed(session, ids=[change.id for change in changes])
            # Still under the lock, so a catch_up() returns only after the listeners saw everything it relayed.
            touched = replica.touched(changes)
            for listener in self.listeners:
                listener(touched)
        return len(changes)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        # On PostgreSQL several processes may run a relay; a session advisory lock keeps them in single file.
        bind = self.factory.kw["bind"]
        if bind.dialect.name != "postgresql":
            yield
            return
        with bind.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": RELAY_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": RELAY_LOCK_KEY})
                connection.commit()

    def catch_up(self) -> int:
        """Apply everything committed so far (for queries that must read their own writes)."""
        total = 0
        while applied := self.relay_once():
            total += applied
        return total
