"""In/Out shapes for workspaces, members, keys and the audit log."""

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from yutang.kit.fields import Patch
from yutang.workspaces.access import Role

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class WorkspaceIn(BaseModel):
    """A new brand."""

    slug: str = Field(description="URL-safe unique name, e.g. 'acme-tea'")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = "Asia/Shanghai"
    locale: str = Field(default="zh_CN", pattern=r"^(zh_CN|en)$")
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("lower-case letters, digits and '-', 2 to 63 characters")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class WorkspaceOut(BaseModel):
    """A workspace as the API shows it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    slug: str
    name: str
    timezone: str
    locale: str
    currency: str
    created_at: datetime


class MemberIn(BaseModel):
    """A new member; an API key is created with them."""

    name: str = Field(min_length=1, max_length=200)
    role: Role
    email: str | None = None


class MemberPatch(Patch):
    """Changes to a member: name, role, email (null clears the email)."""

    name: str = Field(None, min_length=1, max_length=200)
    role: Role = Field(None)
    email: str | None = Field(default=None, max_length=320)


class MemberOut(BaseModel):
    """A member as the API shows it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    role: Role
    email: str | None
    active: bool


class ApiKeyOut(BaseModel):
    """A key; the secret appears only once, when it is created."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    member_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    secret: str | None = None


class AuditEntryOut(BaseModel):
    """One audit log row."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    member_id: int | None
    api_key_id: int | None
    action: str
    entity_type: str
    entity_id: int | None
    changes: dict[str, Any]
    created_at: datetime
