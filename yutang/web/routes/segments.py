"""The segments pages: the list, a builder made of form controls with a live count, a segment's members and
explanations of why a customer is or is not in it."""

import re
from decimal import InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from yutang.archive import listing
from yutang.channels import service as channels_service
from yutang.customers import service as customers_service
from yutang.groups import service as groups_service
from yutang.kit.errors import Conflict, DomainError, Invalid
from yutang.kit.money import fen_to_yuan_text, yuan_to_fen
from yutang.segments import evaluate
from yutang.segments import flows as segments_flows
from yutang.segments import service as segments_service
from yutang.segments.rules import (
    CONDITION_TYPES,
    CONSENT_CHANNELS,
    IDENTITY_KINDS,
    LIFECYCLE_STAGES,
    RFM_CLASSES,
    AttributeField,
    parse_rule,
)
from yutang.segments.schemas import SegmentIn, SegmentPatch
from yutang.tags import service as tags_service
from yutang.web.deps import CaughtUp, ConsoleRoute, Page, PipelineDep, console, database, is_htmx
from yutang.web.errors import REQUIRED, domain_message, validation_message
from yutang.web.i18n import N_
from yutang.web.rule_words import Words, explain_tree, rule_tree
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)
NEW_TITLE = N_("New segment")
EDIT_TITLE = N_("Edit segment")
COPY_NAME = N_("%(name)s (copy)")
NAME_TAKEN = N_("A segment with this name exists: pick another.")


