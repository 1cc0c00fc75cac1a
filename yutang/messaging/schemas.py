"""In/Out shapes for channel configurations, templates, messages, the inbox and its queues."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from yutang.kit.fields import Id


class ChannelKind(StrEnum):
    """The channel adapters Yutang has."""

    WECOM = "wecom"
    WECHAT_OA = "wechat_oa"
    WECHAT_MP = "wechat_mp"
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"
    NULL = "null"


class Purpose(StrEnum):
    """Marketing needs consent and no refusal of personalised marketing; service and replies do not."""

    MARKETING = "marketing"
    SERVICE = "service"
    REPLY = "reply"


class TemplatePurpose(StrEnum):
    """What a template is for."""

    MARKETING = "marketing"
    SERVICE = "service"
    QUICK_REPLY = "quick_reply"


class Status(StrEnum):
    """A message's state; outbound states only move forward (failed and suppressed are final)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    CLICKED = "clicked"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    RECEIVED = "received"


class ChannelConfigIn(BaseModel):
    """A channel configuration; secrets are write-only (never shown again)."""

    kind: ChannelKind
    name: str = Field(min_length=1, max_length=100)
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    acquisition_channel: str | None = Field(default=None, description="channel code of first touch for contacts")
    queue_id: Id | None = None
    enabled: bool = True


class ChannelConfigPatch(BaseModel):
    """Change settings (merged), replace given secrets, enable or disable."""

    settings: dict[str, Any] = None
    secrets: dict[str, str] = None
    enabled: bool = None
    queue_id: Id | None = None


class CheckOut(BaseModel):
    """A connection test: whether the peer accepted the credentials, else its error code and message."""

    ok: bool
    code: str | None = Field(description="the peer's error code (WeCom errcode, SMTP reply code, HTTP status "
                                         "as http_NNN) or 'network' when it could not be reached")
    message: str


class ChannelConfigOut(BaseModel):
    """A channel configuration as shown: the names of its secrets, never their values."""

    id: int
    kind: ChannelKind
    name: str
    settings: dict[str, Any]
    secrets_set: list[str]
    enabled: bool
    acquisition_channel_id: int | None
    queue_id: int | None
    callback_path: str | None = None
    created_at: datetime


class TemplateIn(BaseModel):
    """A template: body (and subject) in the sandboxed template language; payload values may use it too."""

    name: str = Field(min_length=1, max_length=100)
    channel_kind: ChannelKind
    purpose: TemplatePurpose = TemplatePurpose.MARKETING
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(default="", max_length=20_000)
    payload: dict[str, Any] = Field(default_factory=dict, description="template_id/data/url/page/attachments …")


class TemplateOut(TemplateIn):
    """A stored template."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    created_at: datetime


class PreviewIn(BaseModel):
    """Render a stored template, or an unsaved one, for a sample customer."""

    template_id: Id | None = None
    template: TemplateIn | None = None
    customer_id: Id | None = None


class Rendered(BaseModel):
    """A template rendered for one customer."""

    subject: str | None
    body: str
    payload: dict[str, Any]
    variables: dict[str, Any]


class MessageIn(BaseModel):
    """Queue a message to a customer (or to a webhook endpoint) on a channel."""

    channel_id: Id
    customer_id: Id | None = None
    template_id: Id | None = None
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=20_000)
    payload: dict[str, Any] = Field(default_factory=dict)
    purpose: Purpose = Purpose.SERVICE
    track_links: bool = True
    idempotency_key: str | None = Field(default=None, max_length=200)


class MessageOut(BaseModel):
    """A message with its delivery state."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    channel_config_id: int
    customer_id: int | None
    thread_id: int | None
    template_id: int | None
    member_id: int | None
    direction: str
    purpose: str
    address: str
    subject: str | None
    body: str
    status: Status
    error_code: str | None
    error_message: str | None
    attempts: int
    provider_id: str | None
    queued_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    clicked_at: datetime | None
    failed_at: datetime | None
    created_at: datetime


class AttemptOut(BaseModel):
    """One entry of the delivery log."""

    model_config = ConfigDict(from_attributes=True)
    attempt: int
    ok: bool
    error_code: str | None
    error_message: str | None
    duration_ms: int
    created_at: datetime


class DeliveryIn(BaseModel):
    """A delivery receipt from an integrator: the message reached a later state."""

    status: Status = Field(description="delivered, read, clicked or failed")
    error_code: str | None = None
    error_message: str | None = None


