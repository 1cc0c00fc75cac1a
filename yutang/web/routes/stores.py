"""Store pages: stores, staff, channel QR codes (with the QR image) and hand-overs."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from yutang.kit.errors import DomainError
from yutang.messaging import service as messaging_service
from yutang.stores import service as stores_service
from yutang.stores.schemas import CodeIn, HandoverIn, StaffIn, StaffLeave, StoreIn
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
