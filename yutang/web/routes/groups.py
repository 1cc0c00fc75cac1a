"""Group pages: customer groups with their health, one group's members, group QR codes, the library of materials
and scripts, sends to groups and Moments."""

import calendar
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.groups import service as groups_service
from yutang.groups.schemas import (
    MAX_CODE_GROUPS,
    MOMENTS_PER_DAY,
    FolderIn,
    GroupCodeIn,
    GroupSendIn,
    MaterialIn,
    MomentIn,
    UseIn,
)
from yutang.kit.clock import utcnow
from yutang.kit.errors import DomainError, Invalid
from yutang.messaging import service as messaging_service
from yutang.stores import service as stores_service
from yutang.web.deps import ConsoleRoute, Page, console, form_errors
from yutang.web.i18n import N_
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)
FIVE_GROUPS = N_("WeCom allows at most five groups behind one group QR code: choose five or fewer.")
STATE_RULE = N_("Up to 30 letters, digits, '.', '-' or '_'.")


@router.get("/groups")
def group_list(request: Request, silent: bool = False):
    """Live groups with members, joins, quits, talk and the silent flag; silent ones first."""
    with console(request, read_only=True) as page:
        health = groups_service.group_health(page.session, actor=page.actor, silent_only=silent)
        health.sort(key=lambda h: (not h.silent, h.name))
        owners = groups_service.owner_health(page.session, actor=page.actor)
        return page.render("groups/groups.html", health=health, owners=owners, silent=silent)


def _codes(page: Page) -> dict:
    session, actor = page.session, page.actor
    codes = groups_service.list_codes(session, actor=actor)
    groups = groups_service.list_groups(session, actor=actor, include_dismissed=True)
    return {"codes": codes, "names": {g.chat_id: g.name for g, _ in groups},
            "stats": {c.id: groups_service.code_stats(session, actor=actor, code_id=c.id) for c in codes},
            "live": [(g, n) for g, n in groups if g.dismissed_at is None], "max_groups": MAX_CODE_GROUPS,
            "configs": [c for c in messaging_service.list_channels(session, actor=actor) if c.kind == "wecom"],
            "can_manage": actor.can(Permission.MANAGE), "errors": {}, "form": {"auto_create_room": "1"}}


@router.get("/groups/codes")
def code_list(request: Request):
    """Group QR codes with their groups, state, joins, quits and conversions to orders; the form for a new one."""
    with console(request, read_only=True) as page:
        return page.render("groups/codes.html", **_codes(page))


@router.post("/groups/codes")
def create_code(request: Request, config_id: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                state: Annotated[str, Form()] = "", group_ids: Annotated[list[str], Form()] = (),
                auto_create_room: Annotated[str, Form()] = "", room_base_name: Annotated[str, Form()] = "",
                welcome_text: Annotated[str, Form()] = ""):
    """Create a group QR code in WeCom over up to five groups; errors come back next to their fields."""
    form = {"config_id": config_id, "name": name, "state": state, "group_ids": list(group_ids),
            "auto_create_room": auto_create_room, "room_base_name": room_base_name, "welcome_text": welcome_text}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                groups_service.create_code(page.session, actor=page.actor, data=GroupCodeIn(
                    config_id=config_id or None, name=name.strip(), state=state.strip(), group_ids=list(group_ids),
                    auto_create_room=bool(auto_create_room), room_base_name=room_base_name.strip() or None,
                    welcome_text=welcome_text.strip() or None))
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=tuple(form), patterns={"state": STATE_RULE})
            if len(group_ids) > MAX_CODE_GROUPS:
                errors["group_ids"] = page.gettext(FIVE_GROUPS)
            return page.render("groups/codes.html", status=422, **(_codes(page) | {"errors": errors, "form": form}))
    return RedirectResponse("/console/groups/codes", status_code=303)


# ---- the library of materials and scripts ---------------------------------------------------------------------

KINDS = {"text": N_("Text script"), "image": N_("Image"), "link": N_("Link"), "product": N_("Product card"),
         "miniprogram": N_("Mini-program card")}
MATERIAL_FIELDS = ("folder_id", "kind", "title", "text", "url", "image_url", "description", "price_fen", "appid",
                   "page", "tags")
NEEDS_WORDS = {"text": N_("A text script needs its words."), "image_url": N_("An image needs its address."),
               "url": N_("A link or product card needs its address."),
               "price_fen": N_("A product card needs its price."),
               "appid": N_("A mini-program card needs the mini-program's AppID."),
               "page": N_("A mini-program card needs the page it opens.")}


