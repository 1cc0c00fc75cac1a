"""In/Out shapes for customers, identities, memberships, consents and notes."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yutang.kit.fields import Id


class IdentityKind(StrEnum):
    """The identifiers OneID matches on."""

    PHONE = "phone"
    EMAIL = "email"
    WECHAT_OPENID = "wechat_openid"
    WECHAT_UNIONID = "wechat_unionid"
    WECOM_EXTERNAL_USERID = "wecom_external_userid"
    APP_USER_ID = "app_user_id"
    MARKETPLACE_BUYER = "marketplace_buyer"
    ANONYMOUS_ID = "anonymous_id"  # a device / browser id from event tracking (Segment anonymousId)


# Kinds whose values are per-app or per-shop and so need a namespace (the appid or the shop's channel code).
NAMESPACED = {IdentityKind.WECHAT_OPENID, IdentityKind.MARKETPLACE_BUYER}
# Kinds holding personal data: matched by keyed HMAC, shown masked.
PERSONAL = {IdentityKind.PHONE, IdentityKind.EMAIL}
# A person to create in bulk from event traffic: their (app user id / anonymous id) identities, first seen at.
NewPerson = tuple[list[tuple[IdentityKind, str]], datetime]


class ConsentChannel(StrEnum):
    """What a consent is for: a contact channel, or personalised marketing as a whole."""

    SMS = "sms"
    EMAIL = "email"
    PHONE_CALL = "phone_call"
    WECHAT = "wechat"
    WECOM = "wecom"
    APP_PUSH = "app_push"
    PERSONALISED_MARKETING = "personalised_marketing"


class ConsentStatus(StrEnum):
    """Granted or withdrawn."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class Gender(StrEnum):
    """As the customer gave it."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class IdentityIn(BaseModel):
    """An identifier for a customer; namespace is the appid for openids, the shop channel code for buyers."""

    kind: IdentityKind
    value: str = Field(min_length=1, max_length=320)
    namespace: str = Field(default="", max_length=128)

    @model_validator(mode="after")
    def _namespace(self):
        if self.kind in NAMESPACED and not self.namespace:
            raise ValueError(f"{self.kind.value} needs a namespace (the appid or shop channel code)")
        if self.kind not in NAMESPACED:
            self.namespace = ""
        self.value = self.value.strip()
        return self


class CustomerFields(BaseModel):
    """Profile fields shared by create and update."""

    name: str | None = Field(default=None, max_length=200)
    gender: Gender | None = None
    birthday: date | None = None
    province: str | None = Field(default=None, max_length=64)
    city: str | None = Field(default=None, max_length=64)
    attributes: dict[str, Any] | None = None


class CustomerIn(CustomerFields):
    """Create or upsert a customer by any of their identities (OneID)."""

    identities: list[IdentityIn] = Field(default_factory=list)
    first_channel: str | None = Field(default=None, description="channel code of first touch")
    source_campaign: str | None = Field(default=None, max_length=200)
    first_seen_at: datetime | None = None
    assigned_member_id: Id | None = None

    @field_validator("identities")
    @classmethod
    def _some(cls, value: list[IdentityIn]) -> list[IdentityIn]:
        if not value:
            raise ValueError("at least one identity is needed to recognise the customer")
        return value


class CustomerPatch(CustomerFields):
    """Change profile fields or the assigned guide."""

    assigned_member_id: Id | None = None
    source_campaign: str | None = Field(default=None, max_length=200)


class IdentityOut(BaseModel):
    """An identity as shown to the caller (masked when their role may not see personal data)."""

    id: int
    kind: IdentityKind
    namespace: str
    value: str
    created_at: datetime


class CustomerOut(BaseModel):
    """A customer as the API shows it."""

    id: int
    status: str
    name: str | None
    gender: str | None
    birthday: date | None
    province: str | None
    city: str | None
    attributes: dict[str, Any]
    first_channel_id: int | None
    source_campaign: str | None
    first_seen_at: datetime | None
    assigned_member_id: int | None
    refuses_personalised: bool
    merged_into_id: int | None
    created_at: datetime
    identities: list[IdentityOut] = Field(default_factory=list)


class MembershipOut(BaseModel):
    """A customer's presence in a channel."""

    model_config = ConfigDict(from_attributes=True)
    channel_id: int
    joined_at: datetime
    left_at: datetime | None


class MembershipIn(BaseModel):
    """The customer joined (followed, added the WeCom contact, entered a group) or left a channel."""

    channel: str = Field(description="channel code")
    joined: bool = True
    at: datetime | None = None


class ConsentIn(BaseModel):
    """A consent decision to append to the ledger."""

    channel: ConsentChannel
    status: ConsentStatus
    method: str = Field(min_length=1, max_length=64, description="how it was given, e.g. 'mini program checkbox'")
    source: str | None = Field(default=None, max_length=200)
    occurred_at: datetime | None = None


class ConsentOut(BaseModel):
    """One ledger entry."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    channel: ConsentChannel
    status: ConsentStatus
    method: str
    source: str | None
    occurred_at: datetime
    member_id: int | None


class NoteIn(BaseModel):
    """A note to add."""

    body: str = Field(min_length=1, max_length=10_000)


class NoteOut(BaseModel):
    """A note as shown."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    member_id: int | None
    body: str
    created_at: datetime


class MergeOut(BaseModel):
    """A merge in a customer's history."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    winner_id: int
    loser_id: int
    reason: str
    member_id: int | None
    moved: dict[str, Any]
    created_at: datetime
