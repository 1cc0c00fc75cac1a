"""The transactional outbox: changes analytics needs are written here in the same transaction.

Topics and their payload shapes are in storage/topics.py.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from yutang.kit.clock import utcnow
from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.topics import Payload, Topic, check
from yutang.storage.types import Json, UTCDateTime

WROTE_OUTBOX = "yutang.wrote_outbox"


class OutboxRow(WorkspaceScoped, Base):
    """A change to relay to the warehouse (and to jobs) after commit, in id order."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "relayed_at", "id"),)

    topic: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None]
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


_INSERT = insert(OutboxRow.__table__)


def emit(session: Session, *, workspace_id: int, topic: Topic, entity_id: int | None, payload: Payload) -> None:
    """Record a change for the relay; it commits or rolls back with the caller's transaction."""
    check(topic, payload)
    session.add(OutboxRow(workspace_id=workspace_id, topic=topic.value, entity_id=entity_id, payload=payload))
    session.info[WROTE_OUTBOX] = True


def emit_many(session: Session, *, workspace_id: int, topic: Topic,
              changes: list[tuple[int | None, Payload]]) -> None:
    """Record many changes of one topic in one statement (entity id, payload each), in the given order."""
    if not changes:
        return
    for _, payload in changes:
        check(topic, payload)
    now = utcnow()
    session.connection().execute(_INSERT, [{"workspace_id": workspace_id, "topic": topic.value, "entity_id": entity_id,
                                            "payload": payload, "relayed_at": None, "created_at": now}
                                           for entity_id, payload in changes])
    session.info[WROTE_OUTBOX] = True


def emit_now(session: Session, *, workspace_id: int, topic: Topic, entity_id: int | None, payload: Payload) -> None:
    """As emit, but inserted at once with one Core statement (for hot paths: no ORM flush)."""
    emit_many(session, workspace_id=workspace_id, topic=topic, changes=[(entity_id, payload)])


def take_written_flag(session: Session) -> bool:
    """Whether the transaction just committed wrote outbox rows (and reset the flag)."""
    return bool(session.info.pop(WROTE_OUTBOX, False))


def pending(session: Session, *, limit: int) -> list[OutboxRow]:
    """Rows not yet relayed, oldest first (ids follow commit order for changes to the same entity)."""
    query = select(OutboxRow).where(OutboxRow.relayed_at.is_(None)).order_by(OutboxRow.id).limit(limit)
    return list(session.scalars(query))


def mark_relayed(session: Session, *, ids: list[int]) -> None:
    """Mark rows as applied to the warehouse."""
    if ids:
        session.execute(update(OutboxRow).where(OutboxRow.id.in_(ids)).values(relayed_at=utcnow()))
