"""ORM models for event sources and their write keys, and the dead letters of the event loader."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, IdMixin, WorkspaceScoped
from yutang.storage.types import Id, UTCDateTime


class Source(WorkspaceScoped, Base):
    """Where events come from (mini program, app, website, server); its write key authenticates ingest."""

    __tablename__ = "event_sources"
    __table_args__ = (UniqueConstraint("write_key_hash"), UniqueConstraint("workspace_id", "name"))

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    write_key_prefix: Mapped[str] = mapped_column(String(16))
    write_key_hash: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeadLetter(IdMixin, Base):
    """A journalled message the loader could not fully process, set aside so everything behind it flows on.

    `stage` says where it stopped: `load` (not stored), `attribute` (stored, no customer) or `trait` (stored and
    attributed, one trait dropped). The workspace is empty when the message does not say which it belongs to.
    """

    __tablename__ = "event_dead_letters"
    __table_args__ = (UniqueConstraint("key", "stage"),)

    workspace_id: Mapped[int | None] = mapped_column(Id, ForeignKey("workspaces.id", ondelete="CASCADE"),
                                                     index=True)
    key: Mapped[str] = mapped_column(String(200))  # workspace:messageId, or a digest of a line without them
    message_id: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, replayed, discarded
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replay_count: Mapped[int] = mapped_column(Integer, default=0)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
