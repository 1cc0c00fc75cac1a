"""The segment rule language: a JSON tree of all / any / not over typed conditions, parsed with field paths.

A rule is either a combinator — {"all": [...]}, {"any": [...]}, {"not": {...}} — or a condition with a "type".
parse_rule() turns JSON into these models and reports every fault with the path of the node at fault, e.g.
`rule.all[2].any[0].window.days`, so the API can answer with problem+json naming it.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from yutang.kit.errors import FieldError, Invalid

MAX_CONDITIONS = 50
MAX_DEPTH = 8

LIFECYCLE_STAGES = ("prospect", "new", "repeat", "loyal", "at_risk", "dormant", "churned")
RFM_CLASSES = ("important_value", "important_development", "important_retention", "important_recovery",
               "general_value", "general_development", "general_retention", "general_recovery")
IDENTITY_KINDS = ("phone", "email", "wechat_openid", "wechat_unionid", "wecom_external_userid", "app_user_id",
                  "marketplace_buyer", "anonymous_id")
CONSENT_CHANNELS = ("sms", "email", "phone_call", "wechat", "wecom", "app_push", "personalised_marketing")


class Op(StrEnum):
    """Comparisons; `between` takes [low, high] inclusive, `in` / `not_in` a list."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    IN = "in"
    NOT_IN = "not_in"
    IS_SET = "is_set"
    IS_NOT_SET = "is_not_set"


NUMERIC_OPS = (Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN)
Scalar = int | float | str | date | datetime | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Window(_Strict):
    """When events or orders count: the last N days (today included), between two dates, or since the first purchase.

    Days are the workspace's calendar days: `last_days` 7 starts at local midnight six days ago; `between` runs from
    local midnight of `start` to the end of `end`.
    """

    kind: Literal["last_days", "between", "since_first_purchase"]
    days: int | None = Field(default=None, ge=1, le=3650)
    start: date | None = None
    end: date | None = None


class Compare(_Strict):
    """A comparison of the measured value: `op` and `value` (a list for between / in / not_in)."""

    op: Op
    value: Scalar | list[Scalar] | None = None


class AttributeField(StrEnum):
    """Profile attributes the warehouse holds."""

    GENDER = "gender"
    BIRTHDAY = "birthday"
    PROVINCE = "province"
    CITY = "city"
    SOURCE_CAMPAIGN = "source_campaign"
    FIRST_SEEN_AT = "first_seen_at"
    ASSIGNED_MEMBER_ID = "assigned_member_id"
    REFUSES_PERSONALISED = "refuses_personalised"


class AttributeCondition(Compare):
    """A profile attribute compared with a value."""

    type: Literal["attribute"]
    field: AttributeField


class IdentityCondition(_Strict):
    """Has (or has not) an identity of a kind, e.g. a WeCom contact or a phone."""

    type: Literal["identity"]
    kind: Literal[IDENTITY_KINDS]  # type: ignore[valid-type]
    present: bool = True


class TagCondition(_Strict):
    """Carries any / all / none of the tags."""

    type: Literal["tag"]
    tag_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=100)
    match: Literal["any", "all", "none"] = "any"


class ChannelCondition(_Strict):
    """Is a current member of a channel, or first came in through one of the channels."""

    type: Literal["channel"]
    channel_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=100)
    relation: Literal["member", "first_touch"] = "member"


class ConsentCondition(_Strict):
    """The consent in force for a channel: granted, withdrawn, or never asked (`unknown`)."""

    type: Literal["consent"]
    channel: Literal[CONSENT_CHANNELS]  # type: ignore[valid-type]
    status: Literal["granted", "withdrawn", "unknown"] = "granted"


