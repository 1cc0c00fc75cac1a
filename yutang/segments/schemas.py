"""In/Out shapes for segments, previews, explanations and members."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yutang.kit.fields import Id, NonNegative

RULE_DOC = ("A rule tree: {\"all\": [...]}, {\"any\": [...]}, {\"not\": {...}} or a condition with a \"type\" "
            "(attribute, identity, tag, channel, consent, event, order, bought, lifecycle_stage, rfm_class, "
            "customer_value); see docs/segments.md.")


def rule_field(**kwargs):
    """The rule body field, documented once."""
    return Field(description=RULE_DOC, json_schema_extra={"type": "object"}, **kwargs)


class SegmentIn(BaseModel):
    """A new segment: dynamic needs a rule; static takes a rule snapshot and / or picked customer ids."""

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    kind: Literal["dynamic", "static"] = "dynamic"
    rule: dict[str, Any] | None = rule_field(default=None)
    customer_ids: list[Id] = Field(default_factory=list, max_length=10000,
                                    description="static segments: customers picked by id")
    tag_id: Id | None = Field(default=None, description="auto-tag: added on entry, removed on exit")


class SegmentPatch(BaseModel):
    """Changes to a segment; a new rule on a dynamic segment rebuilds its membership."""

    name: str = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    rule: dict[str, Any] | None = rule_field(default=None)
    tag_id: NonNegative | None = Field(default=None, description="0 removes the auto-tag")


class DuplicateIn(BaseModel):
    """The name of a segment's copy."""

    name: str = Field(min_length=1, max_length=100)


class SegmentOut(BaseModel):
    """A segment with its member count."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str | None
    kind: str
    rule: dict[str, Any] | None
    tag_id: int | None
    created_at: datetime
    updated_at: datetime | None
    rebuilt_at: datetime | None
    member_count: int = 0


class PreviewIn(BaseModel):
    """A rule to try without saving it."""

    rule: dict[str, Any] = rule_field()
    sample_size: int = Field(default=20, ge=0, le=200)


class ChannelCount(BaseModel):
    """Members per channel."""

    channel_id: int | None
    customers: int


class PreviewOut(BaseModel):
    """How many match now, some of them, and how they spread over channels."""

    count: int
    sample: list[int]
    by_channel: list[ChannelCount] = Field(description="current channel memberships of the matching customers")
    by_first_channel: list[ChannelCount] = Field(description="first-touch channel of the matching customers")


class ExplainNode(BaseModel):
    """One node of the rule for one customer: whether it held and, for conditions, the observed value."""

    path: str
    node: str
    held: bool
    condition: dict[str, Any] | None = None
    observed: Any = None
    children: list["ExplainNode"] = Field(default_factory=list)


class ExplainOut(BaseModel):
    """Why a customer is or is not in a segment."""

    segment_id: int
    customer_id: int
    active: bool
    matches: bool = Field(description="the rule holds now (active customers only)")
    member: bool = Field(description="in the materialised membership")
    tree: ExplainNode | None


class MemberOut(BaseModel):
    """A customer in a segment, and since when (dynamic segments)."""

    customer_id: int
    entered_at: datetime | None = None


class MembersIn(BaseModel):
    """Customers to add to a static segment."""

    customer_ids: list[Id] = Field(min_length=1, max_length=10000)


class RebuildOut(BaseModel):
    """What a rebuild changed."""

    members: int
    entered: int
    exited: int


class StaticImportOut(BaseModel):
    """A CSV of identities added to a static segment."""

    added: int
    matched: int
    unmatched_lines: list[int]
