"""ORM models for stores and their staff."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, Json, UTCDateTime


class Store(WorkspaceScoped, Base):
    """A shop (门店): where it is, its region and manager, and the acquisition channel it is."""

    __tablename__ = "stores"
    __table_args__ = (UniqueConstraint("workspace_id", "code"),)

    code: Mapped[str] = mapped_column(String(48))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    region: Mapped[str | None] = mapped_column(String(64), index=True)
    opening_hours: Mapped[str | None] = mapped_column(String(200))
    manager_member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    channel_id: Mapped[int] = mapped_column(Id, ForeignKey("channels.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True)


class Persona(WorkspaceScoped, Base):
    """A persona account (centralised mode): the one face customers see, run by several staff members behind it."""

    __tablename__ = "personas"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    wecom_alias: Mapped[str | None] = mapped_column(String(64))
    external_position: Mapped[str | None] = mapped_column(String(64))
    external_profile: Mapped[dict | None] = mapped_column(Json)
    active: Mapped[bool] = mapped_column(default=True)


class Staff(WorkspaceScoped, Base):
    """A member of the store staff: their workspace member, WeCom user id, store or region, and tenure."""

    __tablename__ = "store_staff"
    __table_args__ = (UniqueConstraint("workspace_id", "member_id"), UniqueConstraint("workspace_id", "wecom_userid"))

    name: Mapped[str] = mapped_column(String(100))
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    wecom_userid: Mapped[str | None] = mapped_column(String(64))
    store_id: Mapped[int | None] = mapped_column(Id, ForeignKey("stores.id", ondelete="SET NULL"), index=True)
    region: Mapped[str | None] = mapped_column(String(64))
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    persona_id: Mapped[int | None] = mapped_column(Id, ForeignKey("personas.id", ondelete="SET NULL"), index=True)


class OwnershipSettings(WorkspaceScoped, Base):
    """How a workspace gives customers an owning guide: the rule and the protection period."""

    __tablename__ = "ownership_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    rule: Mapped[str] = mapped_column(String(24), default="first_add_wins")
    protection_days: Mapped[int] = mapped_column(default=30)


class Ownership(WorkspaceScoped, Base):
    """A customer's one owning guide, the store they belong to and until when the owner is protected."""

    __tablename__ = "customer_owners"
    __table_args__ = (UniqueConstraint("workspace_id", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"), index=True)
    store_id: Mapped[int | None] = mapped_column(Id, ForeignKey("stores.id", ondelete="SET NULL"), index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    protected_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(24))


class OwnershipChange(WorkspaceScoped, Base):
    """One change of a customer's owner: from whom to whom, why, by whom."""

    __tablename__ = "ownership_changes"

    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    from_member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    to_member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    store_id: Mapped[int | None] = mapped_column(Id, ForeignKey("stores.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(String(500))
    by_member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactCode(WorkspaceScoped, Base):
    """A channel QR code (渠道活码): a WeCom contact way whose `state` is the code, with what an add through it does."""

    __tablename__ = "contact_codes"
    __table_args__ = (UniqueConstraint("workspace_id", "code"),)

    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    messaging_config_id: Mapped[int] = mapped_column(Id, ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(Id, ForeignKey("channels.id", ondelete="RESTRICT"))
    store_id: Mapped[int | None] = mapped_column(Id, ForeignKey("stores.id", ondelete="SET NULL"))
    campaign: Mapped[str | None] = mapped_column(String(100))
    staff_ids: Mapped[list[int]] = mapped_column(Json, default=list)
    multi: Mapped[bool] = mapped_column(default=False)
    skip_verify: Mapped[bool] = mapped_column(default=True)
    welcome_text: Mapped[str | None] = mapped_column(String(1000))
    tag_ids: Mapped[list[int]] = mapped_column(Json, default=list)
    wecom_config_id: Mapped[str | None] = mapped_column(String(64))
    qr_url: Mapped[str | None] = mapped_column(String(500))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContactCodeAdd(WorkspaceScoped, Base):
    """A customer added through a code: by which staff member, when, welcomed, and whether they deleted since."""

    __tablename__ = "contact_code_adds"

    code_id: Mapped[int] = mapped_column(Id, ForeignKey("contact_codes.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(Id, ForeignKey("store_staff.id", ondelete="SET NULL"))
    external_userid: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    welcomed: Mapped[bool] = mapped_column(default=False)


class Handover(WorkspaceScoped, Base):
    """Customers of one staff member handed to another through WeCom (离职继承 when they left, else 在职继承)."""

    __tablename__ = "handovers"

    kind: Mapped[str] = mapped_column(String(16))
    messaging_config_id: Mapped[int] = mapped_column(Id, ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    from_staff_id: Mapped[int] = mapped_column(Id, ForeignKey("store_staff.id", ondelete="CASCADE"), index=True)
    to_staff_id: Mapped[int] = mapped_column(Id, ForeignKey("store_staff.id", ondelete="CASCADE"))
    message: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    by_member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HandoverItem(WorkspaceScoped, Base):
    """One customer in a hand-over: WeCom's answer and the transfer's outcome."""

    __tablename__ = "handover_items"

    handover_id: Mapped[int] = mapped_column(Id, ForeignKey("handovers.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    external_userid: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    errcode: Mapped[int | None]
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffTask(WorkspaceScoped, Base):
    """A follow-up task (跟进任务) of a staff member, about a customer or a WeCom group send they must confirm."""

    __tablename__ = "staff_tasks"
    __table_args__ = (UniqueConstraint("workspace_id", "source_key"),
                      Index("ix_staff_tasks_staff_status_due", "staff_id", "status", "due_at"))

    staff_id: Mapped[int] = mapped_column(Id, ForeignKey("store_staff.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(1000))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(default=False)
    source_key: Mapped[str | None] = mapped_column(String(128))
    messaging_config_id: Mapped[int | None] = mapped_column(Id, ForeignKey("messaging_channels.id",
                                                                           ondelete="SET NULL"))
    text: Mapped[str | None] = mapped_column(String(1000))
    msgid: Mapped[str | None] = mapped_column(String(64))
    by_member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    persona_id: Mapped[int | None] = mapped_column(Id, ForeignKey("personas.id", ondelete="SET NULL"))


class StaffTaskRecipient(WorkspaceScoped, Base):
    """One customer of a group-send task: WeCom's answer (waiting, sent, not a contact, capped) and when."""

    __tablename__ = "staff_task_recipients"

    task_id: Mapped[int] = mapped_column(Id, ForeignKey("staff_tasks.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    external_userid: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BehaviorDay(WorkspaceScoped, Base):
    """One staff member's day in WeCom's contact statistics (get_user_behavior_data), stored as fetched."""

    __tablename__ = "staff_behavior_days"
    __table_args__ = (UniqueConstraint("workspace_id", "staff_id", "day"),)

    staff_id: Mapped[int] = mapped_column(Id, ForeignKey("store_staff.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    new_contacts: Mapped[int] = mapped_column(default=0)
    new_applies: Mapped[int] = mapped_column(default=0)
    lost: Mapped[int] = mapped_column(default=0)
    chats: Mapped[int] = mapped_column(default=0)
    messages: Mapped[int] = mapped_column(default=0)
    reply_percentage: Mapped[float | None] = mapped_column(Float)
    avg_reply_minutes: Mapped[float | None] = mapped_column(Float)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffTarget(WorkspaceScoped, Base):
    """A guide's monthly targets: new adds and attributed GMV (fen); either may be unset."""

    __tablename__ = "staff_targets"
    __table_args__ = (UniqueConstraint("workspace_id", "staff_id", "month"),)

    staff_id: Mapped[int] = mapped_column(Id, ForeignKey("store_staff.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    new_adds: Mapped[int | None] = mapped_column()
    gmv_fen: Mapped[int | None] = mapped_column(BigInteger)
    by_member_id: Mapped[int | None] = mapped_column(Id, ForeignKey("members.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