async def read_form(request: Request) -> FormData:
    """The posted form (read here because the page handlers are synchronous)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]
MAX_ROWS = 20
MONEY_MEASURES = {"spend", "average_order_value", "historic", "predicted"}
NUMBER_OPS = ["gte", "gt", "eq", "ne", "lt", "lte"]
TEXT_OPS = ["eq", "ne", "in", "not_in", "is_set", "is_not_set"]
# What each row type shows, for the builder's labels.
TYPE_LABELS = {"attribute": N_("Profile attribute"), "identity": N_("Has an identity"), "tag": N_("Tags"),
               "channel": N_("Channel"), "consent": N_("Consent"), "group": N_("Customer groups"),
               "event": N_("Events"), "order": N_("Purchases"),
               "bought": N_("Bought a product"), "lifecycle_stage": N_("Lifecycle stage"),
               "rfm_class": N_("RFM class"), "customer_value": N_("Customer value")}
WORDS = {
    "eq": N_("is"), "ne": N_("is not"), "gt": N_("more than / after"), "gte": N_("at least"),
    "lt": N_("less than / before"), "lte": N_("at most"), "in": N_("is one of"), "not_in": N_("is none of"),
    "is_set": N_("is filled in"), "is_not_set": N_("is empty"), "between": N_("between"),
    "gender": N_("Gender"), "birthday": N_("Birthday"), "province": N_("Province"), "city": N_("City"),
    "source_campaign": N_("Source campaign"), "first_seen_at": N_("First seen"),
    "assigned_member_id": N_("Assigned staff ID"), "refuses_personalised": N_("Refuses personalised marketing"),
    "count": N_("how many"), "sum": N_("sum of property"), "distinct": N_("distinct values of property"),
    "first_time": N_("first time"), "last_time": N_("last time"), "spend": N_("spend (yuan)"),
    "average_order_value": N_("average order value (yuan)"), "first_purchase": N_("first purchase"),
    "last_purchase": N_("last purchase"), "historic": N_("historic value (yuan)"),
    "predicted": N_("predicted value (yuan)"), "any": N_("any of"), "all": N_("all of"), "none": N_("none of"),
    "member": N_("is a member of"), "first_touch": N_("first came through"),
    "in_group": N_("is in"), "no_group": N_("is not in"),
    "prospect": N_("Prospect"), "new": N_("New customer"), "repeat": N_("Repeat customer"),
    "loyal": N_("Loyal / advocate"), "at_risk": N_("At risk"), "dormant": N_("Dormant"), "churned": N_("Churned"),
    "important_value": N_("Important value"), "important_development": N_("Important development"),
    "important_retention": N_("Important retention"), "important_recovery": N_("Important recovery"),
    "general_value": N_("General value"), "general_development": N_("General development"),
    "general_retention": N_("General retention"), "general_recovery": N_("General recovery"),
    "dynamic": N_("Dynamic"), "static": N_("Static"),
}


def _rows(form: FormData) -> list[dict[str, object]]:
    """The builder's condition rows as submitted (row i's inputs are named <name>_<i>)."""
    count = min(int(form.get("rows") or 0), MAX_ROWS)
    rows = []
    for i in range(count):
        row: dict[str, object] = {k.rsplit("_", 1)[0]: v for k, v in form.multi_items()
                                  if k.endswith(f"_{i}") and not k.endswith(("_ids", "_set"))}
        for multi in ("tag_ids", "channel_ids", "group_ids", "stages", "classes"):
            row[multi] = form.getlist(f"{multi}_{i}")
        rows.append(row)
    return rows


def _number(text: object, *, money: bool = False) -> object:
    text = str(text or "").strip()
    try:
        if money:
            return yuan_to_fen(text)
        return int(text) if text.lstrip("-").isdigit() else float(text)
    except (ValueError, InvalidOperation, ArithmeticError):
        return text  # left as text: the rule's checks name the field


def _condition(row: dict) -> dict:
    """One row of form controls as a rule condition (the rule parser does the checking)."""
    kind = str(row.get("type") or "")
    op = str(row.get("op") or "gte")
    value = row.get("value", "")
    window = ({"kind": "last_days", "days": _number(row["days"])} if str(row.get("days") or "").strip() else None)
    condition: dict = {"type": kind}
    if kind == "attribute":
        condition |= {"field": row.get("field") or "city", "op": op}
        if op in ("in", "not_in"):
            condition["value"] = [v.strip() for v in str(value).replace("，", ",").split(",") if v.strip()]
        elif op not in ("is_set", "is_not_set"):
            condition["value"] = {"true": True, "false": False}.get(str(value), value)
    elif kind == "identity":
        condition |= {"kind": row.get("kind") or "phone", "present": row.get("present") != "no"}
    elif kind == "tag":
        condition |= {"tag_ids": [int(t) for t in row["tag_ids"] if str(t).isdigit()], "match": row.get("match")
                      or "any"}
    elif kind == "channel":
        condition |= {"channel_ids": [int(c) for c in row["channel_ids"] if str(c).isdigit()],
                      "relation": row.get("relation") or "member"}
    elif kind == "consent":
        condition |= {"channel": row.get("consent") or "sms", "status": row.get("status") or "granted"}
    elif kind == "group":
        condition["in_group"] = row.get("inside") != "no_group"
        groups = [int(g) for g in row.get("group_ids") or [] if str(g).isdigit()]
        if groups:
            condition["group_ids"] = groups
        if str(row.get("owner") or "").strip():
            condition["owner_userid"] = str(row["owner"]).strip()
        if str(row.get("days") or "").strip():
            condition["joined_within_days"] = _number(row["days"])
    elif kind in ("event", "order", "customer_value"):
        measure = str(row.get("measure") or {"event": "count", "order": "count", "customer_value": "historic"}[kind])
        condition |= {"measure": measure, "op": op}
        if kind == "event":
            condition["event"] = str(row.get("event") or "").strip()
            if measure in ("sum", "distinct"):
                condition["property"] = str(row.get("property") or "").strip()
        if measure in ("first_time", "last_time", "first_purchase", "last_purchase"):
            condition["value"] = str(value).strip()
        else:
            condition["value"] = _number(value, money=measure in MONEY_MEASURES)
        if window and kind != "customer_value":
            condition["window"] = window
    elif kind == "bought":
        condition |= {row.get("what") or "category": str(value).strip(), "did": row.get("did") != "no"}
        if window:
            condition["window"] = window
    elif kind == "lifecycle_stage":
        condition["stages"] = list(row["stages"])
    elif kind == "rfm_class":
        condition["classes"] = list(row["classes"])
    return {"not": condition} if row.get("negate") else condition


def rule_from_form(form: FormData) -> dict:
    """The builder's form as a rule tree: every row, joined by all or any."""
    conditions = [_condition(row) for row in _rows(form)]
    return {"any" if form.get("match") == "any" else "all": conditions}


