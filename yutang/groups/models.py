"""ORM models for customer groups, their members, group QR codes and daily figures."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, Json, UTCDateTime


class GroupChat(WorkspaceScoped, Base):
    """A WeCom customer group (客户群): its owner, name, notice, and when it was made or dismissed."""

    __tablename__ = "group_chats"
    __table_args__ = (UniqueConstraint("workspace_id", "chat_id"),)

    messaging_config_id: Mapped[int] = mapped_column(Id, ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    chat_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    owner_userid: Mapped[str] = mapped_column(String(64), index=True)
    owner_staff_id: Mapped[int | None] = mapped_column(Id, ForeignKey("store_staff.id", ondelete="SET NULL"))
    notice: Mapped[str | None] = mapped_column(String(1000))
    admin_userids: Mapped[list] = mapped_column(Json, default=list)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GroupMember(WorkspaceScoped, Base):
    """Someone in a group: an external member linked to a customer, or staff; when and how they joined or left."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "userid"), Index("ix_group_members_customer", "customer_id"),
                      Index("ix_group_members_joined", "workspace_id", "joined_at"))

    group_id: Mapped[int] = mapped_column(Id, ForeignKey("group_chats.id", ondelete="CASCADE"))
    userid: Mapped[str] = mapped_column(String(128))
    external: Mapped[bool] = mapped_column(default=True)
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(Id, ForeignKey("store_staff.id", ondelete="SET NULL"))
    join_scene: Mapped[int | None] = mapped_column()
    state: Mapped[str | None] = mapped_column(String(64))
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_spoke_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GroupCode(WorkspaceScoped, Base):
    """A group QR code (群活码): up to five groups behind one WeCom join way, and the `state` naming its source."""

    __tablename__ = "group_codes"
    __table_args__ = (UniqueConstraint("workspace_id", "state"),)

    messaging_config_id: Mapped[int] = mapped_column(Id, ForeignKey("messaging_channels.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(30))
    chat_ids: Mapped[list] = mapped_column(Json, default=list)
    auto_create_room: Mapped[bool] = mapped_column(default=True)
    room_base_name: Mapped[str | None] = mapped_column(String(40))
    room_base_id: Mapped[int] = mapped_column(default=1)
    wecom_config_id: Mapped[str] = mapped_column(String(64))
    qr_url: Mapped[str | None] = mapped_column(String(500))
    welcome_text: Mapped[str | None] = mapped_column(String(1000))
    welcome_template_id: Mapped[str | None] = mapped_column(String(64))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OwnerDayStat(WorkspaceScoped, Base):
    """One owner's groups on one day as WeCom's groupchat/statistic counts them."""

    __tablename__ = "group_owner_days"
    __table_args__ = (UniqueConstraint("workspace_id", "owner_userid", "day"),)

    owner_userid: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    chat_total: Mapped[int] = mapped_column(default=0)
    chat_has_msg: Mapped[int] = mapped_column(default=0)
    new_member_cnt: Mapped[int] = mapped_column(default=0)
    member_total: Mapped[int] = mapped_column(default=0)
    member_has_msg: Mapped[int] = mapped_column(default=0)
    msg_total: Mapped[int] = mapped_column(default=0)


class GroupDayStat(WorkspaceScoped, Base):
    """One group's talk on one day (from the chat archive where enabled, or an import): messages and speakers."""

    __tablename__ = "group_days"
    __table_args__ = (UniqueConstraint("group_id", "day"), Index("ix_group_days_day", "workspace_id", "day"))

    group_id: Mapped[int] = mapped_column(Id, ForeignKey("group_chats.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    messages: Mapped[int] = mapped_column(default=0)
    speakers: Mapped[int] = mapped_column(default=0)


class GroupSend(WorkspaceScoped, Base):
    """A message to one owner's customer groups through WeCom (add_msg_template, chat_type group): the owner
    confirms it in the app by `send_at` (a staff task), and WeCom's answer per group is kept."""

    __tablename__ = "group_sends"

    messaging_config_id: Mapped[int | None] = mapped_column(Id, ForeignKey("messaging_channels.id",
                                                                           ondelete="SET NULL"))
    owner_userid: Mapped[str] = mapped_column(String(64))
    owner_staff_id: Mapped[int | None] = mapped_column(Id, ForeignKey("store_staff.id", ondelete="SET NULL"))
    group_ids: Mapped[list] = mapped_column(Json, default=list)
    text: Mapped[str] = mapped_column(String(4000))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    msgid: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[int | None] = mapped_column(Id)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results: Mapped[dict] = mapped_column(Json, default=dict)
    by_member_id: Mapped[int | None] = mapped_column(Id)


class Moment(WorkspaceScoped, Base):
    """A Moments post (客户朋友圈) chosen staff publish to customers with chosen WeCom tags (add_moment_task), and
    what WeCom reports back: the moment id, invalid senders and tags, who published, comments and likes."""

    __tablename__ = "group_moments"

    messaging_config_id: Mapped[int | None] = mapped_column(Id, ForeignKey("messaging_channels.id",
                                                                           ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(2000))
    link_title: Mapped[str | None] = mapped_column(String(64))
    link_url: Mapped[str | None] = mapped_column(String(500))
    staff_userids: Mapped[list] = mapped_column(Json, default=list)
    tag_ids: Mapped[list] = mapped_column(Json, default=list)
    jobid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="creating")
    moment_id: Mapped[str | None] = mapped_column(String(64))
    invalid: Mapped[dict] = mapped_column(Json, default=dict)
    results: Mapped[dict] = mapped_column(Json, default=dict)
    by_member_id: Mapped[int | None] = mapped_column(Id)


class LibraryFolder(WorkspaceScoped, Base):
    """A folder of the materials and scripts library (素材库 / 话术库)."""

    __tablename__ = "library_folders"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)


class Material(WorkspaceScoped, Base):
    """A material or script: a text script, an image, a link, a product card or a mini-program card, with tags."""

    __tablename__ = "library_materials"
    __table_args__ = (Index("ix_library_materials_folder", "workspace_id", "folder_id"),)

    folder_id: Mapped[int | None] = mapped_column(Id, ForeignKey("library_folders.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str | None] = mapped_column(String(4000))
    url: Mapped[str | None] = mapped_column(String(500))
    image_url: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String(500))
    price_fen: Mapped[int | None] = mapped_column()
    appid: Mapped[str | None] = mapped_column(String(64))
    page: Mapped[str | None] = mapped_column(String(500))
    tags: Mapped[list] = mapped_column(Json, default=list)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    by_member_id: Mapped[int | None] = mapped_column(Id)


class MaterialUse(WorkspaceScoped, Base):
    """One use of a material by a staff member, to a customer or a group (or a Moments post): what the report
    follows to replies and orders."""

    __tablename__ = "library_uses"
    __table_args__ = (Index("ix_library_uses_material", "material_id", "used_at"),
                      Index("ix_library_uses_customer", "customer_id"))

    material_id: Mapped[int] = mapped_column(Id, ForeignKey("library_materials.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(Id, ForeignKey("store_staff.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id", ondelete="SET NULL"))
    group_id: Mapped[int | None] = mapped_column(Id, ForeignKey("group_chats.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)
