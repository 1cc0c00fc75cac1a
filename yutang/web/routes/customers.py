"""The customer list (search and filters, reloaded by HTMX) and the customer archive with its notes and timeline."""

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.archive import service as archive_service
from yutang.channels import service as channels_service
from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerOut, IdentityKind, NoteIn
from yutang.events import service as events_service
from yutang.events import timeline as timeline_query
from yutang.events.schemas import TimelineEntry
from yutang.kit.errors import DomainError, NotFound
from yutang.kit.pagination import decode_cursor, encode_cursor
from yutang.tags import service as tags_service
from yutang.web.deps import CaughtUp, ConsoleRoute, Page, caught_up, console, form_errors, is_htmx, pipeline
from yutang.web.routes import loyalty as loyalty_pages
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = 50
TIMELINE_PAGE = 20
STATUSES = (customers_service.ACTIVE, customers_service.MERGED, customers_service.ERASED)


@dataclass
class Filters:
    """The list's search box and selects, as given in the query string."""

    q: str = ""
    tag: int | None = None
    channel: int | None = None
    status: str = customers_service.ACTIVE

    def query(self, **extra) -> str:
        """These filters (plus extra parameters) as a query string."""
        params = {"q": self.q, "tag": self.tag, "channel": self.channel, "status": self.status, **extra}
        return urlencode({k: v for k, v in params.items() if v not in (None, "")})


@dataclass
class Timeline:
    """One page of the archive's timeline with what its rows name: chips, the next page, members, channels …"""

    customer_id: int
    items: list[TimelineEntry]
    chips: list[dict]
    more: dict | None
    members: dict[int, str]
    channels: dict[int, str]
    sources: dict[str, str]
    tags: dict[int, str]


@dataclass
class Row:
    """One line of the customer list."""

    customer: CustomerOut
    phone: str | None
    channel: str | None
    tags: list[str]


def _number(text: str) -> int | None:
    return int(text) if text.strip().isdigit() and len(text.strip()) <= 18 else None


@router.get("/customers")
def customer_list(request: Request, q: str = "", tag: str = "", channel: str = "", status: str = "",
                  cursor: str = ""):
    """Customers newest first; an HTMX request gets just the results table."""
    filters = Filters(q=q.strip(), tag=_number(tag), channel=_number(channel),
                      status=status if status in STATUSES else customers_service.ACTIVE)
    with console(request) as page:
        rows, next_cursor = _search(page, filters, cursor)
        next_url = f"/console/customers?{filters.query(cursor=next_cursor)}" if next_cursor else None
        context = {"rows": rows, "filters": filters, "next_url": next_url}
        if is_htmx(request):
            return page.render("customers/_results.html", **context)
        return page.render("customers/list.html", statuses=STATUSES,
                           tag_groups=tags_service.list_groups(page.session, actor=page.actor),
                           channels=channels_service.list_channels(page.session, actor=page.actor), **context)


def _search(page: Page, filters: Filters, cursor: str) -> tuple[list[Row], str | None]:
    session, actor = page.session, page.actor
    found = customers_service.search(
        session, actor=actor, q=filters.q or None, channel_id=filters.channel, status=filters.status,
        restrict_to=tags_service.customers_with(actor, tag_ids=[filters.tag]) if filters.tag else None,
        before_id=decode_cursor(cursor or None), limit=PAGE_SIZE + 1)
    next_cursor = encode_cursor(found[PAGE_SIZE - 1].id) if len(found) > PAGE_SIZE else None
    found = found[:PAGE_SIZE]
    shapes = customers_service.present(session, actor=actor, customers=found)
    channels = channels_service.channels_by_id(session, actor=actor,
                                               ids={c.first_channel_id for c in found} - {None})
    tags = tags_service.tag_names_of(session, customer_ids=[c.id for c in found])
    rows = [Row(customer=shape,
                phone=next((i.value for i in shape.identities if i.kind is IdentityKind.PHONE), None),
                channel=channels[shape.first_channel_id].name if shape.first_channel_id in channels else None,
                tags=tags[shape.id])
            for shape in shapes]
    return rows, next_cursor


@router.get("/customers/{customer_id}")
def customer_archive(request: Request, _: CaughtUp, customer_id: int, kind: Annotated[list[str], Query()] = (),
                     cursor: str = ""):
    """The customer archive (客户档案), with the timeline (filtered by ?kind=, resumed at ?cursor=)."""
    with console(request) as page:
        context = _archive(page, customer_id) | _timeline(page, customer_id, kind, cursor)
        return page.render("customers/archive.html", **context)


@router.get("/customers/{customer_id}/timeline")
def customer_timeline(request: Request, customer_id: int, kind: Annotated[list[str], Query()] = (),
                      cursor: str = ""):
    """HTMX partials of the timeline: the whole section for a kind filter, more rows for a cursor."""
    if not is_htmx(request):
        query = urlencode({"kind": _kinds(kind), **({"cursor": cursor} if cursor else {})}, doseq=True)
        return RedirectResponse(f"/console/customers/{customer_id}?{query}#timeline", status_code=303)
    caught_up(request)
    with console(request) as page:
        context = _timeline(page, customer_id, kind, cursor)
        return page.render("customers/_timeline_rows.html" if cursor else "customers/_timeline.html", **context)


