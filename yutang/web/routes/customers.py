"""The customer list (search and filters, reloaded by HTMX) and the customer archive with its notes and timeline."""

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import ValidationError

from yutang.archive import listing
from yutang.archive import service as archive_service
from yutang.channels import service as channels_service
from yutang.customers import service as customers_service
from yutang.customers.schemas import NoteIn
from yutang.events import service as events_service
from yutang.events import timeline as timeline_query
from yutang.events.schemas import TimelineEntry
from yutang.groups import service as groups_service
from yutang.kit.errors import DomainError, Invalid, NotFound
from yutang.tags import flows as tags_flows
from yutang.tags import service as tags_service
from yutang.tags.schemas import BulkTaggingIn, CustomerMatch, TagRef
from yutang.web.deps import (
    CaughtUp,
    ConsoleRoute,
    Page,
    caught_up,
    console,
    database,
    form_errors,
    is_htmx,
    pipeline,
)
from yutang.web.i18n import N_
from yutang.web.routes import loyalty as loyalty_pages
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = 50
TIMELINE_PAGE = 20
CHOOSE_TAG = N_("Choose a tag.")
TICK_CUSTOMERS = N_("Tick the customers to tag, or choose everyone matching the search.")
TAGGED = N_("Tag added: %(n)s customers chosen, %(changed)s newly tagged.")
UNTAGGED = N_("Tag removed: %(n)s customers chosen, %(changed)s untagged.")
STATUSES = (customers_service.ACTIVE, customers_service.MERGED, customers_service.ERASED)


@dataclass
class Filters:
    """The list's search box, selects, sort and page, as given in the query string."""

    q: str = ""
    tag: int | None = None
    channel: int | None = None
    status: str = customers_service.ACTIVE
    sort: str = "created"
    order: str = "desc"
    page: int = 1

    def query(self, **extra) -> str:
        """These filters (with some replaced or added) as a query string."""
        params = {"q": self.q, "tag": self.tag, "channel": self.channel, "status": self.status, "sort": self.sort,
                  "order": self.order, "page": self.page, **extra}
        defaults = {"status": customers_service.ACTIVE, "sort": "created", "order": "desc", "page": 1}
        return urlencode({k: v for k, v in params.items() if v not in (None, "") and defaults.get(k) != v})

    def search(self) -> listing.Search:
        """The archive's search for these filters."""
        return listing.Search(q=self.q or None, tag_ids=(self.tag,) if self.tag else (), channel_id=self.channel,
                              status=self.status, sort=self.sort, descending=self.order == "desc")

    def sorted_by(self, sort: str) -> str:
        """The list's URL sorted by a column: a second click on the column flips the order."""
        order = ("asc" if self.order == "desc" else "desc") if sort == self.sort else (
            "asc" if sort == "name" else "desc")
        return f"/console/customers?{self.query(sort=sort, order=order, page=1)}"


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
    groups: dict[int, str]


def _number(text: str) -> int | None:
    return int(text) if text.strip().isdigit() and len(text.strip()) <= 18 else None


def _filters(q: str, tag: str, channel: str, status: str, sort: str, order: str, page: str) -> Filters:
    return Filters(q=q.strip(), tag=_number(tag), channel=_number(channel),
                   status=status if status in STATUSES else customers_service.ACTIVE,
                   sort=sort if sort in customers_service.SORTS else "created",
                   order=order if order in ("asc", "desc") else "desc", page=_number(page) or 1)


@router.get("/customers")
def customer_list(request: Request, q: str = "", tag: str = "", channel: str = "", status: str = "",
                  sort: str = "", order: str = "", page: str = ""):
    """Customers with the total, sorted, in numbered pages; an HTMX request gets just the results."""
    filters = _filters(q, tag, channel, status, sort, order, page)
    with console(request) as view:
        return _list(view, filters)


def _list(view: Page, filters: Filters, *, status: int = 200, **extra):
    found = listing.list_page(view.session, actor=view.actor, warehouse=pipeline(view.request).warehouse,
                              search=filters.search(), page=filters.page)
    filters.page = found.page
    context = {"found": found, "filters": filters, "pages": _page_numbers(found.page, found.pages),
               "can_bulk": view.actor.can(Permission.BULK),
               "can_export": not view.actor.sees_own_customers_only,
               "tag_groups": tags_service.list_groups(view.session, actor=view.actor, counted=False), **extra}
    if is_htmx(view.request) and "bulk" not in extra:
        return view.render("customers/_results.html", status=status, **context)
    return view.render("customers/list.html", status=status, statuses=STATUSES,
                       channels=channels_service.list_channels(view.session, actor=view.actor), **context)


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """Page numbers to link: the first, the last and two either side of this one; None where some are left out."""
    wanted = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    out: list[int | None] = []
    for number in wanted:
        if out and number - (out[-1] or 0) > 1:
            out.append(None)
        out.append(number)
    return out