class QueueIn(BaseModel):
    """A team queue with its members."""

    name: str = Field(min_length=1, max_length=100)
    reception_limit: int = Field(default=20, ge=1, le=10_000)
    member_ids: list[Id] = Field(default_factory=list)


class QueueOut(BaseModel):
    """A team queue."""

    id: int
    name: str
    reception_limit: int
    member_ids: list[int]


class InboundIn(BaseModel):
    """An inbound message from an integrator: who wrote (an identity), on which channel, what."""

    channel_id: Id
    identity_kind: str = Field(description="an identity kind, e.g. wecom_external_userid, phone, email")
    identity_value: str = Field(min_length=1, max_length=320)
    identity_namespace: str = ""
    body: str = Field(min_length=1, max_length=20_000)
    external_id: str | None = Field(default=None, max_length=200, description="the channel's message id (dedupe)")
    received_at: datetime | None = None


class ReplyIn(BaseModel):
    """A reply in a thread: free text or a quick-reply template."""

    body: str | None = Field(default=None, max_length=20_000)
    template_id: Id | None = None


class AssignIn(BaseModel):
    """Whom to hand a thread to."""

    member_id: Id


class ThreadOut(BaseModel):
    """A conversation with its response times (seconds)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    channel_config_id: int
    assigned_member_id: int | None
    queue_id: int | None
    status: str
    subject: str | None
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    last_message_at: datetime | None
    first_response_seconds: int | None = None
    resolution_seconds: int | None = None


class ThreadDetail(ThreadOut):
    """A thread with its messages, oldest first."""

    messages: list[MessageOut]


class WeComSyncIn(BaseModel):
    """Whose external contacts to sync."""

    staff_userids: list[str] = Field(min_length=1, max_length=100)


class WeComSyncOut(BaseModel):
    """What a contact sync did."""

    contacts: int
    created: int
    updated: int
    tags_applied: int


class TagSyncOut(BaseModel):
    """What a corporate-tag sync did."""

    pulled: int
    pushed: int
    marked: int


# ---- broadcasts and contact pressure ----------------------------------------------------------------------


class CapIn(BaseModel):
    """At most `limit` marketing messages per `window_days` days, on one channel kind or (none) on all."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    limit: int = Field(ge=0, le=1000)
    window_days: int = Field(ge=1, le=366)
    channel_kind: ChannelKind | None = None


class PressureIn(BaseModel):
    """A workspace's contact-pressure rules."""

    caps: list[CapIn] = Field(default_factory=list, max_length=20)
    quiet_start: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM local")
    quiet_end: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    wecom_group_sends_per_month: int | None = Field(default=4, ge=0, le=100)
    holdout_bp: int = Field(default=0, ge=0, le=2000, description=(
        "the global holdout: a stable hashed share of customers (basis points, 500 = 5%, at most 20%) who get no "
        "marketing at all (service messages still go), against which marketing's incremental revenue is measured"))


class PressureOut(PressureIn):
    """The rules in force (the defaults until the workspace sets its own)."""

    timezone: str


class BroadcastIn(BaseModel):
    """A broadcast: a template to the members of segments (overlaps reach a customer once), now or at send_at."""

    name: str = Field(min_length=1, max_length=200)
    segment_ids: list[Id] = Field(min_length=1, max_length=20)
    channel_id: Id
    template_id: Id
    priority: int = Field(default=0, ge=0, le=100, description="higher wins when campaigns compete")
    send_at: datetime | None = Field(default=None, description="absent: now; naive: workspace wall time")


class BroadcastOut(BaseModel):
    """A broadcast with its plan summary (once started) and the delivery report of its messages."""

    id: int
    name: str
    segment_ids: list[int]
    channel_config_id: int
    template_id: int
    priority: int
    status: str
    send_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_at: datetime | None
    error: str | None
    summary: dict[str, Any]
    by_state: dict[str, int] = Field(default_factory=dict, description="messages per delivery state")
    created_at: datetime


class BroadcastPreviewOut(BaseModel):
    """The audience before and after suppression, by reason, planned now without sending."""

    candidates: int
    duplicates: int
    audience: int
    send: int
    deferred: int = Field(description="held by the quiet hours only: queued to go out when they end")
    deferred_until: datetime | None = Field(None, description="when the first quiet hours end")
    suppressed: int
    by_reason: dict[str, int] = Field(description="the suppressed, by reason (not the deferred)")
    sample_customer_id: int | None = Field(None, description="the first customer who would receive it (lowest id), "
                                                             "to render the message for")


class RecipientOut(BaseModel):
    """What a broadcast decided for one customer."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int | None
    outcome: str
    reason: str | None
    message_id: int | None
    status: str | None = None