def _library(page: Page, folder: int | None = None, tag: str = "", q: str = "") -> dict:
    session, actor = page.session, page.actor
    now = utcnow()
    return {"folders": groups_service.list_folders(session, actor=actor), "folder": folder, "tag": tag, "q": q,
            "materials": groups_service.list_materials(session, actor=actor, folder_id=folder, tag=tag or None,
                                                       search=q or None),
            "report": groups_service.use_report(session, actor=actor, since=now - timedelta(days=30), until=now),
            "kinds": KINDS, "can_manage": actor.can(Permission.MANAGE), "errors": {}, "form": {"kind": "text"},
            "folder_errors": {}}


@router.get("/groups/library")
def library(request: Request, folder: int | None = None, tag: str = "", q: str = ""):
    """Folders, materials and scripts with their tags, and which of them led to replies and orders (30 days)."""
    with console(request, read_only=True) as page:
        folder = folder if folder is not None and 0 < folder < 2**63 else None
        return page.render("groups/library.html", **_library(page, folder, tag.strip()[:30], q.strip()[:100]))


@router.post("/groups/library/folders")
def add_folder(request: Request, name: Annotated[str, Form()] = ""):
    """A new folder."""
    with console(request) as page:
        try:
            with page.session.begin_nested():
                groups_service.create_folder(page.session, actor=page.actor, data=FolderIn(name=name.strip()))
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("name",),
                                 domain={"name": page.gettext("A folder of that name exists.")})
            return page.render("groups/library.html", status=422,
                               **(_library(page) | {"folder_errors": errors, "folder_form": {"name": name}}))
    return RedirectResponse("/console/groups/library", status_code=303)


@router.post("/groups/library/materials")
async def add_material(request: Request):
    """A new material or script; what its kind needs is named next to the field."""
    data = await request.form()
    form = {name: str(data.get(name, "")).strip() for name in MATERIAL_FIELDS}
    with console(request) as page:
        try:
            price = form["price_fen"]
            values = {k: v for k, v in form.items() if v and k not in ("tags", "price_fen", "folder_id")}
            if price:
                values["price_fen"] = round(float(price) * 100) if price.replace(".", "", 1).isdigit() else -1
            with page.session.begin_nested():
                groups_service.create_material(page.session, actor=page.actor, data=MaterialIn(
                    **values, folder_id=int(form["folder_id"]) if form["folder_id"].isdigit() else None,
                    tags=[t.strip() for t in form["tags"].replace("，", ",").split(",") if t.strip()]))
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=MATERIAL_FIELDS, domain=NEEDS_WORDS,
                                 patterns={"url": page.gettext("An address starting with http:// or https://."),
                                           "image_url": page.gettext("An address starting with http:// or https://."),
                                           "appid": page.gettext("An AppID starts with wx.")})
            return page.render("groups/library.html", status=422, **(_library(page) | {"errors": errors,
                                                                                       "form": form}))
    return RedirectResponse("/console/groups/library", status_code=303)


@router.post("/groups/library/materials/{material_id}/archive")
def archive_material(request: Request, material_id: int):
    """Take a material out of the pickers; its uses stay in the report."""
    with console(request) as page:
        groups_service.archive_material(page.session, actor=page.actor, material_id=material_id)
    return RedirectResponse("/console/groups/library", status_code=303)


# ---- sends to groups and Moments -----------------------------------------------------------------------------

# WeCom's rules and refusals as the console words them (the domain's messages name the numbers and groups).
RULES = ((("one owner",), N_("WeCom sends to one owner's groups at a time: these groups have different owners.")),
         (("a group a day",), N_("WeCom takes one group send a group a day: a group chosen has one that day "
                                 "already.")),
         (("dismissed",), N_("A group chosen was dismissed.")),
         (("another WeCom configuration",), N_("A group chosen belongs to another WeCom account.")),
         (("not among the staff",), N_("The groups' owner is not among the staff, so no one can confirm the "
                                       "send.")),
         (("in the past",), N_("That time is in the past.")),
         (("not a time",), N_("Choose a date and time.")),
         (("either the text or",), N_("Write the message or pick a material.")),
         (("WeCom attachment", "media upload"), N_("Images and mini-program cards need WeCom media, which this "
                                                   "send does not make yet: pick a script, a link or a product "
                                                   "card.")),
         (("replaces the text",), N_("A material replaces the text and link: give one or the other.")),
         (("Moments posts of a company a day",), N_("Customers see at most three Moments posts of a company a day: "
                                                    "three were created today.")),
         (("needs both a title",), N_("A link needs both a title and an address.")),
         (("archived",), N_("This material was archived.")),
         (("WeCom answered",), N_("WeCom refused it; nothing was kept.")))