@router.post("/customers/tags")
def bulk_tag(request: Request, tag_id: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "add",
             scope: Annotated[str, Form()] = "selected", customer_ids: Annotated[list[str] | None, Form()] = None,
             q: Annotated[str, Form()] = "", tag: Annotated[str, Form()] = "", channel: Annotated[str, Form()] = "",
             sort: Annotated[str, Form()] = "", order: Annotated[str, Form()] = "", page: Annotated[str, Form()] = ""):
    """Tag or untag the ticked customers, or every active customer the search matches, in one set-based change."""
    filters = _filters(q, tag, channel, "", sort, order, page)
    ids = [n for n in (_number(v) for v in customer_ids or []) if n is not None]
    errors: dict[str, str] = {}
    with console(request) as view:
        chosen = _number(tag_id)
        if chosen is None:
            errors["tag_id"] = view.gettext(CHOOSE_TAG)
        if scope != "matching" and not ids:
            errors["customer_ids"] = view.gettext(TICK_CUSTOMERS)
        if errors:
            return _list(view, filters, status=422, bulk={"errors": errors, "tag_id": tag_id, "action": action})
        change = TagRef(id=chosen)
        data = BulkTaggingIn(add=[change] if action != "remove" else [], remove=[change] if action == "remove" else [],
                             customer_ids=ids if scope != "matching" else [],
                             match=CustomerMatch(q=filters.q or None, tag=[filters.tag] if filters.tag else [],
                                                 channel_id=filters.channel) if scope == "matching" else None)
        try:
            with view.session.begin_nested():
                done = tags_flows.bulk_tag(view.session, actor=view.actor, data=data)
        except Invalid:  # the tag is gone (resolve names add[0] / remove[0])
            return _list(view, filters, status=422, bulk={"errors": {"tag_id": view.gettext(CHOOSE_TAG)},
                                                          "tag_id": tag_id, "action": action})
        except NotFound:  # a ticked customer is gone or not the member's
            return _list(view, filters, status=422, bulk={"errors": {"customer_ids": view.gettext(TICK_CUSTOMERS)},
                                                          "tag_id": tag_id, "action": action})
        notice = (view.gettext(TAGGED) if action != "remove" else view.gettext(UNTAGGED)) % {
            "n": done.customers, "changed": done.added or done.removed}
        return _list(view, filters, bulk={"errors": {}, "notice": notice, "tag_id": tag_id, "action": action})


@router.get("/customers/export.csv")
def export_list(request: Request, _: CaughtUp, q: str = "", tag: str = "", channel: str = "", status: str = "",
                sort: str = "", order: str = ""):
    """The list's search as CSV, streamed (the same flow as GET /v1/customers/export.csv)."""
    filters = _filters(q, tag, channel, status, sort, order, "1")
    with console(request, read_only=True) as view:
        actor = view.actor
    body = listing.stream_csv(lambda: database(request).read_only(), actor=actor,
                              warehouse=pipeline(request).warehouse, search=filters.search())
    return StreamingResponse(body, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="customers.csv"'})


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


@router.post("/customers/{customer_id}/tags")
def add_tag(request: Request, customer_id: int, tag_id: Annotated[str, Form()] = ""):
    """Put a tag on the customer; HTMX gets the tags back, a plain form post goes back to the archive."""
    return _change_tags(request, customer_id, tag_id, add=True)


@router.post("/customers/{customer_id}/tags/{tag_id}/remove")
def remove_tag(request: Request, customer_id: int, tag_id: str):
    """Take a tag off the customer."""
    return _change_tags(request, customer_id, tag_id, add=False)


def _change_tags(request: Request, customer_id: int, tag_id: str, *, add: bool):
    error = ""
    with console(request) as page:
        number = _number(tag_id)
        if number is None:
            error = page.gettext(CHOOSE_TAG)
        else:
            try:
                tag = tags_service.get_tag(page.session, actor=page.actor, tag_id=number)
            except NotFound:
                error = page.gettext(CHOOSE_TAG)
            else:
                tags_service.apply(page.session, actor=page.actor, customer_ids=[customer_id],
                                   add=[tag] if add else [], remove=[] if add else [tag])
        if not is_htmx(request) and not error:
            return RedirectResponse(f"/console/customers/{customer_id}", status_code=303)
        customer = customers_service.get_customer(page.session, actor=page.actor, customer_id=customer_id)
        return page.render("customers/_tags.html", status=422 if error else 200, customer=customer,
                           tag_error=error, **_tag_context(page, customer_id))


def _tag_context(page: Page, customer_id: int) -> dict:
    can_write = page.actor.can(Permission.WRITE)
    return {"customer_tags": tags_service.tags_of(page.session, customer_id=customer_id), "can_write": can_write,
            "tag_choices": tags_service.list_groups(page.session, actor=page.actor, counted=False) if can_write else []}


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
            "loyalty": loyalty_pages.customer_section(page, customer_id),
            "tag_choices": (tags_service.list_groups(session, actor=actor, counted=False)
                            if actor.can(Permission.WRITE) else [])}


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
    group_ids: set = set()
    for entry in result.items:  # tags named by Yutang's tag events and by tagging changes
        if entry.kind == "event" and entry.detail["source"] == "yutang":
            tag_ids.add(entry.detail["properties"].get("tag_id"))
            group_ids.add(entry.detail["properties"].get("group_id"))
        elif entry.kind == "change" and entry.name == "customer.tagged":
            tag_ids.update(entry.detail["changes"].get("add", []) + entry.detail["changes"].get("remove", []))
    channels = channels_service.channels_by_id(session, actor=actor, ids=channel_ids)
    return {"timeline": Timeline(
        customer_id=customer_id, items=result.items, chips=chips,
        more=urls(kinds, result.next_cursor) if result.next_cursor else None,
        members={m.id: m.name for m in workspaces_service.list_members(session, actor=actor)},
        channels={channel_id: channel.name for channel_id, channel in channels.items()},
        sources={str(source.id): source.name for source in events_service.list_sources(session, actor=actor)},
        tags=_tag_names(page, {t for t in tag_ids if isinstance(t, int)}),
        groups=groups_service.group_names(session, actor=actor, ids={g for g in group_ids if isinstance(g, int)}))}


def _tag_names(page: Page, ids: set[int]) -> dict[int, str]:
    names = {}
    for tag_id in sorted(ids):
        try:
            names[tag_id] = tags_service.get_tag(page.session, actor=page.actor, tag_id=tag_id).name
        except NotFound:  # deleted since
            continue
    return names
