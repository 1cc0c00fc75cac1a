"""ORM models for workspaces, members, API keys and audit entries."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, IdMixin, WorkspaceScoped
from yutang.storage.types import Id, Json, UTCDateTime


class Workspace(IdMixin, Base):
    """A brand: the tenant every other row belongs to."""

    __tablename__ = "workspaces"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(String(16), default="zh_CN")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")


class Member(WorkspaceScoped, Base):
    """A person or system acting in a workspace, with one role."""

    __tablename__ = "members"

    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(default=True)


class ApiKey(WorkspaceScoped, Base):
    """A secret that authenticates as a member; only its SHA-256 is stored."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("key_hash"),)

    member_id: Mapped[int] = mapped_column(Id, ForeignKey("members.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(WorkspaceScoped, Base):
    """Who changed what, written in the same transaction as the change."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "workspace_id", "entity_type", "entity_id"),)

    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    api_key_id: Mapped[int | None] = mapped_column(Id, ForeignKey("api_keys.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None]
    changes: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class ConsoleSession(WorkspaceScoped, Base):
    """A signed-in console browser: only the SHA-256 of its cookie's token is stored."""

    __tablename__ = "console_sessions"
    __table_args__ = (UniqueConstraint("token_hash"),)

    member_id: Mapped[int] = mapped_column(Id, ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # The key signed in with, if any: revoking it ends the session too (None for a sign-in link).
    api_key_id: Mapped[int | None] = mapped_column(Id, ForeignKey("api_keys.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInLink(WorkspaceScoped, Base):
    """A one-time console sign-in link for a member: short-lived, used once, only its token's SHA-256 stored."""

    __tablename__ = "sign_in_links"
    __table_args__ = (UniqueConstraint("token_hash"),)

    member_id: Mapped[int] = mapped_column(Id, ForeignKey("members.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
