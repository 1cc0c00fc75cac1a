"""Group pages: customer groups with their health, one group's members, group QR codes."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.groups import service as groups_service
from yutang.groups.schemas import MAX_CODE_GROUPS, GroupCodeIn
from yutang.kit.errors import DomainError
from yutang.messaging import service as messaging_service
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