class GroupCondition(_Strict):
    """Is in a WeCom customer group now — in any of `group_ids`, in any group of `owner_userid`, joined in the last
    `joined_within_days` — or (`in_group` false) in no such group; with nothing named, in any group at all."""

    type: Literal["group"]
    in_group: bool = True
    group_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(default=None, min_length=1,
                                                                              max_length=100)
    owner_userid: str | None = Field(default=None, min_length=1, max_length=64)
    joined_within_days: int | None = Field(default=None, ge=1, le=3650)


class EventCondition(Compare):
    """Events of a name in a window: count, first / last time, sum or distinct count of a property."""

    type: Literal["event"]
    event: str = Field(min_length=1, max_length=200)
    measure: Literal["count", "first_time", "last_time", "sum", "distinct"] = "count"
    property: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")
    window: Window | None = None


class OrderCondition(Compare):
    """Purchases (paid, not cancelled or wholly refunded) in a window: count, spend, AOV, first / last purchase."""

    type: Literal["order"]
    measure: Literal["count", "spend", "average_order_value", "first_purchase", "last_purchase"] = "count"
    window: Window | None = None


class BoughtCondition(_Strict):
    """Bought (or did not buy) a SKU or anything in a category, in a window."""

    type: Literal["bought"]
    sku: str | None = Field(default=None, min_length=1, max_length=128)
    category: str | None = Field(default=None, min_length=1, max_length=128)
    did: bool = True
    window: Window | None = None


class LifecycleCondition(_Strict):
    """Lifecycle stage is one of these (customers without a score are prospects)."""

    type: Literal["lifecycle_stage"]
    stages: list[Literal[LIFECYCLE_STAGES]] = Field(min_length=1)  # type: ignore[valid-type]


class RfmCondition(_Strict):
    """RFM class is one of these."""

    type: Literal["rfm_class"]
    classes: list[Literal[RFM_CLASSES]] = Field(min_length=1)  # type: ignore[valid-type]


class ValueCondition(Compare):
    """Historic or predicted customer value in fen (no score counts as 0 historic, unknown predicted)."""

    type: Literal["customer_value"]
    measure: Literal["historic", "predicted"] = "historic"


Condition = Annotated[
    AttributeCondition | IdentityCondition | TagCondition | ChannelCondition | ConsentCondition | GroupCondition
    | EventCondition | OrderCondition | BoughtCondition | LifecycleCondition | RfmCondition | ValueCondition,
    Field(discriminator="type")]
CONDITION_TYPES = ("attribute", "identity", "tag", "channel", "consent", "group", "event", "order", "bought",
                   "lifecycle_stage", "rfm_class", "customer_value")
_CONDITION = TypeAdapter(Condition)


class All(_Strict):
    """Every child holds (an empty list holds for everyone)."""

    all: list["Node"]


class Any_(_Strict):
    """At least one child holds."""

    any: list["Node"] = Field(min_length=1)


class Not(_Strict):
    """The child does not hold."""

    not_: "Node" = Field(alias="not")


Node = (All | Any_ | Not | AttributeCondition | IdentityCondition | TagCondition | ChannelCondition | ConsentCondition
        | GroupCondition | EventCondition | OrderCondition | BoughtCondition | LifecycleCondition | RfmCondition
        | ValueCondition)
All.model_rebuild()
Any_.model_rebuild()
Not.model_rebuild()


def _path(base: str, loc: tuple) -> str:
    text = base
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def parse_rule(data: Any, *, field: str = "rule") -> Node:
    """Parse and check a rule tree; raises Invalid listing every fault with the path of its node."""
    errors: list[FieldError] = []
    counter = [0]
    node = _parse(data, field, 1, errors, counter)
    if counter[0] > MAX_CONDITIONS:
        errors.append(FieldError(field=field, message=f"a rule has at most {MAX_CONDITIONS} conditions"))
    if errors:
        raise Invalid(f"{errors[0].field}: {errors[0].message}", errors)
    return node


