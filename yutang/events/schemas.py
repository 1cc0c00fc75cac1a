"""In/Out shapes for event sources, ingest results and the customer timeline."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from yutang.kit.fields import Patch


class SourceKind(StrEnum):
    """What sends the events."""

    MINI_PROGRAM = "mini_program"
    APP = "app"
    WEB = "web"
    SERVER = "server"


class SourceIn(BaseModel):
    """A new source; its write key is returned once."""

    name: str = Field(min_length=1, max_length=100)
    kind: SourceKind = SourceKind.SERVER


class SourcePatch(Patch):
    """A source's new name."""

    name: str = Field(None, min_length=1, max_length=100)


class SourceOut(BaseModel):
    """A source as shown (the write key only when just created)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: SourceKind
    write_key_prefix: str
    created_at: datetime
    revoked_at: datetime | None
    write_key: str | None = None


class TimelineEntry(BaseModel):
    """One thing that happened to or by a customer."""

    kind: str = Field(description="event, order or change")
    at: datetime
    name: str
    detail: dict[str, Any] = Field(default_factory=dict)
    ref: str = Field(description="stable id of the entry within its kind")


class TimelinePage(BaseModel):
    """A page of the timeline, newest first."""

    items: list[TimelineEntry]
    next_cursor: str | None = None


class DeadLetterStage(StrEnum):
    """Where the loader stopped with a message."""

    LOAD = "load"  # not stored: the line could not be read or written
    ATTRIBUTE = "attribute"  # stored, but no customer could be resolved
    TRAIT = "trait"  # stored and attributed; one identifying trait was invalid and dropped


class DeadLetterStatus(StrEnum):
    """What has been done about a dead letter."""

    OPEN = "open"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class DeadLetterOut(BaseModel):
    """A message set aside by the loader, with why; `raw` (the journal line) only for roles that see PII."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    message_id: str | None
    stage: DeadLetterStage
    error: str
    status: DeadLetterStatus
    first_seen_at: datetime
    last_seen_at: datetime
    replay_count: int
    replayed_at: datetime | None
    raw: str | None = None


class DeadLetterPage(BaseModel):
    """Dead letters, newest first."""

    items: list[DeadLetterOut]
    total: int
