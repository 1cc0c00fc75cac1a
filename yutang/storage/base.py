"""Declarative base shared by every domain's models, with stable constraint names for Alembic."""

from datetime import datetime

from sqlalchemy import ForeignKey, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from yutang.kit.clock import utcnow
from yutang.storage.types import Id, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Root of all ORM models."""

    metadata = MetaData(naming_convention=NAMING)


class IdMixin:
    """Surrogate integer primary key and creation time."""

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkspaceScoped(IdMixin):
    """Every tenant row names its workspace; queries filter on it first."""

    @declared_attr
    def workspace_id(cls) -> Mapped[int]:
        return mapped_column(Id, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