@router.post("/customers/{customer_id}/notes")
def add_note(request: Request, customer_id: int, body: Annotated[str, Form()] = ""):
    """Add a note; HTMX gets the notes section back, a plain form post goes back to the archive."""
    errors: dict[str, str] = {}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                customers_service.add_note(page.session, actor=page.actor, customer_id=customer_id,
                                           data=NoteIn(body=body.strip()))
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("body",))
        if not errors and not is_htmx(request):
            return RedirectResponse(f"/console/customers/{customer_id}#notes", status_code=303)
        context = _archive(page, customer_id) | {"errors": errors, "form": {"body": body} if errors else {}}
        if is_htmx(request):
            return page.render("customers/_notes.html", status=422 if errors else 200, **context)
        context |= _timeline(page, customer_id, [], "")
        return page.render("customers/archive.html", status=422 if errors else 200, **context)


def _archive(page: Page, customer_id: int) -> dict:
    session, actor = page.session, page.actor
    archive = archive_service.archive(session, actor=actor, customer_id=customer_id,
                                      warehouse=pipeline(page.request).warehouse)
    # Orders may come through channels the customer is not a member of; name those too.
    unnamed = {o.channel_id for o in archive.orders} - set(archive.channel_names)
    extra = channels_service.channels_by_id(session, actor=actor, ids=unnamed)
    return {"archive": archive,
            "channel_names": archive.channel_names | {cid: c.name for cid, c in extra.items()},
            "members": {m.id: m.name for m in workspaces_service.list_members(session, actor=actor)},
            "can_write": actor.can(Permission.WRITE), "errors": {}, "form": {},
            "loyalty": loyalty_pages.customer_section(page, customer_id)}


# ---- the timeline ---------------------------------------------------------------------------------------


def _kinds(values) -> list[str]:
    """The known kinds asked for, in their usual order (the console ignores anything else)."""
    return [k for k in timeline_query.KINDS if k in set(values)]


def _toggled(kinds: list[str], kind: str) -> list[str]:
    """The kinds after clicking one chip: from all, just that kind; else toggled (none or all left means all)."""
    if not kinds:
        return [kind]
    chosen = [k for k in timeline_query.KINDS if (k in kinds) != (k == kind)]
    return [] if len(chosen) == len(timeline_query.KINDS) else chosen


def _timeline(page: Page, customer_id: int, kind, cursor: str) -> dict:
    session, actor = page.session, page.actor
    kinds = _kinds(kind)
    result = timeline_query.timeline(session, actor=actor, warehouse=pipeline(page.request).warehouse,
                                     customer_id=customer_id, kinds=set(kinds),
                                     before=timeline_query.decode_cursor(cursor or None), limit=TIMELINE_PAGE)
    base = f"/console/customers/{customer_id}"

    def urls(chosen: list[str], next_cursor: str | None = None) -> dict:
        query = urlencode({"kind": chosen, **({"cursor": next_cursor} if next_cursor else {})}, doseq=True)
        return {"partial": f"{base}/timeline?{query}", "href": f"{base}?{query}#timeline"}

    chips = [{"kind": None, "pressed": not kinds, **urls([])}]
    chips += [{"kind": k, "pressed": k in kinds, **urls(_toggled(kinds, k))} for k in timeline_query.KINDS]
    channel_ids = {e.detail["channel_id"] for e in result.items if e.kind == "order"}
    tag_ids: set = set()
    for entry in result.items:  # tags named by Yutang's tag events and by tagging changes
        if entry.kind == "event" and entry.detail["source"] == "yutang":
            tag_ids.add(entry.detail["properties"].get("tag_id"))
        elif entry.kind == "change" and entry.name == "customer.tagged":
            tag_ids.update(entry.detail["changes"].get("add", []) + entry.detail["changes"].get("remove", []))
    channels = channels_service.channels_by_id(session, actor=actor, ids=channel_ids)
    return {"timeline": Timeline(
        customer_id=customer_id, items=result.items, chips=chips,
        more=urls(kinds, result.next_cursor) if result.next_cursor else None,
        members={m.id: m.name for m in workspaces_service.list_members(session, actor=actor)},
        channels={channel_id: channel.name for channel_id, channel in channels.items()},
        sources={str(source.id): source.name for source in events_service.list_sources(session, actor=actor)},
        tags=_tag_names(page, {t for t in tag_ids if isinstance(t, int)}))}


def _tag_names(page: Page, ids: set[int]) -> dict[int, str]:
    names = {}
    for tag_id in sorted(ids):
        try:
            names[tag_id] = tags_service.get_tag(page.session, actor=page.actor, tag_id=tag_id).name
        except NotFound:  # deleted since
            continue
    return names
