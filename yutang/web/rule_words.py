"""A segment rule in the operator's words: each condition as a sentence, groups as nested lists, observed values
in yuan and local time."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from yutang.web.i18n import LABELS, N_
from yutang.web.templating import money

MONEY_MEASURES = {"spend", "average_order_value", "historic", "predicted"}
TIME_MEASURES = {"first_time", "last_time", "first_purchase", "last_purchase"}
GROUPS = {"all": N_("All of the following hold"), "any": N_("At least one of the following holds"),
          "not": N_("The following does not hold")}
OPS = {"eq": N_("is"), "ne": N_("is not"), "gt": N_("more than / after"), "gte": N_("at least"),
       "lt": N_("less than / before"), "lte": N_("at most"), "in": N_("is one of"), "not_in": N_("is none of"),
       "is_set": N_("is filled in"), "is_not_set": N_("is empty"), "between": N_("between")}
FIELDS = {"gender": N_("Gender"), "birthday": N_("Birthday"), "province": N_("Province"), "city": N_("City"),
          "source_campaign": N_("Source campaign"), "first_seen_at": N_("First seen"),
          "assigned_member_id": N_("Assigned staff ID"),
          "refuses_personalised": N_("Refuses personalised marketing")}
EVENT_MEASURES = {"count": N_("times"), "sum": N_("sum of %(property)s"),
                  "distinct": N_("distinct values of %(property)s"), "first_time": N_("first time"),
                  "last_time": N_("last time")}
ORDER_MEASURES = {"count": N_("number of paid orders"), "spend": N_("spend"),
                  "average_order_value": N_("average order value"), "first_purchase": N_("first purchase"),
                  "last_purchase": N_("last purchase")}
VALUE_MEASURES = {"historic": N_("historic customer value"), "predicted": N_("predicted customer value")}
TAG_MATCH = {"any": N_("Has any of the tags %(tags)s"), "all": N_("Has all of the tags %(tags)s"),
             "none": N_("Has none of the tags %(tags)s")}
CONSENT_STATUS = {"granted": N_("Granted"), "withdrawn": N_("Withdrawn"), "unknown": N_("Unknown")}
LIST_SEPARATOR = N_(", ")


@dataclass
class Words:
    """What a sentence needs besides the rule: the language, names for ids, and the workspace's zone."""

    gettext: Callable[[str], str]
    tags: dict[int, str] = field(default_factory=dict)
    channels: dict[int, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"

    def label(self, value: str) -> str:
        """A stored value's display name, or the value itself."""
        return self.gettext(LABELS[value]) if value in LABELS else value

    def listed(self, values) -> str:
        """Values joined as a list in the current language."""
        return self.gettext(LIST_SEPARATOR).join(str(v) for v in values)

    def when(self, value) -> str:
        """A date or an instant as the workspace's local date and time."""
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, datetime):
            zone = ZoneInfo(self.timezone)
            return (value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))).astimezone(zone).strftime(
                "%Y-%m-%d %H:%M")
        return value.isoformat() if isinstance(value, date) else str(value)


def _value(condition: dict, words: Words, *, measure: str | None = None) -> str:
    value = condition.get("value")
    values = value if isinstance(value, list) else [value]
    shown = []
    for item in values:
        if measure in MONEY_MEASURES and isinstance(item, int | float) and not isinstance(item, bool):
            shown.append(money(int(item)))
        elif measure in TIME_MEASURES or (isinstance(item, str) and item[:4].isdigit() and "-" in item[:8]):
            shown.append(words.when(item))
        elif isinstance(item, bool):
            shown.append(words.gettext(N_("yes") if item else N_("no")))
        else:
            shown.append(words.label(str(item)) if isinstance(item, str) else str(item))
    if condition.get("op") == "between" and len(shown) == 2:
        return words.gettext(N_("%(low)s and %(high)s")) % {"low": shown[0], "high": shown[1]}
    return words.listed(shown)


def _compare(subject: str, condition: dict, words: Words, *, measure: str | None = None) -> str:
    op = condition.get("op", "eq")
    if op in ("is_set", "is_not_set"):
        return words.gettext(N_("%(subject)s %(op)s")) % {"subject": subject, "op": words.gettext(OPS[op])}
    return words.gettext(N_("%(subject)s %(op)s %(value)s")) % {
        "subject": subject, "op": words.gettext(OPS.get(op, op)), "value": _value(condition, words, measure=measure)}


def _window(window: dict | None, words: Words) -> str:
    if not window:
        return words.gettext(N_("ever"))
    if window.get("kind") == "last_days":
        return words.gettext(N_("in the last %(days)s days")) % {"days": window.get("days")}
    if window.get("kind") == "between":
        return words.gettext(N_("from %(start)s to %(end)s")) % {"start": window.get("start"), "end": window.get("end")}
    return words.gettext(N_("since the first purchase"))


