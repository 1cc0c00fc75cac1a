"""The webhooks pages: endpoints with their state and a form to add one; an endpoint's deliveries, replay, rotation."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.kit.errors import DomainError
from yutang.warehouse.own_events import CATALOGUE
from yutang.web.deps import ConsoleRoute, Page, console, form_errors
from yutang.webhooks import service
from yutang.webhooks.schemas import EndpointIn, EndpointPatch

router = APIRouter(route_class=ConsoleRoute)


def _list(page: Page, **extra) -> dict:
    endpoints = service.list_endpoints(page.session, actor=page.actor)
    return {"endpoints": endpoints, "catalogue": CATALOGUE, "errors": {}, "form": {"events": []},
            "turned_off": [e for e in endpoints if e.disabled_reason]} | extra


@router.get("/webhooks")
def endpoint_list(request: Request):
    """Endpoints (owners): what each receives, whether it is on, and why Yutang turned one off."""
    with console(request) as page:
        return page.render("webhooks/list.html", **_list(page))


@router.post("/webhooks")
def endpoint_create(request: Request, url: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
                    events: Annotated[list[str] | None, Form()] = None):
    """Subscribe a URL; its signing secret is shown on the page that follows, once."""
    errors: dict[str, str] = {}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                created = service.create_endpoint(page.session, actor=page.actor, data=EndpointIn(
                    url=url.strip(), description=description.strip(), events=events or []))
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("url", "events", "description"))
        if errors:
            form = {"url": url, "description": description, "events": events or []}
            return page.render("webhooks/list.html", status=422, **_list(page, errors=errors, form=form))
        return page.render("webhooks/detail.html", **_detail(page, created.id, secret=created.secret))


def _detail(page: Page, endpoint_id: int, **extra) -> dict:
    return {"endpoint": service.get_endpoint(page.session, actor=page.actor, endpoint_id=endpoint_id),
            "deliveries": service.list_deliveries(page.session, actor=page.actor, endpoint_id=endpoint_id,
                                                  limit=100).items, "secret": None} | extra


@router.get("/webhooks/{endpoint_id}")
def endpoint_view(request: Request, endpoint_id: int):
    """An endpoint and its delivery log."""
    with console(request) as page:
        return page.render("webhooks/detail.html", **_detail(page, endpoint_id))


@router.post("/webhooks/{endpoint_id}/enabled")
def endpoint_toggle(request: Request, endpoint_id: int, enabled: Annotated[bool, Form()] = False):
    """Turn an endpoint on (what waited is sent) or off."""
    with console(request) as page:
        service.update_endpoint(page.session, actor=page.actor, endpoint_id=endpoint_id,
                                data=EndpointPatch(enabled=enabled))
        return RedirectResponse(f"/console/webhooks/{endpoint_id}", status_code=303)


@router.post("/webhooks/{endpoint_id}/rotate")
def endpoint_rotate(request: Request, endpoint_id: int, grace_hours: Annotated[int, Form(ge=0, le=720)] = 24):
    """A new secret, shown once; the old one signs beside it for the grace period."""
    with console(request) as page:
        rotated = service.rotate_secret(page.session, actor=page.actor, endpoint_id=endpoint_id,
                                        grace_seconds=grace_hours * 3600)
        return page.render("webhooks/detail.html", **_detail(page, endpoint_id, secret=rotated.secret))


@router.post("/webhooks/deliveries/{delivery_id}/replay")
def delivery_replay(request: Request, delivery_id: int):
    """Send a delivery again."""
    with console(request) as page:
        replayed = service.replay(page.session, actor=page.actor, delivery_id=delivery_id)
        return RedirectResponse(f"/console/webhooks/{replayed.endpoint_id}", status_code=303)