# The builder's controls, by the last part of a rule path, and the rule checks' messages in words.
ROW_FIELDS = {"value": N_("Value to compare"), "tag_ids": N_("Tags"), "channel_ids": N_("Channels"),
              "stages": N_("Stages"), "classes": N_("RFM classes"), "property": N_("Property"),
              "event": N_("Event name"), "days": N_("Days"), "sku": N_("SKU or category"),
              "category": N_("SKU or category"), "op": N_("Comparison"), "type": N_("Condition type"),
              "field": N_("Attribute"), "measure": N_("Measure"), "kind": N_("Identity"),
              "group_ids": N_("Groups"), "owner_userid": N_("Group owner"),
              "joined_within_days": N_("Joined in the last … days")}
FIELD_MESSAGE = N_("%(field)s: %(message)s")
RULE_MESSAGES = [
    (re.compile(r"^expected a number$"), N_("Enter a number.")),
    (re.compile(r"^expected true or false$"), N_("Choose yes or no.")),
    (re.compile(r"^expected text$"), N_("Enter text.")),
    (re.compile(r"^expected an ISO date$"), N_("Enter a date, such as 2026-01-31.")),
    (re.compile(r"^expected an ISO date-time"), N_("Enter a date and time, such as 2026-01-31 20:00.")),
    (re.compile(r"needs a property$"), N_("Enter the property to add up or count.")),
    (re.compile(r"^property is for sum and distinct"), N_("Leave the property empty for this measure.")),
    (re.compile(r"^give either sku or category$"), N_("Enter a SKU or a category.")),
    (re.compile(r"takes one value$"), N_("Enter one value.")),
    (re.compile(r"takes a list of"), N_("Enter one or more values, separated by commas.")),
    (re.compile(r"^between takes"), N_("Enter the low and the high value.")),
    (re.compile(r"takes no value$"), N_("Leave the value empty for this comparison.")),
    (re.compile(r"^(text attributes take|a yes/no attribute takes|.* applies to)"),
     N_("This comparison does not apply to this attribute.")),
    (re.compile(r"needs days"), N_("Enter the number of days (1–3650).")),
    (re.compile(r"^unknown (tag|channel)"), N_("Choose from the list.")),
]


def _rule_message(error, gettext) -> str:
    """A rule fault in the operator's words: pydantic's by its type, the rule checks' by their wording."""
    if error.kind:
        return validation_message({"type": error.kind, "ctx": error.context, "msg": error.message}, gettext)
    for pattern, words in RULE_MESSAGES:
        if pattern.search(error.message):
            return gettext(words)
    return domain_message(error.message, gettext)


def _row_errors(exc: DomainError, gettext) -> dict:
    """Errors by builder row ('' for the form as a whole), from the rule paths the parser names."""
    found: dict = {}
    for error in exc.errors:
        parts = error.field.split("[", 2)
        key = parts[1].split("]")[0] if len(parts) > 1 and parts[1].split("]")[0].isdigit() else ""
        last = re.sub(r"\[\d+\]$", "", error.field.rsplit(".", 1)[-1])
        label = gettext(ROW_FIELDS[last]) if last in ROW_FIELDS else None
        message = _rule_message(error, gettext)
        found.setdefault(int(key) if key else "", gettext(FIELD_MESSAGE) % {"field": label, "message": message}
                         if label else message)
    return found or {"": domain_message(exc.detail, gettext)}


