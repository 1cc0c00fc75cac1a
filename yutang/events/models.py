"""ORM model for event sources and their write keys."""

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import UTCDateTime


class Source(WorkspaceScoped, Base):
    """Where events come from (mini program, app, website, server); its write key authenticates ingest."""

    __tablename__ = "event_sources"
    __table_args__ = (UniqueConstraint("write_key_hash"), UniqueConstraint("workspace_id", "name"))

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    write_key_prefix: Mapped[str] = mapped_column(String(16))
    write_key_hash: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
