"""In/Out shapes for customer groups, group QR codes and group health."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from yutang.kit.fields import Id, NonNegative, Patch, Text

# WeCom's limit on a join way (群活码): at most five groups behind one code.
MAX_CODE_GROUPS = 5
# WeCom's limit on one send to customer groups (chat_id_list), and how many it takes a group a day.
MAX_SEND_GROUPS = 2000
SENDS_PER_GROUP_PER_DAY = 1
# Customers see at most three of a company's Moments posts a day: Yutang creates no more than that a local day.
MOMENTS_PER_DAY = 3


class GroupSyncIn(BaseModel):
    """Which WeCom configuration to pull customer groups from."""

    config_id: Id
    page_size: int = Field(1000, ge=1, le=1000, description="groups per groupchat/list page")


class GroupSyncOut(BaseModel):
    """What a sync found: groups read, members who joined and who left since the last look."""

    groups: int
    joined: int
    left: int


class GroupOut(BaseModel):
    """A customer group."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    chat_id: str
    name: str
    owner_userid: str
    owner_staff_id: int | None
    notice: str | None
    admin_userids: list[str]
    opened_at: datetime | None
    dismissed_at: datetime | None
    members: int = 0


class MemberOut(BaseModel):
    """Someone in a group."""

    model_config = ConfigDict(from_attributes=True)

    userid: str
    external: bool
    customer_id: int | None
    staff_id: int | None
    join_scene: int | None
    state: str | None
    joined_at: datetime | None
    left_at: datetime | None


class CustomerGroupOut(BaseModel):
    """One of a customer's groups, for the archive."""

    group_id: int
    name: str
    joined_at: datetime | None
    left_at: datetime | None


class GroupCodeIn(BaseModel):
    """A group QR code over up to five groups; `state` names the source (poster, store, campaign)."""

    config_id: Id
    name: Text = Field(min_length=1, max_length=100)
    state: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,30}$", description="WeCom's state, ≤ 30 characters")
    group_ids: list[Id] = Field(min_length=1)
    auto_create_room: bool = True
    room_base_name: Text | None = Field(None, max_length=40)
    room_base_id: int = Field(1, ge=1, le=10_000)
    welcome_text: Text | None = Field(None, min_length=1, max_length=1000,
                                      description="a group welcome for who joins through the code")
    adopt_config_id: str | None = Field(None, min_length=1, max_length=64,
                                        description="a join way made in WeCom's admin already, adopted (not created)")
    adopt_qr_url: str | None = Field(None, min_length=1, max_length=500, description="its qr_code URL")


