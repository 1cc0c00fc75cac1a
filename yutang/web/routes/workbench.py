"""The guide's workbench on a phone: my customers, today's tasks with check-off, notes and a send through WeCom
(with the library's picker)."""

from datetime import UTC, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.archive import listing
from yutang.customers import service as customers_service
from yutang.customers.schemas import NoteIn
from yutang.kit.clock import utcnow
from yutang.kit.errors import DomainError
from yutang.messaging import service as messaging_service
from yutang.stores import service as stores_service
from yutang.stores.schemas import GroupSendIn, TaskIn
from yutang.tags import service as tags_service
from yutang.web.deps import ConsoleRoute, Page, console, form_errors, pipeline
from yutang.web.routes import groups as library

router = APIRouter(route_class=ConsoleRoute)
PER_PAGE = 20
FIELDS = ("title", "due_on", "customer_id", "config_id", "customer_ids", "text", "body", "staff_id",
          "material_id")


def my_customers(page: Page, number: int = 1) -> listing.ListPage:
    """The caller's customers (a guide's own: the role's data scope), last purchase first."""
    return listing.list_page(page.session, actor=page.actor, warehouse=pipeline(page.request).warehouse,
                             search=listing.Search(sort="last_purchase"), page=number, per_page=PER_PAGE)


def _context(page: Page, number: int = 1) -> dict:
    session, actor = page.session, page.actor
    me = stores_service.staff_of_member(session, workspace_id=actor.workspace_id, member_id=actor.member_id) \
        if actor.member_id is not None else None
    tasks = stores_service.list_tasks(session, actor=actor, today=True, staff_id=me.id if me else None) \
        if me is not None else []
    customers = my_customers(page, number)
    now = utcnow()
    overdue = {t.id for t in tasks if t.status in ("open", "waiting")
               and (t.due_at if t.due_at.tzinfo else t.due_at.replace(tzinfo=UTC)) < now}
    return {"me": me, "customers": customers,
            "quick_tags": tags_service.first_tags(session, actor=actor),
            "tag_ids": tags_service.tag_ids_of(session, customer_ids=[row.customer.id for row in customers.rows]),
            "tasks": stores_service.present_tasks(session, tasks=tasks), "overdue": overdue,
            "configs": [c for c in messaging_service.list_channels(session, actor=actor) if c.kind == "wecom"],
            "errors": {}, "form": {}} | library.picker(page)


def _render(page: Page, errors: dict, form: dict):
    return page.render("workbench/workbench.html", status=422 if errors else 200,
                       **(_context(page) | {"errors": errors, "form": form}))


@router.get("/workbench")
def workbench(request: Request, page: int = 1):
    """My customers, today's to-do list and the send form."""
    with console(request, read_only=True) as view:
        return view.render("workbench/workbench.html", **_context(view, max(page, 1)))


@router.post("/workbench/tasks")
def add_task(request: Request, title: Annotated[str, Form()] = "", due_on: Annotated[str, Form()] = "",
             customer_id: Annotated[str, Form()] = ""):
    """Give myself a follow-up task, due at the end of the day chosen."""
    form = {"title": title, "due_on": due_on, "customer_id": customer_id}
    with console(request) as page:
        try:
            due = datetime.combine(datetime.fromisoformat(due_on).date(), time(23, 59),
                                   tzinfo=ZoneInfo(page.actor.timezone)) if due_on else None
            with page.session.begin_nested():
                stores_service.create_task(page.session, actor=page.actor, data=TaskIn(
                    title=title.strip(), due_at=due, customer_id=int(customer_id) if customer_id.isdigit() else None))
        except (ValidationError, DomainError) as exc:
            return _render(page, form_errors(exc, page.gettext, fields=FIELDS,
                                             domain={"due_at": page.gettext("Choose the day it is due.")}), form)
        except ValueError:
            return _render(page, {"due_on": page.gettext("Choose the day it is due.")}, form)
    return RedirectResponse("/console/workbench", status_code=303)


@router.post("/workbench/tasks/{task_id}/done")
def task_done(request: Request, task_id: int):
    """Check a task off."""
    with console(request) as page:
        try:
            with page.session.begin_nested():
                stores_service.complete_task(page.session, actor=page.actor, task_id=task_id)
        except DomainError:
            return _render(page, {"": page.gettext("This task cannot be checked off here.")}, {})
    return RedirectResponse("/console/workbench", status_code=303)


@router.post("/workbench/customers/{customer_id}/notes")
def add_note(request: Request, customer_id: int, body: Annotated[str, Form()] = ""):
    """A note on one of my customers."""
    with console(request) as page:
        try:
            with page.session.begin_nested():
                customers_service.add_note(page.session, actor=page.actor, customer_id=customer_id,
                                           data=NoteIn(body=body.strip()))
        except (ValidationError, DomainError) as exc:
            return _render(page, form_errors(exc, page.gettext, fields=FIELDS), {"body": body})
    return RedirectResponse("/console/workbench", status_code=303)


@router.post("/workbench/customers/{customer_id}/tags/{tag_id}")
def toggle_tag(request: Request, customer_id: int, tag_id: int):
    """A quick tag: one tap puts it on the customer, or takes it off when they carry it."""
    with console(request) as page:
        try:
            with page.session.begin_nested():
                tag = tags_service.get_tag(page.session, actor=page.actor, tag_id=tag_id)
                carried = tag_id in tags_service.tag_ids_of(page.session, customer_ids=[customer_id])[customer_id]
                tags_service.apply(page.session, actor=page.actor, customer_ids=[customer_id],
                                   add=[] if carried else [tag], remove=[tag] if carried else [])
        except DomainError:
            return _render(page, {"": page.gettext("This tag cannot be changed here.")}, {})
    return RedirectResponse(f"/console/workbench#customer-{customer_id}", status_code=303)


@router.post("/workbench/send")
async def send(request: Request):
    """Send to the customers ticked through WeCom: a group send I confirm in the WeCom app."""
    data = await request.form()
    form = {"config_id": str(data.get("config_id", "")), "text": str(data.get("text", "")),
            "customer_ids": [str(v) for v in data.getlist("customer_ids")],
            "material_id": str(data.get("material_id", ""))}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                material_id, text = library.text_of_material(page, form["material_id"], form["text"].strip())
                customer_ids = [int(v) for v in form["customer_ids"] if v.isdigit()]
                stores_service.send_through_wecom(page.session, actor=page.actor, data=GroupSendIn(
                    config_id=form["config_id"] or 0, text=text, customer_ids=customer_ids))
                library.record_use(page, material_id, channel="workbench", customer_ids=customer_ids)
        except (ValidationError, DomainError) as exc:
            return _render(page, form_errors(exc, page.gettext, fields=FIELDS), form)
    return RedirectResponse("/console/workbench", status_code=303)
