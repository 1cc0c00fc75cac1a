"""ORM models for segment definitions and the frozen member lists of static segments."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, Json, UTCDateTime


class Segment(WorkspaceScoped, Base):
    """A named pool: dynamic (a rule, membership kept in the warehouse) or static (a frozen list here)."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    rule: Mapped[dict[str, Any] | None] = mapped_column(Json)
    tag_id: Mapped[int | None] = mapped_column(Id, ForeignKey("tags.id", ondelete="SET NULL"),
                                               doc="auto-tag: added on entry, removed on exit")
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaticMember(WorkspaceScoped, Base):
    """A customer on a static segment's list."""

    __tablename__ = "segment_static_members"
    __table_args__ = (UniqueConstraint("segment_id", "customer_id"),
                      Index("ix_segment_static_members_customer", "customer_id"))

    segment_id: Mapped[int] = mapped_column(Id, ForeignKey("segments.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