def _choices(page: Page) -> dict:
    tags = [(t.id, f"{g.name} / {t.name}") for g in tags_service.list_groups(page.session, actor=page.actor)
            for t in g.tags]
    channels = [(c.id, c.name) for c in channels_service.list_channels(page.session, actor=page.actor)]
    groups = [(g.id, g.name) for g, _ in groups_service.list_groups(page.session, actor=page.actor)]
    owners = sorted({g.owner_userid for g, _ in groups_service.list_groups(page.session, actor=page.actor)})
    return {"types": CONDITION_TYPES, "groups": groups, "owners": owners, "type_labels": TYPE_LABELS, "words": WORDS,
            "fields": [f.value for f in AttributeField],
            "kinds": IDENTITY_KINDS, "consents": CONSENT_CHANNELS, "stages": LIFECYCLE_STAGES,
            "classes": RFM_CLASSES, "tags": tags, "channels": channels, "number_ops": NUMBER_OPS,
            "text_ops": TEXT_OPS}


def _words(page: Page) -> Words:
    """Sentences for rules in the page's language, with tag and channel names."""
    tags = {t.id: f"{g.name} / {t.name}" for g in tags_service.list_groups(page.session, actor=page.actor)
            for t in g.tags}
    channels = {c.id: c.name for c in channels_service.list_channels(page.session, actor=page.actor)}
    groups = {g.id: g.name for g, _ in groups_service.list_groups(page.session, actor=page.actor,
                                                                   include_dismissed=True)}
    return Words(page.gettext, tags=tags, channels=channels, groups=groups, timezone=page.actor.timezone)


def _builder(page: Page, form: FormData | None, *, rows: list[dict] | None = None, errors: dict | None = None,
             status: int = 200, fragment: bool = False, **extra):
    segment_id = _digits(form.get("segment_id")) if form else None
    context = {"segment_id": segment_id, "rule_editable": True, **extra,
               "rows": rows if rows is not None else (_rows(form) if form else [{"type": "tag"}]),
               "match": (form.get("match") if form else None) or "all", "kind": form.get("kind") if form else None,
               "seg_name": (form.get("name") if form else "") or "", "description": (form.get("description") if form
                                                                               else "") or "",
               "errors": errors or {}, **_choices(page)}
    template = "segments/_builder.html" if fragment else "segments/new.html"
    context["title"] = page.gettext(EDIT_TITLE) if context["segment_id"] else page.gettext(NEW_TITLE)
    return page.render(template, status=status, **context)


@router.get("/segments")
def segment_list(request: Request, pipeline: PipelineDep):
    """Segments with their kind and member counts."""
    with console(request, read_only=True) as page:
        segments = segments_service.list_segments(page.session, actor=page.actor, limit=500)
        counts = pipeline.segments.counts(
            segment_ids=[s.id for s in segments if s.kind == segments_service.DYNAMIC])
        counts |= segments_service.static_count(page.session, segment_ids=[s.id for s in segments
                                                                           if s.kind == segments_service.STATIC])
        return page.render("segments/list.html", segments=segments, counts=counts, words=WORDS,
                           can_write=page.actor.can(Permission.WRITE))


@router.get("/segments/new")
def new_segment(request: Request):
    """The builder with one empty condition."""
    with console(request) as page:
        page.actor.require(Permission.WRITE)
        return _builder(page, None)


@router.post("/segments/builder")
def builder(request: Request, form: FormDep):
    """Re-draw the builder after adding, removing or retyping a row (HTMX)."""
    with console(request) as page:
        rows = _rows(form)
        action = str(form.get("action") or "")
        if action == "add" and len(rows) < MAX_ROWS:
            rows.append({"type": "tag"})
        elif action.startswith("remove:") and action[7:].isdigit() and int(action[7:]) < len(rows):
            rows.pop(int(action[7:]))
        return _builder(page, form, rows=rows, fragment=is_htmx(request))