def _rule_errors(exc: ValidationError | DomainError, page: Page, fields: tuple[str, ...]) -> dict[str, str]:
    errors = form_errors(exc, page.gettext, fields=fields)
    if isinstance(exc, DomainError):
        for error in exc.errors or []:
            for needles, words in RULES:
                if any(n in error.message for n in needles):
                    top = error.field.split("[")[0]
                    errors[top if top in fields else ""] = page.gettext(words)
                    break
    return errors


def _pickable(page: Page) -> list:
    return [m for m in groups_service.list_materials(page.session, actor=page.actor)
            if m.kind in ("text", "link", "product")]


def picker(page: Page) -> dict:
    """What the material picker shows: the library's scripts, links and product cards, and the text each sends
    (a form with `fill` puts it into its message box to edit)."""
    materials = _pickable(page)
    return {"materials": materials, "kinds": KINDS,
            "material_texts": {m.id: groups_service.as_text(m) for m in materials}}


def text_of_material(page: Page, material_id: str, text: str) -> tuple[int | None, str]:
    """The material picked (if any) and the message: what was written, or else the material's own text."""
    if not material_id.isdigit():
        return None, text
    material = groups_service.usable(page.session, actor=page.actor, material_id=int(material_id))
    return material.id, text or groups_service.as_text(material)


def record_use(page: Page, material_id: int | None, *, channel: str, customer_ids: list[int]) -> None:
    """A use of the material picked by the member sending (their staff record), to these customers."""
    if material_id is not None:
        groups_service.record_uses(page.session, actor=page.actor, material_id=material_id,
                                   data=UseIn(customer_ids=customer_ids, channel=channel))


def _local(page: Page, value: str):
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(page.actor.timezone))
    except ValueError:
        return "bad"


def _sends(page: Page) -> dict:
    session, actor = page.session, page.actor
    groups = groups_service.list_groups(session, actor=actor, include_dismissed=True)
    staff = {s.id: s.name for s in stores_service.list_staff(session, actor=actor)}
    return {"sends": groups_service.list_sends(session, actor=actor), "names": {g.id: g.name for g, _ in groups},
            "staff": staff, "live": [(g, n) for g, n in groups if g.dismissed_at is None],
            "materials": _pickable(page), "kinds": KINDS,
            "configs": [c for c in messaging_service.list_channels(session, actor=actor) if c.kind == "wecom"],
            "can_send": actor.can(Permission.WRITE), "errors": {}, "form": {}}


@router.get("/groups/sends")
def send_list(request: Request):
    """Sends to groups with each group's result, and the form for a new one."""
    with console(request, read_only=True) as page:
        return page.render("groups/sends.html", **_sends(page))


@router.post("/groups/sends")
def create_send(request: Request, config_id: Annotated[str, Form()] = "", group_ids: Annotated[list[str], Form()] = (),
                text: Annotated[str, Form()] = "", material_id: Annotated[str, Form()] = "",
                send_at: Annotated[str, Form()] = ""):
    """A send to one owner's groups (the owner confirms it in WeCom); WeCom's rules are named before it is asked."""
    form = {"config_id": config_id, "group_ids": list(group_ids), "text": text, "material_id": material_id,
            "send_at": send_at}
    fields = ("config_id", "group_ids", "text", "material_id", "send_at")
    with console(request) as page:
        at = _local(page, send_at)
        try:
            if at == "bad":
                raise Invalid("send_at is not a time", field="send_at")
            with page.session.begin_nested():
                groups_service.send_to_groups(page.session, actor=page.actor, data=GroupSendIn(
                    config_id=config_id or None, group_ids=[g for g in group_ids if g.isdigit()] or None,
                    text=text.strip() or None, material_id=material_id or None, send_at=at))
        except (ValidationError, DomainError) as exc:
            return page.render("groups/sends.html", status=422,
                               **(_sends(page) | {"errors": _rule_errors(exc, page, fields), "form": form}))
    return RedirectResponse("/console/groups/sends", status_code=303)


@router.post("/groups/sends/{send_id}/sync")
def sync_send(request: Request, send_id: int):
    """Read WeCom's answer for one send: the owner's confirmation and each group's result."""
    with console(request) as page:
        try:
            with page.session.begin_nested():
                groups_service.sync_send(page.session, actor=page.actor, send_id=send_id)
        except DomainError as exc:
            return page.render("groups/sends.html", status=exc.status,
                               **(_sends(page) | {"errors": _rule_errors(exc, page, ())}))
    return RedirectResponse(f"/console/groups/sends#send-{send_id}", status_code=303)


