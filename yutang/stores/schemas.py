"""In/Out shapes for stores and staff."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from yutang.kit.fields import Id, Patch, Text

STORE_CODE = r"^[a-z0-9][a-z0-9_-]{0,47}$"


class StoreIn(BaseModel):
    """A new store; it becomes the acquisition channel `store.<code>` unless `channel` names one to adopt."""

    code: str = Field(pattern=STORE_CODE, description="stable short name, e.g. 'sh-jingan'")
    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(None, max_length=500)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    region: str | None = Field(None, min_length=1, max_length=64)
    opening_hours: str | None = Field(None, max_length=200, description="e.g. '10:00-22:00'")
    manager_member_id: Id | None = None
    channel: str | None = Field(None, max_length=64, description="an existing channel's code to adopt")


class StorePatch(Patch):
    """Change a store."""

    name: str = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, max_length=500)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    region: str | None = Field(None, min_length=1, max_length=64)
    opening_hours: str | None = Field(None, max_length=200)
    manager_member_id: Id | None = None
    active: bool = Field(None)


class StoreOut(BaseModel):
    """A store."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    address: str | None
    latitude: float | None
    longitude: float | None
    region: str | None
    opening_hours: str | None
    manager_member_id: int | None
    channel_id: int
    active: bool
    created_at: datetime


class StaffIn(BaseModel):
    """A staff member joining: their workspace member, WeCom user id, and store (or region, for region managers)."""

    name: str = Field(min_length=1, max_length=100)
    member_id: Id | None = None
    wecom_userid: str | None = Field(None, min_length=1, max_length=64)
    store_id: Id | None = None
    region: str | None = Field(None, min_length=1, max_length=64)
    joined_on: date | None = None


class StaffPatch(Patch):
    """Move a staff member or correct their links."""

    name: str = Field(None, min_length=1, max_length=100)
    member_id: Id | None = None
    wecom_userid: str | None = Field(None, min_length=1, max_length=64)
    store_id: Id | None = None
    region: str | None = Field(None, min_length=1, max_length=64)


class StaffSyncIn(BaseModel):
    """Read WeCom's members who may have customers; those without a staff record join `store_id` if given."""

    config_id: Id
    store_id: Id | None = None


class StaffSyncOut(BaseModel):
    """What the WeCom member list held: members added as staff, and staff WeCom no longer lists."""

    found: int
    added: list[str]
    missing: list[str]


class StaffLeave(BaseModel):
    """A staff member leaving."""

    left_on: date | None = None


class StaffOut(BaseModel):
    """A staff member."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    member_id: int | None
    wecom_userid: str | None
    store_id: int | None
    region: str | None
    joined_on: date
    left_on: date | None
    persona_id: int | None = Field(None, description="the persona they work behind, if any")
    created_at: datetime


class OwnershipRule(StrEnum):
    """How a customer added by staff gets an owner."""

    FIRST_ADD_WINS = "first_add_wins"  # the first staff member to add them owns them until handed over
    STORE_ASSIGNMENT = "store_assignment"  # they belong to the store they were added in; a new store takes them
    # over once the protection period has passed


class OwnershipReason(StrEnum):
    """Why an owner changed."""

    FIRST_ADD = "first_add"
    STORE_ASSIGNMENT = "store_assignment"
    RULE = "rule"
    MANUAL = "manual"
    HANDOVER = "handover"


class OwnershipSettingsIn(BaseModel):
    """The ownership rule and the protection period, in days (0: none)."""

    rule: OwnershipRule = OwnershipRule.FIRST_ADD_WINS
    protection_days: int = Field(30, ge=0, le=3650)


class OwnershipSettingsOut(OwnershipSettingsIn):
    """The workspace's ownership settings."""


class ClaimIn(BaseModel):
    """A staff member added the customer (in a store): the rule decides who owns them."""

    member_id: Id
    store_id: Id | None = None


class ReassignIn(BaseModel):
    """Give the customer to another owner by hand (null: release them)."""

    member_id: Id | None
    note: str | None = Field(None, max_length=500)


class OwnershipChangeOut(BaseModel):
    """One change of owner."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    from_member_id: int | None
    to_member_id: int | None
    store_id: int | None
    reason: str
    note: str | None
    by_member_id: int | None
    changed_at: datetime


class OwnerOut(BaseModel):
    """A customer's owner, store, protection and history (newest first)."""

    customer_id: int
    member_id: int | None
    store_id: int | None
    since: datetime | None
    protected_until: datetime | None
    reason: str | None
    outcome: str | None = Field(None, description="for a claim: owned, kept, protected or moved")
    history: list[OwnershipChangeOut]


class CodeKind(StrEnum):
    """What a channel QR code is for."""

    CHANNEL = "channel"
    STORE = "store"
    GUIDE = "guide"
    CAMPAIGN = "campaign"