def _parse(data: Any, path: str, depth: int, errors: list[FieldError], counter: list[int]) -> Node | None:
    if depth > MAX_DEPTH:
        errors.append(FieldError(field=path, message=f"rules nest at most {MAX_DEPTH} levels deep"))
        return None
    if not isinstance(data, dict):
        errors.append(FieldError(field=path, message="a rule node is an object: all, any, not or a condition"))
        return None
    combinators = [key for key in ("all", "any", "not") if key in data]
    if combinators:
        key = combinators[0]
        if len(data) != 1:
            errors.append(FieldError(field=path, message=f"'{key}' stands alone in its node"))
            return None
        if key == "not":
            child = _parse(data["not"], f"{path}.not", depth + 1, errors, counter)
            return Not(**{"not": child}) if child is not None else None
        children_data = data[key]
        if not isinstance(children_data, list) or (key == "any" and not children_data):
            errors.append(FieldError(field=f"{path}.{key}", message=f"'{key}' takes a list of rule nodes"
                                     + (" (at least one)" if key == "any" else "")))
            return None
        children = [_parse(child, f"{path}.{key}[{i}]", depth + 1, errors, counter)
                    for i, child in enumerate(children_data)]
        if any(child is None for child in children):
            return None
        return All(all=children) if key == "all" else Any_(any=children)
    kind = data.get("type")
    if kind not in CONDITION_TYPES:
        errors.append(FieldError(field=f"{path}.type", message="type must be one of " + ", ".join(CONDITION_TYPES)
                                 + " (or use all / any / not)"))
        return None
    counter[0] += 1
    try:
        condition = _CONDITION.validate_python(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            if loc and loc[0] == kind:
                loc = loc[1:]
            errors.append(FieldError(field=_path(path, loc), message=error["msg"], kind=error["type"],
                                     context=dict(error.get("ctx") or {})))
        return None
    before = len(errors)
    _check(condition, path, errors)
    return condition if len(errors) == before else None


def _check(condition, path: str, errors: list[FieldError]) -> None:
    """What the field types cannot say: operator / value shapes, windows, which measure needs what."""
    window = getattr(condition, "window", None)
    if window is not None:
        if window.kind == "last_days" and window.days is None:
            errors.append(FieldError(field=f"{path}.window.days", message="last_days needs days (1-3650)"))
        if window.kind == "between":
            if window.start is None:
                errors.append(FieldError(field=f"{path}.window.start", message="between needs a start date"))
            if window.end is None:
                errors.append(FieldError(field=f"{path}.window.end", message="between needs an end date"))
            if window.start and window.end and window.end < window.start:
                errors.append(FieldError(field=f"{path}.window.end", message="end is before start"))
        if window.kind != "last_days" and window.days is not None:
            errors.append(FieldError(field=f"{path}.window.days", message=f"days is for last_days, not {window.kind}"))
    if isinstance(condition, EventCondition):
        if condition.measure in ("sum", "distinct") and not condition.property:
            errors.append(FieldError(field=f"{path}.property", message=f"{condition.measure} needs a property"))
        if condition.measure in ("count", "first_time", "last_time") and condition.property:
            errors.append(FieldError(field=f"{path}.property",
                                     message=f"property is for sum and distinct, not {condition.measure}"))
    if isinstance(condition, BoughtCondition) and (condition.sku is None) == (condition.category is None):
        errors.append(FieldError(field=f"{path}.sku", message="give either sku or category"))
    if isinstance(condition, Compare):
        _check_compare(condition, path, errors)


def _kind_of(condition: Compare) -> str:
    """What the compared value is: number, time, date, text or flag."""
    if isinstance(condition, AttributeCondition):
        return {"birthday": "date", "first_seen_at": "time", "assigned_member_id": "number",
                "refuses_personalised": "flag"}.get(condition.field.value, "text")
    if isinstance(condition, EventCondition):
        return "time" if condition.measure in ("first_time", "last_time") else "number"
    if isinstance(condition, OrderCondition):
        return "time" if condition.measure in ("first_purchase", "last_purchase") else "number"
    return "number"


def _check_compare(condition: Compare, path: str, errors: list[FieldError]) -> None:
    op, value, kind = condition.op, condition.value, _kind_of(condition)
    field = f"{path}.value"
    if op in (Op.IS_SET, Op.IS_NOT_SET):
        if not isinstance(condition, AttributeCondition):
            errors.append(FieldError(field=f"{path}.op", message="is_set / is_not_set apply to attributes only"))
        elif value is not None:
            errors.append(FieldError(field=field, message=f"{op.value} takes no value"))
        return
    if op in (Op.IN, Op.NOT_IN) and kind not in ("text", "number"):
        errors.append(FieldError(field=f"{path}.op", message=f"{op.value} applies to text and numbers"))
        return
    if kind == "flag" and op not in (Op.EQ, Op.NE):
        errors.append(FieldError(field=f"{path}.op", message="a yes/no attribute takes eq or ne"))
        return
    if kind == "text" and op not in (Op.EQ, Op.NE, Op.IN, Op.NOT_IN):
        errors.append(FieldError(field=f"{path}.op", message="text attributes take eq, ne, in, not_in, is_set"))
        return
    if op is Op.BETWEEN:
        if not isinstance(value, list) or len(value) != 2:
            errors.append(FieldError(field=field, message="between takes [low, high]"))
            return
        values = value
    elif op in (Op.IN, Op.NOT_IN):
        if not isinstance(value, list) or not value or len(value) > 1000:
            errors.append(FieldError(field=field, message=f"{op.value} takes a list of 1-1000 values"))
            return
        values = value
    else:
        if isinstance(value, list) or value is None:
            errors.append(FieldError(field=field, message=f"{op.value} takes one value"))
            return
        values = [value]
    for index, item in enumerate(values):
        where = field if len(values) == 1 and op not in (Op.IN, Op.NOT_IN) else f"{field}[{index}]"
        message = _value_fault(kind, item)
        if message:
            errors.append(FieldError(field=where, message=message))


def _value_fault(kind: str, item: Any) -> str | None:
    if kind == "number" and (isinstance(item, bool) or not isinstance(item, int | float)):
        return "expected a number"
    if kind == "flag" and not isinstance(item, bool):
        return "expected true or false"
    if kind == "text" and not isinstance(item, str):
        return "expected text"
    if kind in ("time", "date"):
        if isinstance(item, datetime | date):
            return None
        if isinstance(item, str):
            try:
                (date if kind == "date" else datetime).fromisoformat(item)
                return None
            except ValueError:
                pass
        if kind == "date":
            return "expected an ISO date"
        return "expected an ISO date-time (wall time in the workspace zone)"
    return None


def references(node: Node) -> dict[str, set[int]]:
    """Tag and channel ids a rule names (to check they exist in the workspace)."""
    found: dict[str, set[int]] = {"tag_ids": set(), "channel_ids": set()}
    for condition in conditions(node):
        if isinstance(condition, TagCondition):
            found["tag_ids"].update(condition.tag_ids)
        if isinstance(condition, ChannelCondition):
            found["channel_ids"].update(condition.channel_ids)
    return found


def conditions(node: Node) -> list:
    """Every condition of the tree, depth first."""
    if isinstance(node, All):
        return [c for child in node.all for c in conditions(child)]
    if isinstance(node, Any_):
        return [c for child in node.any for c in conditions(child)]
    if isinstance(node, Not):
        return conditions(node.not_)
    return [node]


def dump(node: Node) -> dict:
    """The tree as JSON-ready data (the shape parse_rule reads)."""
    if isinstance(node, All):
        return {"all": [dump(child) for child in node.all]}
    if isinstance(node, Any_):
        return {"any": [dump(child) for child in node.any]}
    if isinstance(node, Not):
        return {"not": dump(node.not_)}
    return node.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
