"""Store pages: stores, staff, channel QR codes (with the QR image) and hand-overs."""

from calendar import monthrange
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from yutang.kit.errors import DomainError
from yutang.kit.money import yuan_to_fen
from yutang.messaging import service as messaging_service
from yutang.stores import service as stores_service
from yutang.stores.schemas import (
    CodeIn,
    HandoverIn,
    KpiGroup,
    KpiMetric,
    PersonaIn,
    StaffIn,
    StaffLeave,
    StoreIn,
    TargetIn,
)
from yutang.web.deps import ConsoleRoute, Page, console, form_errors
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)


def _common(page: Page) -> dict:
    session, actor = page.session, page.actor
    stores = stores_service.list_stores(session, actor=actor)
    return {"stores": stores, "store_names": {s.id: s.name for s in stores},
            "members": {m.id: m.name for m in workspaces_service.list_members(session, actor=actor)},
            "can_manage": actor.can(Permission.MANAGE), "errors": {}, "form": {}}


def _staff_names(page: Page) -> dict[int, str]:
    return {s.id: s.name for s in stores_service.list_staff(page.session, actor=page.actor)}


def _render(page: Page, template: str, context: dict, errors: dict, form: dict):
    return page.render(template, status=422 if errors else 200, **(context | {"errors": errors, "form": form}))


# ---- stores ---------------------------------------------------------------------------------------------


@router.get("/stores")
def store_list(request: Request):
    """Stores with region, address, hours, manager and staff count."""
    with console(request, read_only=True) as page:
        return page.render("stores/stores.html", **_stores(page))


def _stores(page: Page) -> dict:
    staff = stores_service.list_staff(page.session, actor=page.actor, current=True)
    counts: dict[int, int] = {}
    for member in staff:
        if member.store_id is not None:
            counts[member.store_id] = counts.get(member.store_id, 0) + 1
    return _common(page) | {"staff_counts": counts}


@router.post("/stores")
def create_store(request: Request, code: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                 region: Annotated[str, Form()] = "", address: Annotated[str, Form()] = "",
                 opening_hours: Annotated[str, Form()] = ""):
    """Open a store; errors come back next to their fields."""
    form = {"code": code, "name": name, "region": region, "address": address, "opening_hours": opening_hours}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                stores_service.create_store(page.session, actor=page.actor, data=StoreIn(
                    code=code.strip(), name=name.strip(), region=region.strip() or None,
                    address=address.strip() or None, opening_hours=opening_hours.strip() or None))
        except (ValidationError, DomainError) as exc:
            return _render(page, "stores/stores.html", _stores(page),
                           form_errors(exc, page.gettext, fields=tuple(form)), form)
    return RedirectResponse("/console/stores", status_code=303)


# ---- staff ----------------------------------------------------------------------------------------------


@router.get("/stores/staff")
def staff_list(request: Request):
    """Staff with store or region, WeCom user id and tenure."""
    with console(request, read_only=True) as page:
        return page.render("stores/staff.html", **_staff(page))


def _staff(page: Page) -> dict:
    return _common(page) | {"staff": stores_service.list_staff(page.session, actor=page.actor)}


@router.post("/stores/staff")
def add_staff(request: Request, name: Annotated[str, Form()] = "", store_id: Annotated[str, Form()] = "",
              wecom_userid: Annotated[str, Form()] = "", member_id: Annotated[str, Form()] = ""):
    """A staff member joins a store."""
    form = {"name": name, "store_id": store_id, "wecom_userid": wecom_userid, "member_id": member_id}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                stores_service.add_staff(page.session, actor=page.actor, data=StaffIn(
                    name=name.strip(), store_id=store_id or None, wecom_userid=wecom_userid.strip() or None,
                    member_id=member_id or None))
        except (ValidationError, DomainError) as exc:
            return _render(page, "stores/staff.html", _staff(page), form_errors(exc, page.gettext, fields=tuple(form)),
                           form)
    return RedirectResponse("/console/stores/staff", status_code=303)