class CodeIn(BaseModel):
    """A new channel QR code: its `code` is the WeCom `state` (≤ 30 characters) an add through it carries."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,29}$", description="the WeCom state, ≤ 30 characters")
    name: str = Field(min_length=1, max_length=100)
    kind: CodeKind
    config_id: Id = Field(description="the WeCom messaging channel configuration")
    channel: str | None = Field(None, max_length=64, description="acquisition channel code (default: the store's)")
    store_id: Id | None = None
    campaign: str | None = Field(None, min_length=1, max_length=100)
    staff_ids: list[Id] = Field(min_length=1, max_length=100, description="one, or several in rotation (multi)")
    multi: bool = False
    skip_verify: bool = True
    welcome_text: str | None = Field(None, min_length=1, max_length=1000)
    tag_ids: list[Id] = Field(default_factory=list, max_length=20)
    adopt_config_id: str | None = Field(None, min_length=1, max_length=64,
                                        description="an existing contact way's config_id to adopt (not created)")
    adopt_qr_url: str | None = Field(None, min_length=1, max_length=500, description="its qr_code URL")


class CodePatch(Patch):
    """Change a code's staff, verification, welcome message or tags (the QR image stays the same)."""

    name: str = Field(None, min_length=1, max_length=100)
    staff_ids: list[Id] = Field(None, min_length=1, max_length=100)
    skip_verify: bool = Field(None)
    welcome_text: str | None = Field(None, min_length=1, max_length=1000)
    tag_ids: list[Id] = Field(None, max_length=20)


class CodeOut(BaseModel):
    """A channel QR code."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    messaging_config_id: int
    channel_id: int
    store_id: int | None
    campaign: str | None
    staff_ids: list[int]
    multi: bool
    skip_verify: bool
    welcome_text: str | None
    tag_ids: list[int]
    wecom_config_id: str | None
    qr_url: str | None
    deleted_at: datetime | None
    created_at: datetime


class CodeStatsOut(BaseModel):
    """Adds through a code, how many deleted the staff member since, and how many bought after adding."""

    code_id: int
    adds: int
    deletions: int
    retained: int
    conversions: int
    conversion_rate: float


class HandoverIn(BaseModel):
    """Hand a staff member's customers (all they own, or those listed) to another staff member."""

    config_id: Id = Field(description="the WeCom messaging channel configuration")
    from_staff_id: Id
    to_staff_id: Id
    customer_ids: list[Id] | None = Field(None, max_length=10_000)
    message: str | None = Field(None, min_length=1, max_length=200,
                                description="sent to each customer of a staff member still employed")
    send: bool = Field(True, description="false: plan it (who goes, who cannot) and send later")


class HandoverItemOut(BaseModel):
    """One customer of a hand-over."""

    model_config = ConfigDict(from_attributes=True)

    customer_id: int
    external_userid: str | None
    status: str
    errcode: int | None
    settled_at: datetime | None


class HandoverOut(BaseModel):
    """A hand-over with its per-status counts and loss rate."""

    id: int
    kind: str
    from_staff_id: int
    to_staff_id: int
    message: str | None
    status: str
    created_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    loss_rate: float = Field(description="refused, receiver-at-limit and failed over the customers sent to WeCom")
    items: list[HandoverItemOut] | None = None


class TaskKind(StrEnum):
    """What a staff task asks for; group sends are made through the send operation."""

    FOLLOW_UP = "follow_up"
    CALL = "call"
    VISIT = "visit"
    GROUP_SEND = "group_send"


class TaskStatus(StrEnum):
    """open: to do; waiting: a group send waits for the staff member's confirmation in WeCom; done; cancelled."""

    OPEN = "open"
    WAITING = "waiting"
    DONE = "done"
    CANCELLED = "cancelled"


SOURCE_KEY = r"^[A-Za-z0-9][A-Za-z0-9:._/-]{0,127}$"


class TaskIn(BaseModel):
    """A follow-up task (跟进任务) for a staff member, about a customer or not."""

    staff_id: Id | None = Field(None, description="the staff member who must do it (default: the caller)")
    customer_id: Id | None = None
    kind: TaskKind = TaskKind.FOLLOW_UP
    title: Text = Field(min_length=1, max_length=200)
    note: Text | None = Field(None, max_length=1000)
    due_at: datetime
    remind_at: datetime | None = None
    source_key: str | None = Field(None, pattern=SOURCE_KEY,
                                   description="creating again with the same key returns the first task")


class GroupSendIn(BaseModel):
    """A WeCom group send the staff member confirms in the app (add_msg_template), tracked as a task."""

    config_id: Id = Field(description="the WeCom messaging channel configuration")
    staff_id: Id | None = Field(None, description="the sender (default: the caller)")
    customer_ids: list[Id] = Field(min_length=1, max_length=10_000)
    text: Text = Field(min_length=1, max_length=1000)
    due_at: datetime | None = Field(None, description="confirm by then, or it is late (default: in 24 hours)")
    source_key: str | None = Field(None, pattern=SOURCE_KEY)


