"""Broadcasts in the console: the composer (segments, channel, template, schedule, priority) with a live audience
size after contact pressure, the list, and each broadcast's delivery report."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.customers import service as customers_service
from yutang.kit.errors import DomainError
from yutang.messaging import broadcasts, service
from yutang.messaging.schemas import BroadcastIn, PreviewIn
from yutang.segments import service as segments_service
from yutang.web.deps import CaughtUp, ConsoleRoute, Page, console, form_errors
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)
FIELDS = ("name", "segment_ids", "channel_id", "template_id", "priority", "send_at")


def _composer(page: Page, **extra) -> dict:
    return {"broadcasts": broadcasts.list_broadcasts(page.session, actor=page.actor, limit=100),
            "segments": segments_service.list_segments(page.session, actor=page.actor, limit=200),
            "channels": [c for c in service.list_channels(page.session, actor=page.actor) if c.enabled],
            "templates": [t for t in service.list_templates(page.session, actor=page.actor)
                          if t.purpose != "quick_reply"],
            "channel_kinds": {c.id: c.kind for c in service.list_channels(page.session, actor=page.actor)},
            "can_send": page.actor.can(Permission.BULK), "errors": {}, "form": {}} | extra


def _data(name: str, segment_ids: list[str], channel_id: str, template_id: str, priority: str,
          send_at: str) -> BroadcastIn:
    return BroadcastIn(name=name.strip() or "-", segment_ids=[s for s in segment_ids if s], channel_id=channel_id or 0,
                       template_id=template_id or 0, priority=priority or 0,
                       send_at=datetime.fromisoformat(send_at) if send_at.strip() else None)


@router.get("/broadcasts")
def broadcast_list(request: Request):
    """Broadcasts and the composer."""
    with console(request) as page:
        return page.render("messaging/broadcasts.html", **_composer(page))


@router.get("/broadcasts/template-options")
def broadcast_template_options(request: Request, channel_id: str = ""):
    """The template choice for the chosen channel: only templates of its kind (HTMX partial)."""
    with console(request, read_only=True) as page:
        return page.render("messaging/_template_select.html", **_composer(page, form={"channel_id": channel_id}))


@router.post("/broadcasts/preview")
def broadcast_preview(request: Request, pipeline: CaughtUp, name: Annotated[str, Form()] = "",
                      segment_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI reads it)
                      channel_id: Annotated[str, Form()] = "", template_id: Annotated[str, Form()] = "",
                      priority: Annotated[str, Form()] = "0", send_at: Annotated[str, Form()] = ""):
    """The audience before and after suppression, by reason (HTMX partial)."""
    with console(request, read_only=True) as page:
        counts, error, sample, name_of = None, None, None, {}
        try:
            data = _data(name, segment_ids, channel_id, template_id, priority, send_at)
            counts = broadcasts.preview(page.session, pipeline.warehouse, actor=page.actor, data=data)
            if counts["sample_customer_id"]:
                # A role that sees personal data masked reads the message filled with sample values instead.
                own = counts["sample_customer_id"] if page.actor.can(Permission.SEE_PII) else None
                sample = service.preview(page.session, actor=page.actor, data=PreviewIn(
                    template_id=data.template_id, customer_id=own))
                name_of = customers_service.display_names(page.session, actor=page.actor,
                                                          customer_ids=[counts["sample_customer_id"]])
        except (ValidationError, DomainError, ValueError) as exc:
            error = (next(iter(form_errors(exc, page.gettext, fields=()).values()))
                     if isinstance(exc, ValidationError | DomainError) else str(exc))
        return page.render("messaging/_audience.html", counts=counts, error=error, sample=sample, names=name_of,
                           can_see_pii=page.actor.can(Permission.SEE_PII))


@router.post("/broadcasts")
def broadcast_create(request: Request, name: Annotated[str, Form()] = "",
                     segment_ids: Annotated[list[str], Form()] = [],  # noqa: B006
                     channel_id: Annotated[str, Form()] = "", template_id: Annotated[str, Form()] = "",
                     priority: Annotated[str, Form()] = "0", send_at: Annotated[str, Form()] = ""):
    """Schedule a broadcast (now when no time is given); errors come back inline."""
    form = {"name": name, "segment_ids": segment_ids, "channel_id": channel_id, "template_id": template_id,
            "priority": priority, "send_at": send_at}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                made = broadcasts.create(page.session, actor=page.actor, data=_data(
                    name, segment_ids, channel_id, template_id, priority, send_at))
        except ValueError as exc:  # pydantic's ValidationError is one
            errors = (form_errors(exc, page.gettext, fields=FIELDS) if isinstance(exc, ValidationError)
                      else {"send_at": str(exc)})
        except DomainError as exc:
            errors = form_errors(exc, page.gettext, fields=FIELDS)
        else:
            if not send_at.strip():
                request.app.state.broadcaster.wake()
            return RedirectResponse(f"/console/broadcasts/{made.id}", status_code=303)
        return page.render("messaging/broadcasts.html", status=422, **_composer(page, errors=errors, form=form))


@router.get("/broadcasts/{broadcast_id}")
def broadcast_report(request: Request, broadcast_id: int):
    """A broadcast's delivery report: messages by state, suppressions by reason, the first recipients."""
    with console(request) as page:
        broadcast = broadcasts.get(page.session, actor=page.actor, broadcast_id=broadcast_id)
        rows = broadcasts.recipients(page.session, actor=page.actor, broadcast_id=broadcast.id, limit=100)
        names = customers_service.display_names(page.session, actor=page.actor,
                                                customer_ids=[r.customer_id for r, _ in rows if r.customer_id])
        return page.render("messaging/broadcast.html", broadcast=broadcast, recipients=rows, names=names,
                           by_state=broadcasts.delivery_states(page.session, broadcast_id=broadcast.id),
                           can_send=page.actor.can(Permission.BULK))


@router.post("/broadcasts/{broadcast_id}/cancel")
def broadcast_cancel(request: Request, broadcast_id: int):
    """Cancel a scheduled broadcast."""
    with console(request) as page:
        broadcasts.cancel(page.session, actor=page.actor, broadcast_id=broadcast_id)
    return RedirectResponse(f"/console/broadcasts/{broadcast_id}", status_code=303)
