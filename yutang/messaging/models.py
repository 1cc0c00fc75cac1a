"""ORM models for channel configurations, templates, messages and their delivery, and the inbox."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, Json, UTCDateTime


class ChannelConfig(WorkspaceScoped, Base):
    """A channel the workspace sends through: its kind, public settings and its secrets (encrypted at rest)."""

    __tablename__ = "messaging_channels"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    settings: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    secrets: Mapped[str] = mapped_column(Text, default="", doc="Fernet token of the JSON secrets")
    enabled: Mapped[bool] = mapped_column(default=True)
    acquisition_channel_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("channels.id", ondelete="SET NULL"), doc="first-touch channel of contacts met here")
    queue_id: Mapped[int | None] = mapped_column(Id, ForeignKey("inbox_queues.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessageTemplate(WorkspaceScoped, Base):
    """A message with personalisation for one channel kind: marketing, service, or a quick reply."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    channel_kind: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16), default="marketing")
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(WorkspaceScoped, Base):
    """One message in or out; outbound ones move queued → sent → delivered → read → clicked, or fail."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("workspace_id", "idempotency_key"),
        Index("ix_messages_due", "status", "next_attempt_at"),
        Index("ix_messages_customer", "customer_id", "id"),
        Index("ix_messages_provider", "channel_config_id", "provider_id"),
    )

    channel_config_id: Mapped[int] = mapped_column(Id, ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(Id, ForeignKey("inbox_threads.id", ondelete="SET NULL"),
                                                  index=True)
    template_id: Mapped[int | None] = mapped_column(Id, ForeignKey("message_templates.id", ondelete="SET NULL"))
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(4), default="out")
    purpose: Mapped[str] = mapped_column(String(16), default="service")
    address: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessageAttempt(WorkspaceScoped, Base):
    """One try at handing a message to its channel: the delivery log."""

    __tablename__ = "message_attempts"

    message_id: Mapped[int] = mapped_column(Id, ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]
    ok: Mapped[bool]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(default=0)


class TrackedLink(WorkspaceScoped, Base):
    """A link in a message, redirected through /t/{token} so the click is recorded."""

    __tablename__ = "tracked_links"

    message_id: Mapped[int] = mapped_column(Id, ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    url: Mapped[str] = mapped_column(Text)
    clicks: Mapped[int] = mapped_column(default=0)


class InboxQueue(WorkspaceScoped, Base):
    """A team queue: threads of unassigned customers go round robin to its members, up to a reception limit."""

    __tablename__ = "inbox_queues"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    reception_limit: Mapped[int] = mapped_column(default=20)
    last_member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))


class InboxQueueMember(WorkspaceScoped, Base):
    """A member taking threads from a queue."""

    __tablename__ = "inbox_queue_members"
    __table_args__ = (UniqueConstraint("queue_id", "member_id"),)

    queue_id: Mapped[int] = mapped_column(Id, ForeignKey("inbox_queues.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(Id, ForeignKey("members.id", ondelete="CASCADE"), index=True)


class Thread(WorkspaceScoped, Base):
    """A conversation with one customer on one channel, open until resolved."""

    __tablename__ = "inbox_threads"
    __table_args__ = (
        Index("ix_inbox_threads_open", "workspace_id", "status", "assigned_member_id"),
        Index("ix_inbox_threads_customer", "customer_id", "channel_config_id", "status"),
    )

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    channel_config_id: Mapped[int] = mapped_column(Id, ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    assigned_member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    queue_id: Mapped[int | None] = mapped_column(Id, ForeignKey("inbox_queues.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    subject: Mapped[str | None] = mapped_column(String(300))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WeComContact(WorkspaceScoped, Base):
    """A WeCom external contact as one staff member holds it (needed for mark_tag and group sends)."""

    __tablename__ = "wecom_contacts"
    __table_args__ = (UniqueConstraint("channel_config_id", "external_userid", "staff_userid"),
                      Index("ix_wecom_contacts_customer", "customer_id"))

    channel_config_id: Mapped[int] = mapped_column(Id, ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    external_userid: Mapped[str] = mapped_column(String(128))
    staff_userid: Mapped[str] = mapped_column(String(64))
    state: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WeComCallbackNonce(WorkspaceScoped, Base):
    """A nonce of a verified WeCom callback, kept while its timestamp is inside the freshness window (the unique key
    refuses a replay in any process)."""

    __tablename__ = "wecom_callback_nonces"
    __table_args__ = (UniqueConstraint("channel_config_id", "nonce"),)

    channel_config_id: Mapped[int] = mapped_column(Id, ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PressurePolicy(WorkspaceScoped, Base):
    """A workspace's contact-pressure rules: frequency caps, quiet hours, WeCom's monthly group-send cap."""

    __tablename__ = "pressure_policies"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    caps: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    quiet_start: Mapped[str | None] = mapped_column(String(5), doc="HH:MM local")
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    wecom_group_sends_per_month: Mapped[int | None]
    holdout_bp: Mapped[int] = mapped_column(default=0, doc="the global holdout's share, basis points")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Broadcast(WorkspaceScoped, Base):
    """One template to the members of some segments on one channel, now or at send_at, with a priority."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_due", "status", "send_at"),)

    name: Mapped[str] = mapped_column(String(200))
    segment_ids: Mapped[list[int]] = mapped_column(Json, default=list)
    channel_config_id: Mapped[int] = mapped_column(Id, ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    template_id: Mapped[int] = mapped_column(Id, ForeignKey("message_templates.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    priority: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class BroadcastRecipient(WorkspaceScoped, Base):
    """What a broadcast decided for one customer: sent (its message) or suppressed and why."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (UniqueConstraint("broadcast_id", "customer_id"),
                      Index("ix_broadcast_recipients_outcome", "broadcast_id", "outcome", "reason"))

    broadcast_id: Mapped[int] = mapped_column(Id, ForeignKey("broadcasts.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(Id, ForeignKey("messages.id", ondelete="SET NULL"))