@router.post("/segments/preview")
def preview(request: Request, form: FormDep, pipeline: CaughtUp):
    """The live count under the builder: how many match now, and a few of them."""
    with console(request, read_only=True) as page:
        try:
            node = segments_service.parse(page.session, actor=page.actor, rule=rule_from_form(form))
        except DomainError as exc:
            return page.render("segments/_count.html", errors=_row_errors(exc, page.gettext), result=None)
        result = evaluate.preview(pipeline.warehouse, node, workspace_id=page.actor.workspace_id,
                                  timezone=page.actor.timezone, sample_size=10)
        names = channels_service.channels_by_id(page.session, actor=page.actor,
                                                ids={c["channel_id"] for c in result["by_channel"]})
        return page.render("segments/_count.html", result=result, errors={}, channel_names=names)


@router.post("/segments")
def create_segment(request: Request, form: FormDep, pipeline: CaughtUp):
    """Save the builder's segment (a static one freezes who matches now) and go to its page; errors come back in
    the builder."""
    with console(request, read_only=True) as page:  # the flow opens its own units of work
        try:
            data = SegmentIn(name=str(form.get("name") or "").strip() or "-",
                             kind="static" if form.get("kind") == "static" else "dynamic",
                             description=str(form.get("description") or "").strip() or None,
                             rule=rule_from_form(form))
            if not str(form.get("name") or "").strip():
                raise Invalid(page.gettext("Give the segment a name."), field="name")
            segment_id = segments_flows.create(database(request).factory, pipeline.segments, actor=page.actor,
                                               data=data)
        except DomainError as exc:
            return _builder(page, form, errors=_name_or_rows(page, exc), status=422, fragment=is_htmx(request))
    target = f"/console/segments/{segment_id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})  # a followed 303 would hide the header
    return RedirectResponse(target, status_code=303)


@router.get("/segments/{segment_id}")
def segment_page(request: Request, pipeline: CaughtUp, segment_id: int, after: int | None = None):
    """A segment: its rule, its members (paged) and the explain box."""
    with console(request, read_only=True) as page:
        segment = segments_service.get(page.session, actor=page.actor, segment_id=segment_id)
        membership = pipeline.segments
        if segment.kind == segments_service.STATIC:
            rows = [(cid, None) for cid in segments_service.static_members(page.session, segment=segment,
                                                                             after_id=after, limit=51)]
            total = segments_service.static_count(page.session, segment_ids=[segment.id]).get(segment.id, 0)
        else:
            rows = membership.members(segment_id=segment.id, after_id=after, limit=51)
            total = membership.counts(segment_ids=[segment.id]).get(segment.id, 0)
        names = customers_service.display_names(page.session, actor=page.actor,
                                                customer_ids=[cid for cid, _ in rows[:50]])
        return page.render("segments/detail.html", segment=segment, members=rows[:50], total=total, words=WORDS,
                           names=names,
                           can_pick=segment.kind == segments_service.STATIC and page.actor.can(Permission.WRITE),
                           can_manage=page.actor.can(Permission.MANAGE),
                           can_export=not page.actor.sees_own_customers_only,
                           next_after=rows[49][0] if len(rows) > 50 else None,
                           rule=rule_tree(segment.rule, _words(page)) if segment.rule else None)


@router.post("/segments/{segment_id}/members")
def add_member(request: Request, segment_id: int, form: FormDep):
    """Pick a customer by id onto a static segment's list."""
    with console(request) as page:
        segment = segments_service.get(page.session, actor=page.actor, segment_id=segment_id)
        text = str(form.get("customer_id") or "").strip()
        if not text.isdigit():
            raise Invalid(page.gettext("Enter a customer ID."), field="customer_id")
        segments_service.add_static(page.session, actor=page.actor, segment=segment, customer_ids=[int(text)])
    return RedirectResponse(f"/console/segments/{segment_id}", status_code=303)