class TaskOut(BaseModel):
    """A staff task; a group send with its recipients' counts per status."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    staff_id: int
    customer_id: int | None
    kind: str
    title: str
    note: str | None
    due_at: datetime
    remind_at: datetime | None
    reminded: bool
    status: str
    done_at: datetime | None
    late: bool
    source_key: str | None
    msgid: str | None
    persona_id: int | None = Field(None, description="the persona it was done in the name of")
    created_at: datetime
    counts: dict[str, int] | None = None


class BehaviorSyncIn(BaseModel):
    """Fetch WeCom's contact statistics of one past day for every current staff member (default: yesterday)."""

    config_id: Id = Field(description="the WeCom messaging channel configuration")
    day: date | None = None
    refresh: bool = Field(False, description="fetch again the guides whose day is stored already")


class BehaviorSyncOut(BaseModel):
    """How many guides' days were fetched, already stored, or refused by WeCom (errcode per user id)."""

    day: date
    fetched: int
    skipped: int
    failed: dict[str, str]


class KpiGroup(StrEnum):
    """What the figures are per."""

    GUIDE = "guide"
    STORE = "store"
    REGION = "region"


class KpiMetric(StrEnum):
    """A figure a leaderboard ranks by."""

    OWNED_CUSTOMERS = "owned_customers"
    NEW_ADDS = "new_adds"
    LOST_CUSTOMERS = "lost_customers"
    CHATS = "chats"
    REPLY_RATE = "reply_rate"
    GMV_FEN = "gmv_fen"
    REPURCHASE_RATE = "repurchase_rate"
    TASKS_DONE = "tasks_done"


class KpiRow(BaseModel):
    """One guide's, store's or region's figures over the period, and its place on the leaderboard."""

    rank: int
    key: str = Field(description="the staff id, store id or region name")
    name: str
    store_id: int | None = None
    region: str | None = None
    guides: int
    owned_customers: int = Field(description="customers they own now")
    new_adds: int = Field(description="new WeCom contacts (get_user_behavior_data new_contact_cnt)")
    lost_customers: int = Field(description="customers who deleted or blocked them (negative_feedback_cnt)")
    chats: int
    reply_rate: float | None = Field(description="replied chats over chats, 0-1, weighted by chats")
    avg_reply_minutes: float | None = Field(description="average first-reply time, weighted by chats")
    gmv_fen: int = Field(description="spend of owned customers' purchases paid in the period")
    repurchase_rate: float | None = Field(description="owned customers with 2+ purchases over those with 1+")
    tasks_done: int
    tasks_late: int
    handover_loss_rate: float | None = Field(description="lost over sent customers of hand-overs started from them")
    target_new_adds: int | None = Field(None, description="monthly new-add targets prorated to the period's days")
    target_gmv_fen: int | None = Field(None, description="monthly GMV targets (fen) prorated to the period's days")
    new_adds_attainment: float | None = Field(None, description="new adds over their target")
    gmv_attainment: float | None = Field(None, description="GMV over its target")


class KpisOut(BaseModel):
    """Figures per guide, store or region over local days since..until (inclusive), ranked."""

    since: date
    until: date
    group_by: KpiGroup
    rank_by: KpiMetric
    rows: list[KpiRow]


MONTH = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"


class TargetIn(BaseModel):
    """A guide's targets for one month; null leaves that target unset."""

    staff_id: Id
    month: str = Field(pattern=MONTH, description="YYYY-MM")
    new_adds: int | None = Field(None, ge=0, le=1_000_000)
    gmv_fen: int | None = Field(None, ge=0, le=10**13, description="attributed GMV in fen")


class TargetOut(BaseModel):
    """A guide's targets for a month."""

    staff_id: int
    name: str
    month: str
    new_adds: int | None
    gmv_fen: int | None
    updated_at: datetime


class PersonaIn(BaseModel):
    """A persona account: the name, avatar and WeCom face customers see, and the staff working behind it."""

    name: str = Field(min_length=1, max_length=100)
    avatar_url: str | None = Field(None, max_length=500, pattern=r"^https?://")
    wecom_alias: str | None = Field(None, max_length=64, description="WeCom member alias")
    external_position: str | None = Field(None, max_length=64, description="the title customers see (对外职务)")
    external_profile: dict | None = Field(None, description="WeCom external_profile (external_attr, corp name)")
    staff_ids: list[Id] = Field(default_factory=list, max_length=200)


class PersonaPatch(Patch):
    """Change a persona; `staff_ids` replaces the staff behind it."""

    name: str = Field(None, min_length=1, max_length=100)
    avatar_url: str | None = Field(None, max_length=500, pattern=r"^https?://")
    wecom_alias: str | None = Field(None, max_length=64)
    external_position: str | None = Field(None, max_length=64)
    external_profile: dict | None = None
    staff_ids: list[Id] = Field(None, max_length=200)
    active: bool = None


class PersonaOut(BaseModel):
    """A persona and the staff behind it."""

    id: int
    name: str
    avatar_url: str | None
    wecom_alias: str | None
    external_position: str | None
    external_profile: dict | None
    active: bool
    staff_ids: list[int]
    created_at: datetime


class PersonaActionOut(BaseModel):
    """Something done in a persona's name, with the real staff member who did it."""

    at: datetime
    action: str
    staff_id: int | None
    staff_name: str | None
    member_id: int | None
    task_id: int | None
    customer_id: int | None
