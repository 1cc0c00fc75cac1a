"""Persisted positions of background consumers (outbox subscribers, warehouse readers), one row each."""

from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from yutang.kit.clock import utcnow
from yutang.storage.base import Base, IdMixin
from yutang.storage.types import Json, UTCDateTime


class ConsumerCursor(IdMixin, Base):
    """Where one named consumer has read up to; its shape (`position`) is the consumer's own."""

    __tablename__ = "consumer_cursors"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def lock(session: Session, *, name: str) -> ConsumerCursor:
    """The consumer's cursor row, created if missing and locked for this transaction (one reader at a time)."""
    row = session.scalar(select(ConsumerCursor).where(ConsumerCursor.name == name).with_for_update())
    if row is None:
        session.add(ConsumerCursor(name=name, position={}, updated_at=utcnow()))
        session.flush()
        row = session.scalar(select(ConsumerCursor).where(ConsumerCursor.name == name).with_for_update())
    return row


def save(session: Session, *, cursor: ConsumerCursor, position: dict[str, Any]) -> None:
    """Store a new position (commits with the work it covers)."""
    cursor.position = position
    cursor.updated_at = utcnow()
