"""Messaging in the console: the inbox (threads, replies, quick replies), templates with a live preview,
channel adapter settings (secrets write-only) and the delivery log."""

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.customers import service as customers_service
from yutang.kit.errors import DomainError, Invalid
from yutang.messaging import inbox, service
from yutang.messaging.schemas import (
    ChannelKind,
    PreviewIn,
    ReplyIn,
    TemplateIn,
    TemplatePurpose,
)
from yutang.messaging.templating import VARIABLES
from yutang.web.deps import ConsoleRoute, Page, console, form_errors, is_htmx
from yutang.web.routes import groups as library
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)


def _names(page: Page, customer_ids: set[int]) -> dict[int, str]:
    """Customer names as the actor may see them (masked for roles without personal data)."""
    customers = customers_service.visible_by_id(page.session, actor=page.actor, customer_ids=customer_ids)
    return {c.id: c.name for c in customers_service.present(page.session, actor=page.actor, customers=customers)}


def _members(page: Page) -> dict[int, str]:
    return {m.id: m.name for m in workspaces_service.list_members(page.session, actor=page.actor)}


# ---- inbox ---------------------------------------------------------------------------------------------------


@router.get("/inbox")
def inbox_list(request: Request, view: str = "open"):
    """Open threads (all, mine, waiting in a queue) or resolved ones."""
    with console(request) as page:
        status = "resolved" if view == "resolved" else "open"
        threads = inbox.list_threads(page.session, actor=page.actor, status=status,
                                     member_id=page.actor.member_id if view == "mine" else None,
                                     unassigned=view == "waiting", limit=100)
        return page.render("messaging/inbox.html", threads=[inbox.present(t) for t in threads], view=view,
                           names=_names(page, {t.customer_id for t in threads}), members=_members(page))


def _thread(page: Page, thread_id: int, **extra) -> dict:
    thread = inbox.get_thread(page.session, actor=page.actor, thread_id=thread_id)
    return {"thread": inbox.present(thread), "messages": inbox.messages_of(page.session, thread_id=thread.id),
            "names": _names(page, {thread.customer_id}), "members": _members(page),
            "quick_replies": service.list_templates(page.session, actor=page.actor, purpose="quick_reply"),
            "can_write": page.actor.can(Permission.WRITE), "errors": {}, "form": {}} | library.picker(page) | extra


@router.get("/inbox/{thread_id}")
def thread_view(request: Request, thread_id: int):
    """A conversation with the reply box."""
    with console(request) as page:
        return page.render("messaging/thread.html", **_thread(page, thread_id))


@router.post("/inbox/{thread_id}/replies")
def thread_reply(request: Request, thread_id: int, body: Annotated[str, Form()] = "",
                 template_id: Annotated[str, Form()] = "", material_id: Annotated[str, Form()] = ""):
    """Reply (a script from the library counts as its use); HTMX gets the conversation back."""
    errors: dict[str, str] = {}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                material, text = library.text_of_material(page, material_id, body.strip())
                data = ReplyIn(body=text or None, template_id=int(template_id) if template_id else None)
                message = inbox.reply(page.session, actor=page.actor, thread_id=thread_id, data=data,
                                      link_base=str(request.base_url).rstrip("/"))
                if message.customer_id is not None:
                    library.record_use(page, material, channel="inbox", customer_ids=[message.customer_id])
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("body", "material_id"))
        if not errors and not is_htmx(request):
            return RedirectResponse(f"/console/inbox/{thread_id}", status_code=303)
        context = _thread(page, thread_id, errors=errors, form={"body": body} if errors else {})
        name = "messaging/_conversation.html" if is_htmx(request) else "messaging/thread.html"
        return page.render(name, status=422 if errors else 200, **context)


@router.post("/inbox/{thread_id}/resolve")
def thread_resolve(request: Request, thread_id: int):
    """Mark resolved."""
    with console(request) as page:
        inbox.resolve(page.session, actor=page.actor, thread_id=thread_id)
        return RedirectResponse(f"/console/inbox/{thread_id}", status_code=303)


# ---- templates -----------------------------------------------------------------------------------------------


