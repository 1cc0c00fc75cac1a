"""In/Out shapes for webhook endpoints, their deliveries and attempts."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from yutang.warehouse.own_events import CATALOGUE


class DeliveryStatus(StrEnum):
    """A delivery's state: pending (due now or after a backoff), sending (claimed), delivered, failed."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    return value


def _events(value: list[str]) -> list[str]:
    unknown = [name for name in value if name not in CATALOGUE]
    if unknown:
        raise ValueError(f"unknown event names: {', '.join(unknown)} (see GET /v1/webhooks/event-types)")
    return list(dict.fromkeys(value))


class EndpointIn(BaseModel):
    """A URL to subscribe and the event names it wants."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, examples=["https://example.com/yutang/webhooks"])
    events: list[str] = Field(min_length=1, max_length=100, examples=[["Order Paid", "Segment Entered"]])
    description: str = Field("", max_length=300)
    enabled: bool = True

    _check_url = field_validator("url")(_url)
    _check_events = field_validator("events")(_events)


class EndpointPatch(BaseModel):
    """Change an endpoint; enabling it again clears its failure count."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=2000)
    events: list[str] | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=300)
    enabled: bool | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else _url(value)

    @field_validator("events")
    @classmethod
    def _check_events(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _events(value)


class RotateIn(BaseModel):
    """How long the old secret keeps signing beside the new one."""

    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(86_400, ge=0, le=30 * 86_400)


class EndpointOut(BaseModel):
    """An endpoint; `disabled_reason` says why Yutang turned it off."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime | None
    secret_expirations: list[datetime] = Field(default_factory=list,
                                               description="when each retiring secret stops signing")


class EndpointSecretOut(EndpointOut):
    """An endpoint with its new signing secret (shown once: on creation and rotation)."""

    secret: str


class AttemptOut(BaseModel):
    """One POST of a delivery."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    """An event owed to an endpoint and how its delivery went."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    endpoint_id: int
    event_id: str
    event_name: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    body: dict[str, Any]


class DeliveryDetailOut(DeliveryOut):
    """A delivery with its attempts, oldest first."""

    attempt_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    """A page of deliveries, newest first."""

    items: list[DeliveryOut]
    next_cursor: str | None = None