@router.post("/stores/staff/{staff_id}/leave")
def staff_leaves(request: Request, staff_id: int):
    """A staff member leaves today."""
    with console(request) as page:
        stores_service.staff_leaves(page.session, actor=page.actor, staff_id=staff_id, data=StaffLeave())
    return RedirectResponse("/console/stores/staff", status_code=303)


# ---- codes ----------------------------------------------------------------------------------------------


@router.get("/stores/codes")
def code_list(request: Request):
    """Channel QR codes with adds, deletions and conversions, and their QR image to download."""
    with console(request, read_only=True) as page:
        return page.render("stores/codes.html", **_codes(page))


def _codes(page: Page) -> dict:
    session, actor = page.session, page.actor
    codes = stores_service.list_codes(session, actor=actor)
    return _common(page) | {
        "codes": codes, "stats": {c.id: stores_service.code_stats(session, actor=actor, code_id=c.id) for c in codes},
        "staff": stores_service.list_staff(session, actor=actor, current=True), "staff_names": _staff_names(page),
        "configs": [c for c in messaging_service.list_channels(session, actor=actor) if c.kind == "wecom"]}


@router.post("/stores/codes")
def create_code(request: Request, code: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                kind: Annotated[str, Form()] = "store", config_id: Annotated[str, Form()] = "",
                store_id: Annotated[str, Form()] = "", staff_ids: Annotated[list[str], Form()] = (),
                welcome_text: Annotated[str, Form()] = ""):
    """Create a channel QR code in WeCom."""
    form = {"code": code, "name": name, "kind": kind, "config_id": config_id, "store_id": store_id,
            "staff_ids": list(staff_ids), "welcome_text": welcome_text}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                stores_service.create_code(page.session, actor=page.actor, data=CodeIn(
                    code=code.strip(), name=name.strip(), kind=kind, config_id=config_id or None,
                    store_id=store_id or None, staff_ids=list(staff_ids), multi=len(staff_ids) > 1,
                    welcome_text=welcome_text.strip() or None))
        except (ValidationError, DomainError) as exc:
            return _render(page, "stores/codes.html", _codes(page),
                           form_errors(exc, page.gettext, fields=tuple(form)), form)
    return RedirectResponse("/console/stores/codes", status_code=303)


@router.get("/stores/codes/{code_id}/qr.png")
def code_qr(request: Request, code_id: int):
    """The code's QR image, to print."""
    with console(request, read_only=True) as page:
        code = stores_service.get_code(page.session, actor=page.actor, code_id=code_id)
        png = stores_service.qr_png(page.session, actor=page.actor, code_id=code_id)
    return Response(png, media_type="image/png",
                    headers={"Content-Disposition": f'attachment; filename="{code.code}.png"'})


# ---- hand-overs -----------------------------------------------------------------------------------------


@router.get("/stores/handovers")
def handover_list(request: Request):
    """Hand-overs with their counts per status and loss rate."""
    with console(request, read_only=True) as page:
        return page.render("stores/handovers.html", **_handovers(page))


def _handovers(page: Page) -> dict:
    session, actor = page.session, page.actor
    return _common(page) | {
        "handovers": [stores_service.present(session, handover=h)
                      for h in stores_service.list_handovers(session, actor=actor)],
        "staff": stores_service.list_staff(session, actor=actor), "staff_names": _staff_names(page),
        "configs": [c for c in messaging_service.list_channels(session, actor=actor) if c.kind == "wecom"]}


