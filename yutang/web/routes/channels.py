"""The channels page: every channel with its acquisition cost, and a form to add one."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.channels import service as channels_service
from yutang.channels.schemas import ChannelIn, ChannelKind, ChannelRole, TrafficDomain
from yutang.kit.errors import DomainError
from yutang.web.deps import ConsoleRoute, Page, console, form_errors, is_htmx
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)


@router.get("/channels")
def channel_list(request: Request):
    """Channels with kind, role, traffic domain and total acquisition cost."""
    with console(request) as page:
        return page.render("channels/list.html", **_panel(page))


@router.post("/channels")
def create_channel(request: Request, name: Annotated[str, Form()] = "", code: Annotated[str, Form()] = "",
                   kind: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "auxiliary",
                   domain: Annotated[str, Form()] = ""):
    """Add a channel; errors come back inline next to their fields."""
    form = {"name": name, "code": code, "kind": kind, "role": role, "domain": domain}
    errors: dict[str, str] = {}
    created_id = None
    with console(request) as page:
        try:
            with page.session.begin_nested():
                data = ChannelIn(name=name.strip(), code=code.strip(), kind=kind, role=role,
                                 domain=domain or None)
                created_id = channels_service.create_channel(page.session, actor=page.actor, data=data).id
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("name", "code"))
        if not is_htmx(request) and not errors:
            return RedirectResponse("/console/channels", status_code=303)
        context = _panel(page, form=form if errors else {}, errors=errors, created_id=created_id)
        template = "channels/_panel.html" if is_htmx(request) else "channels/list.html"
        return page.render(template, status=422 if errors else 200, **context)


def _panel(page: Page, *, form: dict | None = None, errors: dict | None = None,
           created_id: int | None = None) -> dict:
    return {"channels": channels_service.list_channels(page.session, actor=page.actor),
            "costs": channels_service.total_costs(page.session, actor=page.actor),
            "can_manage": page.actor.can(Permission.BULK),
            "kinds": list(ChannelKind), "roles": list(ChannelRole), "domains": list(TrafficDomain),
            "form": form or {}, "errors": errors or {}, "created_id": created_id}