def _month(page: Page, month: str) -> date:
    today = datetime.now(ZoneInfo(page.actor.timezone)).date()
    try:
        return datetime.strptime(month, "%Y-%m").date() if month else today.replace(day=1)
    except ValueError:
        return today.replace(day=1)


def _moments(page: Page, month: str = "") -> dict:
    session, actor = page.session, page.actor
    first = _month(page, month)
    zone = ZoneInfo(actor.timezone)
    posts = groups_service.list_moments(session, actor=actor, limit=1000)
    days: dict[date, list] = {}
    for post in posts:
        days.setdefault(post.created_at.astimezone(zone).date(), []).append(post)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    following = (first + timedelta(days=32)).replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    staff = [s for s in stores_service.list_staff(session, actor=actor, current=True) if s.wecom_userid]
    return {"posts": [p for p in posts if p.created_at.astimezone(zone).date().replace(day=1) == first],
            "days": days, "weeks": weeks, "first": first, "today": datetime.now(zone).date(),
            "next": following.strftime("%Y-%m"), "previous": previous.strftime("%Y-%m"),
            "staff": staff, "staff_names": {s.wecom_userid: s.name for s in staff}, "materials": _pickable(page),
            "kinds": KINDS, "per_day": MOMENTS_PER_DAY,
            "configs": [c for c in messaging_service.list_channels(session, actor=actor) if c.kind == "wecom"],
            "can_manage": actor.can(Permission.MANAGE), "errors": {}, "form": {}}


@router.get("/groups/moments")
def moment_list(request: Request, month: str = ""):
    """The Moments calendar (posts per day of a month), the month's posts per staff member, and the compose form."""
    with console(request, read_only=True) as page:
        return page.render("groups/moments.html", **_moments(page, month))


@router.post("/groups/moments")
def create_moment(request: Request, config_id: Annotated[str, Form()] = "", text: Annotated[str, Form()] = "",
                  material_id: Annotated[str, Form()] = "", link_title: Annotated[str, Form()] = "",
                  link_url: Annotated[str, Form()] = "", staff_userids: Annotated[list[str], Form()] = (),
                  tag_ids: Annotated[str, Form()] = ""):
    """A Moments post for chosen staff; the three-a-day cap and WeCom's refusals are named."""
    form = {"config_id": config_id, "text": text, "material_id": material_id, "link_title": link_title,
            "link_url": link_url, "staff_userids": list(staff_userids), "tag_ids": tag_ids}
    fields = ("config_id", "text", "material_id", "link_title", "link_url", "staff_userids", "tag_ids")
    with console(request) as page:
        try:
            with page.session.begin_nested():
                groups_service.publish_moment(page.session, actor=page.actor, data=MomentIn(
                    config_id=config_id or None, text=text.strip() or None, material_id=material_id or None,
                    link_title=link_title.strip() or None, link_url=link_url.strip() or None,
                    staff_userids=list(staff_userids) or None,
                    tag_ids=[t.strip() for t in tag_ids.replace("，", ",").split(",") if t.strip()]))
        except (ValidationError, DomainError) as exc:
            errors = _rule_errors(exc, page, fields)
            if "link_url" in errors and isinstance(exc, ValidationError):
                errors["link_url"] = page.gettext("An address starting with http:// or https://.")
            return page.render("groups/moments.html", status=422,
                               **(_moments(page) | {"errors": errors, "form": form}))
    return RedirectResponse("/console/groups/moments", status_code=303)


@router.post("/groups/moments/{moment_id}/sync")
def sync_moment(request: Request, moment_id: int):
    """Read WeCom's answers for one post: who published, comments and likes."""
    with console(request) as page:
        try:
            with page.session.begin_nested():
                groups_service.sync_moment(page.session, actor=page.actor, moment_id=moment_id)
        except DomainError as exc:
            return page.render("groups/moments.html", status=exc.status,
                               **(_moments(page) | {"errors": _rule_errors(exc, page, ())}))
    return RedirectResponse(f"/console/groups/moments#moment-{moment_id}", status_code=303)


@router.get("/groups/{group_id}")
def group_detail(request: Request, group_id: int):
    """One group: owner, notice, health and members."""
    with console(request, read_only=True) as page:
        session, actor = page.session, page.actor
        group, count = groups_service.group_with_count(session, actor=actor, group_id=group_id)
        health = groups_service.group_health(session, actor=actor, group_ids=[group.id])
        members = groups_service.members_of(session, actor=actor, group_id=group.id, current=False)
        return page.render("groups/group.html", group=group, count=count, health=health[0] if health else None,
                           members=members)