@router.post("/stores/handovers")
def start_handover(request: Request, config_id: Annotated[str, Form()] = "",
                   from_staff_id: Annotated[str, Form()] = "", to_staff_id: Annotated[str, Form()] = "",
                   message: Annotated[str, Form()] = ""):
    """Plan a hand-over (sent from the list once reviewed)."""
    form = {"config_id": config_id, "from_staff_id": from_staff_id, "to_staff_id": to_staff_id, "message": message}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                stores_service.start_handover(page.session, actor=page.actor, data=HandoverIn(
                    config_id=config_id or None, from_staff_id=from_staff_id or None,
                    to_staff_id=to_staff_id or None, message=message.strip() or None, send=False))
        except (ValidationError, DomainError) as exc:
            return _render(page, "stores/handovers.html", _handovers(page),
                           form_errors(exc, page.gettext, fields=tuple(form)), form)
    return RedirectResponse("/console/stores/handovers", status_code=303)


@router.post("/stores/handovers/{handover_id}/{action}")
def act_on_handover(request: Request, handover_id: int, action: str):
    """Send a planned hand-over, or read WeCom's results."""
    with console(request) as page:
        if action == "send":
            stores_service.send_handover(page.session, actor=page.actor, handover_id=handover_id)
        elif action == "sync":
            stores_service.sync_handover(page.session, actor=page.actor, handover_id=handover_id)
    return RedirectResponse("/console/stores/handovers", status_code=303)


# ---- guide KPIs and targets -------------------------------------------------------------------------------

KPI_FIELDS = ("since", "until", "staff_id", "month", "new_adds", "gmv_yuan")


def _period(page: Page, since: str, until: str) -> tuple[date, date, dict]:
    today = stores_service.today(page.actor)
    errors = {}
    try:
        start = date.fromisoformat(since) if since else today.replace(day=1)
    except ValueError:
        start, errors["since"] = today.replace(day=1), page.gettext("Choose a day.")
    try:
        end = date.fromisoformat(until) if until else today
    except ValueError:
        end, errors["until"] = today, page.gettext("Choose a day.")
    return start, end, errors


def _kpis(page: Page, since: str = "", until: str = "", group_by: str = "guide", rank_by: str = "gmv_fen") -> dict:
    start, end, errors = _period(page, since, until)
    group = KpiGroup(group_by) if group_by in KpiGroup._value2member_map_ else KpiGroup.GUIDE
    rank = KpiMetric(rank_by) if rank_by in KpiMetric._value2member_map_ else KpiMetric.GMV_FEN
    try:
        board = stores_service.kpis(page.session, actor=page.actor, since=start, until=end, group_by=group,
                                    rank_by=rank)
    except DomainError as exc:
        errors |= form_errors(exc, page.gettext, fields=KPI_FIELDS, domain={
            "until": page.gettext("The period ends before it starts."),
            "since": page.gettext("A period is at most 366 days.")})
        board = stores_service.kpis(page.session, actor=page.actor, since=stores_service.today(page.actor),
                                    until=stores_service.today(page.actor), group_by=group, rank_by=rank)
    month = end.strftime("%Y-%m")
    return _common(page) | {
        "board": board, "query": {"since": start.isoformat(), "until": end.isoformat(), "group_by": group.value,
                                  "rank_by": rank.value},
        "groups": list(KpiGroup), "metrics": list(KpiMetric), "month": month,
        "targets": stores_service.list_targets(page.session, actor=page.actor, month=month),
        "staff": [s for s in stores_service.list_staff(page.session, actor=page.actor, current=True)
                  if not page.actor.sees_own_customers_only
                  or (s.member_id in page.actor.owners_seen and s.member_id != page.actor.member_id)],
        "errors": errors}


@router.get("/stores/kpis")
def kpi_board(request: Request, since: str = "", until: str = "", group_by: str = "guide",
              rank_by: str = "gmv_fen"):
    """Guide performance (导购业绩) per guide, store or region over a chosen period, ranked, with targets."""
    with console(request, read_only=True) as page:
        return page.render("stores/kpis.html", **_kpis(page, since, until, group_by, rank_by))


