"""In/Out shapes for channels and costs."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yutang.kit.fields import NonNegative, Patch


class ChannelKind(StrEnum):
    """Kinds of touchpoint a brand runs."""

    WECHAT_SERVICE_ACCOUNT = "wechat_service_account"
    WECHAT_SUBSCRIPTION_ACCOUNT = "wechat_subscription_account"
    MINI_PROGRAM = "mini_program"
    WECOM_STAFF = "wecom_staff"
    CUSTOMER_GROUP = "customer_group"
    APP = "app"
    STORE = "store"
    TMALL_SHOP = "tmall_shop"
    JD_SHOP = "jd_shop"
    DOUYIN_SHOP = "douyin_shop"
    PAID_ADS = "paid_ads"
    OTHER = "other"


class ChannelRole(StrEnum):
    """A pool is primary (where the relationship lives) or auxiliary (feeds the primary)."""

    PRIMARY = "primary"
    AUXILIARY = "auxiliary"


class TrafficDomain(StrEnum):
    """Public (platform-rented), commercial (paid) or private (owned) traffic."""

    PUBLIC = "public"
    COMMERCIAL = "commercial"
    PRIVATE = "private"


DEFAULT_DOMAIN: dict[ChannelKind, TrafficDomain] = {
    ChannelKind.TMALL_SHOP: TrafficDomain.PUBLIC,
    ChannelKind.JD_SHOP: TrafficDomain.PUBLIC,
    ChannelKind.DOUYIN_SHOP: TrafficDomain.PUBLIC,
    ChannelKind.PAID_ADS: TrafficDomain.COMMERCIAL,
}
MARKETPLACE_KINDS = {ChannelKind.TMALL_SHOP, ChannelKind.JD_SHOP, ChannelKind.DOUYIN_SHOP}


class ChannelIn(BaseModel):
    """A new channel."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="stable short name, e.g. 'tmall-flagship'")
    name: str = Field(min_length=1, max_length=200)
    kind: ChannelKind
    role: ChannelRole = ChannelRole.AUXILIARY
    domain: TrafficDomain | None = Field(
        default=None, description="default: by kind (marketplaces public, ads commercial, else private)")
    external_id: str | None = Field(default=None, max_length=128, description="appid, corp id, shop id …")
    config: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _default_domain(self):
        if self.domain is None:
            self.domain = DEFAULT_DOMAIN.get(self.kind, TrafficDomain.PRIVATE)
        return self


class ChannelPatch(Patch):
    """Changes to a channel; only external_id may be cleared with null."""

    name: str = Field(default=None, min_length=1, max_length=200)
    role: ChannelRole = None
    domain: TrafficDomain = None
    external_id: str | None = Field(default=None, max_length=128)
    active: bool = None
    config: dict[str, Any] = None


class ChannelOut(BaseModel):
    """A channel as the API shows it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    kind: ChannelKind
    role: ChannelRole
    domain: TrafficDomain
    external_id: str | None
    config: dict[str, Any]
    active: bool
    created_at: datetime


class ChannelCostIn(BaseModel):
    """Spend on a channel over a period, in fen."""

    period_start: date
    period_end: date
    amount_fen: NonNegative
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _ordered(self):
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class ChannelCostOut(ChannelCostIn):
    """A cost entry as the API shows it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    channel_id: int
    created_at: datetime