def sentence(condition: dict, words: Words) -> str:
    """One condition as a sentence."""
    t = words.gettext
    kind = condition.get("type")
    if kind == "attribute":
        return _compare(t(FIELDS.get(condition["field"], condition["field"])), condition, words)
    if kind == "identity":
        text = N_("Has a %(kind)s identity") if condition.get("present", True) else N_("Has no %(kind)s identity")
        return t(text) % {"kind": words.label(condition["kind"])}
    if kind == "tag":
        names = [words.tags.get(i, f"#{i}") for i in condition["tag_ids"]]
        return t(TAG_MATCH[condition.get("match", "any")]) % {"tags": words.listed(names)}
    if kind == "channel":
        names = words.listed(words.channels.get(i, f"#{i}") for i in condition["channel_ids"])
        text = N_("First came through %(channels)s") if condition.get("relation") == "first_touch" else N_(
            "Is a member of %(channels)s")
        return t(text) % {"channels": names}
    if kind == "group":
        return _group_sentence(condition, words)
    if kind == "consent":
        return t(N_("Consent for %(channel)s: %(status)s")) % {
            "channel": words.label(condition["channel"]), "status": t(CONSENT_STATUS[condition.get("status",
                                                                                                    "granted")])}
    if kind == "event":
        measure = condition.get("measure", "count")
        what = t(EVENT_MEASURES[measure]) % {"property": condition.get("property") or ""}
        subject = t(N_("Event “%(event)s” %(window)s: %(measure)s")) % {
            "event": words.label(condition["event"]), "window": _window(condition.get("window"), words),
            "measure": what}
        return _compare(subject, condition, words, measure=measure)
    if kind == "order":
        measure = condition.get("measure", "count")
        subject = t(N_("Purchases %(window)s: %(measure)s")) % {
            "window": _window(condition.get("window"), words), "measure": t(ORDER_MEASURES[measure])}
        return _compare(subject, condition, words, measure=measure)
    if kind == "bought":
        what = (t(N_("SKU %(value)s")) % {"value": condition["sku"]} if condition.get("sku")
                else t(N_("the category %(value)s")) % {"value": condition.get("category")})
        text = N_("Bought %(what)s %(window)s") if condition.get("did", True) else N_(
            "Did not buy %(what)s %(window)s")
        return t(text) % {"what": what, "window": _window(condition.get("window"), words)}
    if kind == "lifecycle_stage":
        return t(N_("Lifecycle stage is one of %(stages)s")) % {
            "stages": words.listed(words.label(s) for s in condition["stages"])}
    if kind == "rfm_class":
        return t(N_("RFM class is one of %(classes)s")) % {
            "classes": words.listed(words.label(c) for c in condition["classes"])}
    if kind == "customer_value":
        measure = condition.get("measure", "historic")
        return _compare(t(VALUE_MEASURES[measure]), condition, words, measure=measure)
    return str(kind)


def _group_sentence(condition: dict, words: Words) -> str:
    t = words.gettext
    inside = condition.get("in_group", True)
    if condition.get("group_ids"):
        names = words.listed(words.groups.get(i, f"#{i}") for i in condition["group_ids"])
        text = t(N_("Is in one of the groups %(groups)s") if inside else N_("Is in none of the groups %(groups)s")) % {
            "groups": names}
    else:
        text = t(N_("Is in a customer group") if inside else N_("Is in no customer group"))
    details = []
    if condition.get("owner_userid"):
        details.append(t(N_("owned by %(owner)s")) % {"owner": condition["owner_userid"]})
    if condition.get("joined_within_days"):
        details.append(t(N_("joined in the last %(days)s days")) % {"days": condition["joined_within_days"]})
    return t(N_("%(what)s (%(details)s)")) % {"what": text, "details": words.listed(details)} if details else text


def observed(condition: dict, value, words: Words) -> str:
    """What was seen for the customer, in the units the condition is written in."""
    if value is None:
        return "—"
    measure = condition.get("measure")
    if isinstance(value, list):
        if condition.get("type") == "tag":
            return words.listed(words.tags.get(v, f"#{v}") for v in value) or "—"
        if condition.get("type") == "channel":
            return words.listed(words.channels.get(v, f"#{v}") for v in value) or "—"
        if condition.get("type") == "group":
            return words.listed(words.groups.get(v, f"#{v}") for v in value) or "—"
        return words.listed(words.label(v) if isinstance(v, str) else v for v in value) or "—"
    if measure in MONEY_MEASURES and isinstance(value, int | float) and not isinstance(value, bool):
        return money(int(value))
    if isinstance(value, bool):
        return words.gettext(N_("yes") if value else N_("no"))
    if measure in TIME_MEASURES or isinstance(value, datetime | date):
        return words.when(value)
    return words.label(value) if isinstance(value, str) else str(value)


def rule_tree(rule: dict, words: Words) -> dict:
    """A rule as {text, children}: groups say how their children combine, conditions are sentences."""
    for key in ("all", "any"):
        if key in rule and "type" not in rule:
            return {"text": words.gettext(GROUPS[key]), "children": [rule_tree(c, words) for c in rule[key]]}
    if "not" in rule and "type" not in rule:
        group = GROUPS["not"]
        return {"text": words.gettext(group), "children": [rule_tree(rule["not"], words)]}
    return {"text": sentence(rule, words), "children": []}


def explain_tree(node: dict, words: Words) -> dict:
    """The explain tree with each node's sentence and what was seen, for the page."""
    group = GROUPS.get(node["node"])
    if group:
        return {"text": words.gettext(group), "held": node["held"], "seen": None,
                "children": [explain_tree(c, words) for c in node.get("children", [])]}
    return {"text": sentence(node["condition"], words), "held": node["held"],
            "seen": observed(node["condition"], node.get("observed"), words), "children": []}