@router.post("/stores/kpis/targets")
def set_target(request: Request, staff_id: Annotated[str, Form()] = "", month: Annotated[str, Form()] = "",
               new_adds: Annotated[str, Form()] = "", gmv_yuan: Annotated[str, Form()] = ""):
    """Set a guide's monthly targets: new adds and attributed GMV entered in yuan, kept in fen."""
    form = {"staff_id": staff_id, "month": month, "new_adds": new_adds, "gmv_yuan": gmv_yuan}
    with console(request) as page:
        errors: dict[str, str] = {}
        try:
            gmv = yuan_to_fen(gmv_yuan) if gmv_yuan.strip() else None
        except ValueError:
            gmv, errors["gmv_yuan"] = None, page.gettext("Enter an amount in yuan, e.g. 20000 or 19999.50.")
        if not errors:
            try:
                with page.session.begin_nested():
                    stores_service.put_target(page.session, actor=page.actor, data=TargetIn(
                        staff_id=int(staff_id) if staff_id.isdigit() else 0, month=month.strip(),
                        new_adds=int(new_adds) if new_adds.strip().isdigit() else new_adds.strip() or None,
                        gmv_fen=gmv))
            except (ValidationError, DomainError) as exc:
                errors = form_errors(exc, page.gettext, fields=KPI_FIELDS + ("gmv_fen",), domain={
                    "staff_id": page.gettext("Choose a staff member of your team."),
                    "month": page.gettext("Choose a month."),
                    "new_adds": page.gettext("Enter a whole number of new adds."),
                    "gmv_fen": page.gettext("Enter an amount in yuan, e.g. 20000 or 19999.50."),
                    "": page.gettext("Targets are set by a manager.")})
                if "gmv_fen" in errors:
                    errors["gmv_yuan"] = errors.pop("gmv_fen")
        if errors:
            return _render(page, "stores/kpis.html", _kpis(page), errors, form)
    first = date.fromisoformat(f"{month.strip()}-01")
    last = first.replace(day=monthrange(first.year, first.month)[1])
    return RedirectResponse(f"/console/stores/kpis?since={first}&until={last}#targets", status_code=303)


# ---- personas -------------------------------------------------------------------------------------------

PERSONA_FIELDS = ("name", "avatar_url", "wecom_alias", "external_position", "staff_ids")


def _personas(page: Page) -> dict:
    session, actor = page.session, page.actor
    personas = stores_service.list_personas(session, actor=actor)
    return _common(page) | {
        "personas": stores_service.present_personas(session, personas=personas),
        "activity": {p.id: stores_service.persona_activity(session, actor=actor, persona_id=p.id, limit=5)
                     for p in personas},
        "staff": stores_service.list_staff(session, actor=actor, current=True), "staff_names": _staff_names(page)}


@router.get("/stores/personas")
def persona_list(request: Request):
    """Persona accounts, the staff behind each and what was last done in their name."""
    with console(request, read_only=True) as page:
        return page.render("stores/personas.html", **_personas(page))


@router.post("/stores/personas")
async def create_persona(request: Request):
    """Open a persona and put the staff ticked behind it."""
    data = await request.form()
    form = {field: str(data.get(field, "")) for field in PERSONA_FIELDS if field != "staff_ids"}
    form["staff_ids"] = [str(v) for v in data.getlist("staff_ids")]
    with console(request) as page:
        try:
            with page.session.begin_nested():
                stores_service.create_persona(page.session, actor=page.actor, data=PersonaIn(
                    name=form["name"].strip(), avatar_url=form["avatar_url"].strip() or None,
                    wecom_alias=form["wecom_alias"].strip() or None,
                    external_position=form["external_position"].strip() or None,
                    staff_ids=[int(v) for v in form["staff_ids"] if v.isdigit()]))
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=PERSONA_FIELDS, domain={
                "name": page.gettext("A persona with this name exists."),
                "staff_ids": page.gettext("Tick staff who are still employed and behind no other persona.")},
                patterns={"avatar_url": page.gettext("An avatar address starts with http:// or https://.")})
            return _render(page, "stores/personas.html", _personas(page), errors, form)
    return RedirectResponse("/console/stores/personas", status_code=303)