@router.get("/segments/{segment_id}/explain")
def explain(request: Request, pipeline: CaughtUp, segment_id: int, customer_id: str = ""):
    """Why one customer is or is not in the segment, node by node (HTMX fragment)."""
    with console(request, read_only=True) as page:
        segment = segments_service.get(page.session, actor=page.actor, segment_id=segment_id)
        if not customer_id.strip().isdigit():
            raise Invalid(page.gettext("Enter a customer ID."), field="customer_id")
        customers_service.get_customer(page.session, actor=page.actor, customer_id=int(customer_id))
        if segment.rule is None:
            return page.render("segments/_explain.html", tree=None, matches=None, customer_id=int(customer_id))
        active, tree = evaluate.explain(pipeline.warehouse, parse_rule(segment.rule),
                                        workspace_id=page.actor.workspace_id, timezone=page.actor.timezone,
                                        customer_id=int(customer_id))
        return page.render("segments/_explain.html", tree=explain_tree(tree, _words(page)),
                           matches=active and tree["held"], active=active,
                           customer_id=int(customer_id))


# ---- editing, copying, deleting, exporting ----------------------------------------------------------------


def _digits(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 18 else None


def rows_from_rule(rule: dict | None) -> tuple[str, list[dict]] | None:
    """The builder's match and rows for a rule it can show (one level of all/any over conditions), else None."""
    if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in ("all", "any"):
        return None
    match, conditions = next(iter(rule.items()))
    rows = [_row(condition) for condition in conditions]
    return None if any(row is None for row in rows) else (match, rows)


def _row(condition: dict) -> dict | None:
    negate = "not" in condition
    condition = condition.get("not", condition)
    kind = condition.get("type")
    row: dict = {"type": kind, "negate": "1" if negate else "", "tag_ids": [], "channel_ids": [], "group_ids": [],
                 "stages": [], "classes": []}
    window = condition.get("window")
    if window is not None:
        if window.get("kind") != "last_days":
            return None
        row["days"] = str(window["days"])
    if kind == "attribute":
        value = condition.get("value", "")
        row |= {"field": condition["field"], "op": condition["op"],
                "value": ", ".join(map(str, value)) if isinstance(value, list) else
                {True: "true", False: "false"}.get(value, str(value)) if isinstance(value, bool) else str(value)}
    elif kind == "identity":
        row |= {"kind": condition["kind"], "present": "yes" if condition.get("present", True) else "no"}
    elif kind == "tag":
        row |= {"tag_ids": [str(t) for t in condition["tag_ids"]], "match": condition.get("match", "any")}
    elif kind == "channel":
        row |= {"channel_ids": [str(c) for c in condition["channel_ids"]],
                "relation": condition.get("relation", "member")}
    elif kind == "consent":
        row |= {"consent": condition["channel"], "status": condition["status"]}
    elif kind == "group":
        row |= {"inside": "in_group" if condition.get("in_group", True) else "no_group",
                "group_ids": [str(g) for g in condition.get("group_ids") or []],
                "owner": condition.get("owner_userid") or "", "days": str(condition.get("joined_within_days") or "")}
    elif kind in ("event", "order", "customer_value"):
        value = condition.get("value", "")
        if condition["measure"] in MONEY_MEASURES and isinstance(value, int):
            value = fen_to_yuan_text(value)
        row |= {"measure": condition["measure"], "op": condition["op"], "value": str(value),
                "event": condition.get("event", ""), "property": condition.get("property", "")}
    elif kind == "bought":
        what = "sku" if "sku" in condition else "category"
        row |= {"what": what, "value": condition.get(what, ""), "did": "yes" if condition.get("did", True) else "no"}
    elif kind == "lifecycle_stage":
        row["stages"] = list(condition["stages"])
    elif kind == "rfm_class":
        row["classes"] = list(condition["classes"])
    else:
        return None
    return row


@router.get("/segments/{segment_id}/edit")
def edit_segment(request: Request, segment_id: int):
    """The builder filled in with the segment (a static list or a nested rule: name and description only)."""
    with console(request, read_only=True) as page:
        page.actor.require(Permission.MANAGE)
        segment = segments_service.get(page.session, actor=page.actor, segment_id=segment_id)
        shown = rows_from_rule(segment.rule) if segment.kind == segments_service.DYNAMIC else None
        form = FormData([("segment_id", str(segment.id)), ("name", segment.name),
                         ("description", segment.description or ""), ("match", shown[0] if shown else "all")])
        return _builder(page, form, rows=shown[1] if shown else [], rule_editable=shown is not None)


@router.post("/segments/{segment_id}")
def update_segment(request: Request, segment_id: int, form: FormDep, pipeline: CaughtUp):
    """Save the edited segment and go back to its page; errors come back in the builder."""
    with console(request, read_only=True) as page:  # the flow opens its own units of work
        page.actor.require(Permission.MANAGE)
        segment = segments_service.get(page.session, actor=page.actor, segment_id=segment_id)
        editable = segment.kind == segments_service.DYNAMIC and rows_from_rule(segment.rule) is not None
        name = str(form.get("name") or "").strip()
        try:
            if not name:
                raise Invalid(page.gettext("Give the segment a name."), field="name")
            changes = {"name": name, "description": str(form.get("description") or "").strip() or None}
            if editable:
                changes["rule"] = rule_from_form(form)
            segments_flows.update(database(request).factory, pipeline.segments, actor=page.actor,
                                  segment_id=segment_id, data=SegmentPatch(**changes))
        except (DomainError, ValidationError) as exc:
            errors = _name_or_rows(page, exc)
            return _builder(page, form, errors=errors, status=422, fragment=is_htmx(request), rule_editable=editable)
    return _go(request, f"/console/segments/{segment_id}")


def _name_or_rows(page: Page, exc: DomainError | ValidationError) -> dict:
    if isinstance(exc, ValidationError):
        return {"name": page.gettext(REQUIRED)}
    if isinstance(exc, Conflict):
        return {"name": page.gettext(NAME_TAKEN)}
    if exc.errors and exc.errors[0].field == "name":
        return {"name": exc.errors[0].message}
    return _row_errors(exc, page.gettext)


def _go(request: Request, target: str) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})  # a followed 303 would hide the header
    return RedirectResponse(target, status_code=303)


