"""ORM models for tag groups, tags and customer tags."""

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id


class TagGroup(WorkspaceScoped, Base):
    """A named group of tags (e.g. 'Interest', 'Lifecycle'), ordered for display."""

    __tablename__ = "tag_groups"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    order: Mapped[int] = mapped_column(default=0)
    external_id: Mapped[str | None] = mapped_column(String(128), doc="WeCom group_id when synced")


class Tag(WorkspaceScoped, Base):
    """A tag in a group; names are unique within their group."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("group_id", "name"),)

    group_id: Mapped[int] = mapped_column(Id, ForeignKey("tag_groups.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    order: Mapped[int] = mapped_column(default=0)
    external_id: Mapped[str | None] = mapped_column(String(128), doc="WeCom tag_id when synced")


class CustomerTag(WorkspaceScoped, Base):
    """A tag on a customer, with where it came from."""

    __tablename__ = "customer_tags"
    __table_args__ = (
        UniqueConstraint("customer_id", "tag_id"),
        Index("ix_customer_tags_tag", "tag_id", "customer_id"),
    )

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(Id, ForeignKey("tags.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(64), default="manual")
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