class GroupCodeOut(BaseModel):
    """A group QR code."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    state: str
    chat_ids: list[str]
    auto_create_room: bool
    room_base_name: str | None
    room_base_id: int
    wecom_config_id: str
    qr_url: str | None
    welcome_text: str | None = None
    welcome_template_id: str | None = None
    deleted_at: datetime | None
    created_at: datetime


class GroupCodeStatsOut(BaseModel):
    """Joins and quits through one code (members whose join state is the code's), and conversions: customers who
    joined through it and paid an order afterwards, and what those orders came to."""

    code_id: int
    joins: int
    quits: int
    staying: int
    converted: int = Field(0, description="customers who joined through the code and later paid an order")
    gmv_fen: int = Field(0, description="their purchases paid since joining, fen paid less refunded")


class StatsPullIn(BaseModel):
    """Which days to pull WeCom's group statistics (groupchat/statistic) for."""

    config_id: Id
    start: date
    end: date


class HealthOut(BaseModel):
    """One group's (or owner's) health: members, joins and quits over the window, who spoke, and the flag."""

    group_id: int | None = None
    owner_userid: str
    name: str = ""
    members: int
    joins_30d: int
    quits_30d: int
    messages_30d: int
    spoke_7d: float = Field(description="share of members who spoke in the last 7 days")
    spoke_30d: float = Field(description="share of members who spoke in the last 30 days")
    silent: bool


class StatsPullOut(BaseModel):
    """What a statistics pull stored."""

    owners: int
    days: int
    rows: int


class ActivityIn(BaseModel):
    """One group's talk on one day: how many messages, and the user ids of the members who spoke."""

    day: date
    messages: int = Field(ge=0, le=1_000_000)
    speakers: list[Text] = Field(default_factory=list, max_length=2000)


class ActivityOut(BaseModel):
    """A group's recorded day."""

    model_config = ConfigDict(from_attributes=True)

    group_id: int
    day: date
    messages: int
    speakers: int


class OwnerHealthOut(BaseModel):
    """One owner's groups: sums of their health, and WeCom's statistics over 30 days."""

    owner_userid: str
    groups: int = 0
    members: int = 0
    joins_30d: int = 0
    quits_30d: int = 0
    silent_groups: int = 0
    wecom_messages_30d: int = 0
    wecom_member_total: int = 0
    wecom_speakers_per_day: float = 0.0


class GroupSendIn(BaseModel):
    """A message to customer groups of one owner, which the owner confirms in WeCom by `send_at` (now by default)."""

    config_id: Id
    group_ids: list[Id] = Field(min_length=1, max_length=MAX_SEND_GROUPS)
    text: Text | None = Field(None, min_length=1, max_length=4000)
    material_id: Id | None = Field(None, description="a library material sent instead of text")
    send_at: datetime | None = Field(None, description="when the owner should confirm it (a staff task due then)")


class GroupSendOut(BaseModel):
    """A group send and what WeCom said: waiting for the owner, sent, and each group's result."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_userid: str
    owner_staff_id: int | None
    group_ids: list[int]
    text: str
    send_at: datetime
    status: str
    msgid: str
    task_id: int | None
    confirmed_at: datetime | None
    results: dict[str, str] = Field(description="per group id: waiting, sent, or already_received (WeCom's cap)")
    created_at: datetime


class MomentIn(BaseModel):
    """A Moments post: text and an optional link, for chosen staff to publish to customers with chosen WeCom tags."""

    config_id: Id
    text: Text | None = Field(None, min_length=1, max_length=2000)
    material_id: Id | None = Field(None, description="a library material (text script or link) instead of text "
                                                     "and link")
    link_title: Text | None = Field(None, min_length=1, max_length=64)
    link_url: str | None = Field(None, pattern=r"^https?://\S{1,490}$")
    staff_userids: list[Text] = Field(min_length=1, max_length=1000, description="WeCom user ids of the publishers")
    tag_ids: list[Text] = Field(default_factory=list, max_length=100,
                                description="WeCom customer tag ids who see it (none: all their customers)")


class MomentOut(BaseModel):
    """A Moments post and WeCom's answer: per staff member published or not, comments and likes."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    text: str
    link_title: str | None
    link_url: str | None
    staff_userids: list[str]
    tag_ids: list[str]
    jobid: str
    status: str = Field(description="creating (WeCom's job runs), created, failed")
    moment_id: str | None
    invalid: dict = Field(description="senders and tags WeCom found invalid")
    results: dict = Field(description="per staff user id: published, comments, likes")
    created_at: datetime


MaterialKind = Literal["text", "image", "link", "product", "miniprogram"]
Url = Annotated[str, Field(pattern=r"^https?://\S{1,490}$")]
Tag = Annotated[Text, Field(min_length=1, max_length=30)]


class FolderIn(BaseModel):
    """A folder of the library."""

    name: Text = Field(min_length=1, max_length=60)
    position: NonNegative = 0


class FolderOut(BaseModel):
    """A folder and how many live materials it holds."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    position: int
    materials: int = 0


class MaterialIn(BaseModel):
    """A material or script. What a kind needs: text a `text`; image an `image_url`; link a `url`; product a `url`
    and `price_fen`; miniprogram an `appid` and `page`."""

    folder_id: Id | None = None
    kind: MaterialKind
    title: Text = Field(min_length=1, max_length=100)
    text: Text | None = Field(None, min_length=1, max_length=4000, description="the script, or a caption")
    url: Url | None = None
    image_url: Url | None = None
    description: Text | None = Field(None, max_length=500)
    price_fen: NonNegative | None = None
    appid: Text | None = Field(None, pattern=r"^wx[0-9a-zA-Z]{1,62}$")
    page: Text | None = Field(None, min_length=1, max_length=500)
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class MaterialPatch(Patch):
    """Change a material: folder, title, content, tags."""

    folder_id: Id | None = None
    title: Text = Field(None, min_length=1, max_length=100)
    text: Text | None = Field(None, min_length=1, max_length=4000)
    url: Url | None = None
    image_url: Url | None = None
    description: Text | None = Field(None, max_length=500)
    price_fen: NonNegative | None = None
    appid: Text | None = Field(None, pattern=r"^wx[0-9a-zA-Z]{1,62}$")
    page: Text | None = Field(None, min_length=1, max_length=500)
    tags: list[Tag] = Field(None, max_length=20)


class MaterialOut(BaseModel):
    """A material of the library."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    folder_id: int | None
    kind: str
    title: str
    text: str | None
    url: str | None
    image_url: str | None
    description: str | None
    price_fen: int | None
    appid: str | None
    page: str | None
    tags: list[str]
    archived_at: datetime | None
    created_at: datetime


UseChannel = Literal["inbox", "workbench", "group_send", "moment", "other"]


class UseIn(BaseModel):
    """A use of a material by a staff member (the caller's own staff record by default) to customers or groups."""

    staff_id: Id | None = None
    customer_ids: list[Id] = Field(default_factory=list, max_length=1000)
    group_ids: list[Id] = Field(default_factory=list, max_length=1000)
    channel: UseChannel = "other"


class UseOut(BaseModel):
    """How many use records were written."""

    uses: int


class UseReportOut(BaseModel):
    """One material's uses by one staff member, and what followed: customers who wrote in within 24 hours of a
    use, and customers who paid an order within 7 days (and what those orders came to)."""

    material_id: int
    title: str
    kind: str
    staff_id: int | None
    staff_name: str | None
    uses: int
    customers: int = Field(description="customers reached (in a group: its members at the time)")
    replied: int = Field(description="customers who wrote in within 24 h of a use to them (not counted for groups)")
    ordered: int = Field(description="customers who paid an order within 7 days of a use")
    order_fen: int = Field(description="those orders, paid less refunded, in fen")