def _templates(page: Page, **extra) -> dict:
    return {"templates": service.list_templates(page.session, actor=page.actor), "kinds": list(ChannelKind),
            "purposes": list(TemplatePurpose), "variables": VARIABLES, "errors": {}, "form": {},
            "can_write": page.actor.can(Permission.WRITE), "created_id": None} | extra


def _template_in(name: str, channel_kind: str, purpose: str, subject: str, body: str, payload: str) -> TemplateIn:
    try:
        parsed = json.loads(payload) if payload.strip() else {}
    except ValueError as exc:
        raise Invalid("payload is not JSON", field="payload") from exc
    return TemplateIn(name=name.strip(), channel_kind=channel_kind, purpose=purpose, subject=subject or None,
                      body=body, payload=parsed)


@router.get("/templates")
def template_list(request: Request):
    """Templates and the form to add one, with its preview."""
    with console(request) as page:
        return page.render("messaging/templates.html", **_templates(page))


@router.post("/templates")
def template_create(request: Request, name: Annotated[str, Form()] = "", channel_kind: Annotated[str, Form()] = "",
                    purpose: Annotated[str, Form()] = "marketing", subject: Annotated[str, Form()] = "",
                    body: Annotated[str, Form()] = "", payload: Annotated[str, Form()] = ""):
    """Add a template; errors come back inline."""
    form = {"name": name, "channel_kind": channel_kind, "purpose": purpose, "subject": subject, "body": body,
            "payload": payload}
    errors: dict[str, str] = {}
    created = None
    with console(request) as page:
        try:
            with page.session.begin_nested():
                created = service.create_template(page.session, actor=page.actor, data=_template_in(
                    name, channel_kind, purpose, subject, body, payload)).id
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("name", "subject", "body", "payload"))
        if not errors and not is_htmx(request):
            return RedirectResponse("/console/templates", status_code=303)
        context = _templates(page, errors=errors, form=form if errors else {}, created_id=created)
        name_ = "messaging/_templates.html" if is_htmx(request) else "messaging/templates.html"
        return page.render(name_, status=422 if errors else 200, **context)


@router.post("/templates/preview")
def template_preview(request: Request, channel_kind: Annotated[str, Form()] = "email",
                     subject: Annotated[str, Form()] = "", body: Annotated[str, Form()] = "",
                     payload: Annotated[str, Form()] = "", customer: Annotated[str, Form()] = ""):
    """The draft rendered for a sample customer (by id, phone or email) or sample values."""
    with console(request) as page:
        error, rendered = None, None
        try:
            customer_id = None
            if customer.strip():
                found = customers_service.search(page.session, actor=page.actor, q=customer.strip(), limit=1)
                if customer.strip().isdigit() and not found:
                    found = [customers_service.get_customer(page.session, actor=page.actor,
                                                            customer_id=int(customer))]
                if not found:
                    raise Invalid(page.gettext("No such customer."), field="customer")
                customer_id = found[0].id
            draft = _template_in("preview", channel_kind, "service", subject, body, payload)
            rendered = service.preview(page.session, actor=page.actor,
                                       data=PreviewIn(template=draft, customer_id=customer_id))
        except (ValidationError, DomainError) as exc:
            error = next(iter(form_errors(exc, page.gettext, fields=()).values()))
        return page.render("messaging/_preview.html", rendered=rendered, error=error)


# ---- channel adapters and the delivery log ------------------------------------------------------------------


def _channels(page: Page, **extra) -> dict:
    return {"configs": [service.present_channel(page.session, c)
                        for c in service.list_channels(page.session, actor=page.actor)],
            "kinds": list(ChannelKind), "can_admin": page.actor.can(Permission.ADMIN), "errors": {}, "form": {},
            "report": service.delivery_report(page.session, actor=page.actor),
            "messages": service.list_messages(page.session, actor=page.actor, limit=100)} | extra


@router.get("/messages")
def message_log(request: Request):
    """Delivery report and log, and the channel adapters' settings."""
    with console(request) as page:
        context = _channels(page)
        return page.render("messaging/messages.html", names=_names(page, {m.customer_id for m in context["messages"]
                                                                          if m.customer_id}), **context)