@router.post("/segments/{segment_id}/duplicate")
def duplicate_segment(request: Request, segment_id: int, pipeline: CaughtUp):
    """Copy the segment under a free name, then open the copy."""
    with console(request, read_only=True) as page:
        page.actor.require(Permission.MANAGE)
        source = segments_service.get(page.session, actor=page.actor, segment_id=segment_id)
        taken = {s.name for s in segments_service.list_segments(page.session, actor=page.actor, limit=10_000)}
        base = page.gettext(COPY_NAME) % {"name": source.name}
        name = next(candidate for candidate in (base if n == 1 else f"{base} {n}" for n in range(1, 10_000))
                    if candidate not in taken)[:100]
        new_id = segments_flows.duplicate(database(request).factory, pipeline.segments, actor=page.actor,
                                          segment_id=segment_id, name=name)
    return _go(request, f"/console/segments/{new_id}")


@router.post("/segments/{segment_id}/delete")
def delete_segment(request: Request, segment_id: int, pipeline: PipelineDep):
    """Delete the segment (the page asked for confirmation) and go back to the list."""
    with console(request, read_only=True) as page:
        page.actor.require(Permission.MANAGE)
        segments_flows.delete(database(request).factory, pipeline.segments, actor=page.actor, segment_id=segment_id)
    return _go(request, "/console/segments")


@router.get("/segments/{segment_id}/members.csv")
def members_csv(request: Request, segment_id: int, pipeline: CaughtUp):
    """The members as the customer list's CSV, masked as the role requires (the API's flow), streamed."""
    with console(request, read_only=True) as page:
        actor = page.actor
    body = listing.stream_members_csv(lambda: database(request).read_only(), pipeline.segments, actor=actor,
                                      warehouse=pipeline.warehouse, segment_id=segment_id)
    return StreamingResponse(body, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'})
