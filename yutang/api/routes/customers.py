"""Customers: search, OneID upsert, the archive, merge, consents, notes, tags, export and erasure."""

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from yutang.api.deps import ActorDep, CaughtUp, IdPath, PipelineDep, read_only, unit_of_work
from yutang.api.pages import Page, page_of
from yutang.archive import importing, listing
from yutang.archive import service as archive_service
from yutang.archive.schemas import ArchiveOut, ListPageOut, ListRowOut, MergeIn, UpsertOut
from yutang.customers import service
from yutang.customers.schemas import (
    ConsentIn,
    ConsentOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    IdentityIn,
    MembershipIn,
    MembershipOut,
    MergeOut,
    NoteIn,
    NoteOut,
)
from yutang.events import timeline
from yutang.events.schemas import TimelinePage
from yutang.kit.errors import Invalid
from yutang.kit.fields import Id
from yutang.kit.pagination import decode_cursor
from yutang.orders.schemas import ImportReport
from yutang.tags import service as tags_service
from yutang.tags.schemas import CustomerTagOut, TaggingIn

router = APIRouter(prefix="/customers", tags=["customers"])
KindsQuery = Annotated[list[str] | None, Query(description="event, order or change; repeat for several (default all)")]
EventNameQuery = Annotated[str | None, Query(max_length=200, description="only events of this name (kind=event)")]


def parse_identity(text: str, *, field: str = "identity") -> IdentityIn:
    """'kind:value' or 'kind:namespace:value' (openids and marketplace buyers need the namespace)."""
    kind, _, rest = text.partition(":")
    namespace, value = ("", rest)
    if kind in ("wechat_openid", "marketplace_buyer"):
        namespace, _, value = rest.partition(":")
    try:
        return IdentityIn(kind=kind, namespace=namespace, value=value)
    except ValidationError as exc:
        raise Invalid(f"identity must be kind:value or kind:namespace:value ({exc.errors()[0]['msg']})",
                      field=field) from exc


@router.get("", response_model=Page[CustomerOut])
def search_customers(request: Request, actor: ActorDep,
                     q: Annotated[str | None, Query(description="name, phone, email or any id")] = None,
                     name: str | None = None,
                     identity: Annotated[str | None, Query(description="kind:value, e.g. phone:13800138000")] = None,
                     tag: Annotated[list[Id] | None, Query(description="tag ids; all must be present")] = None,
                     channel_id: Id | None = None,
                     status: Annotated[str, Query(pattern="^(active|merged|erased)$")] = "active",
                     cursor: str | None = None, limit: int = Query(50, ge=1, le=500)):
    """Search the pool by identity, tag, channel or name; newest first, cursor-paged."""
    with read_only(request) as session:
        rows = service.search(session, actor=actor, q=q, name=name,
                              identity=parse_identity(identity) if identity else None,
                              channel_id=channel_id, status=status,
                              restrict_to=tags_service.customers_with(actor, tag_ids=tag) if tag else None,
                              before_id=decode_cursor(cursor), limit=limit + 1)
        shapes = service.present(session, actor=actor, customers=rows)
        return page_of(shapes, ids=[r.id for r in rows], limit=limit)


@router.get("/list", response_model=ListPageOut)
def list_customers(request: Request, actor: ActorDep, pipeline: CaughtUp,
                   q: Annotated[str | None, Query(max_length=200, description="name, any id, #id or a phone's last "
                                                                               "four digits")] = None,
                   tag: Annotated[list[Id] | None, Query(description="tag ids; all must be present")] = None,
                   channel_id: Id | None = None,
                   status: Annotated[str, Query(pattern="^(active|merged|erased)$")] = "active",
                   sort: Annotated[str, Query(pattern="^(created|name|spend|last_purchase)$")] = "created",
                   order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
                   page: int = Query(1, ge=1, le=1_000_000), per_page: int = Query(50, ge=1, le=200)):
    """The console's customer list: the total a search matches and one numbered page sorted by name, creation,
    spend or last purchase, with spend, last purchase, lifecycle stage and tier (past the end: the last page)."""
    search = listing.Search(q=q, tag_ids=tuple(tag or ()), channel_id=channel_id, status=status, sort=sort,
                            descending=order == "desc")
    with read_only(request) as session:
        found = listing.list_page(session, actor=actor, warehouse=pipeline.warehouse, search=search, page=page,
                                  per_page=per_page)
    return ListPageOut(items=[ListRowOut(customer=row.customer, first_channel=row.channel, tags=row.tags,
                                         spend_fen=row.spend_fen, last_paid_at=row.last_paid_at,
                                         lifecycle_stage=row.stage, tier=row.tier) for row in found.rows],
                       total=found.total, page=found.page, pages=found.pages, per_page=found.per_page)


@router.get("/export.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_customers(request: Request, actor: ActorDep, pipeline: CaughtUp,
                     q: Annotated[str | None, Query(max_length=200, description="name, any id, #id or a phone's last "
                                                                                 "four digits")] = None,
                     tag: Annotated[list[Id] | None, Query(description="tag ids; all must be present")] = None,
                     channel_id: Id | None = None,
                     status: Annotated[str, Query(pattern="^(active|merged|erased)$")] = "active",
                     sort: Annotated[str, Query(pattern="^(created|name|spend|last_purchase)$")] = "created",
                     order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc"):
    """The customers a search matches as CSV (spend in yuan, times in the workspace's zone), streamed; personal
    data masked unless the role may see it."""
    search = listing.Search(q=q, tag_ids=tuple(tag or ()), channel_id=channel_id, status=status, sort=sort,
                            descending=order == "desc")
    body = listing.stream_csv(lambda: read_only(request), actor=actor, warehouse=pipeline.warehouse, search=search)
    return StreamingResponse(body, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="customers.csv"'})


@router.post("", response_model=UpsertOut)
def upsert_customer(request: Request, actor: ActorDep, data: CustomerIn):
    """Create the customer or find them by any identity (OneID); identities spanning people merge them."""
    with unit_of_work(request) as session:
        customer, outcome, merged = archive_service.upsert_customer(session, actor=actor, data=data)
        shape = service.present(session, actor=actor, customers=[customer])[0]
        return UpsertOut(customer=shape, outcome=outcome, merged_ids=merged)


@router.post("/import", response_model=ImportReport)
def import_customers(request: Request, actor: ActorDep, file: UploadFile = File(...)):
    """Import customers from CSV (columns in docs/imports.md); bad rows are reported, good rows import."""
    with unit_of_work(request) as session:
        return importing.import_customers_csv(session, actor=actor, data=file.file.read())


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(request: Request, actor: ActorDep, customer_id: IdPath):
    """One customer with identities (masked for roles that may not see personal data)."""
    with read_only(request) as session:
        customer = service.get_customer(session, actor=actor, customer_id=customer_id)
        return service.present(session, actor=actor, customers=[customer])[0]


@router.patch("/{customer_id}", response_model=CustomerOut)
def update_customer(request: Request, actor: ActorDep, customer_id: IdPath, data: CustomerPatch):
    """Change profile fields or the assigned guide."""
    with unit_of_work(request) as session:
        customer = service.update_customer(session, actor=actor, customer_id=customer_id, data=data)
        return service.present(session, actor=actor, customers=[customer])[0]


@router.get("/{customer_id}/archive", response_model=ArchiveOut)
def get_archive(request: Request, actor: ActorDep, pipeline: PipelineDep, customer_id: IdPath):
    """The customer archive (客户档案) in one call."""
    with read_only(request) as session:
        return archive_service.archive(session, actor=actor, customer_id=customer_id,
                                       warehouse=pipeline.warehouse)


@router.get("/{customer_id}/timeline", response_model=TimelinePage)
def get_timeline(request: Request, actor: ActorDep, pipeline: CaughtUp, customer_id: IdPath, kind: KindsQuery = None,
                 event: EventNameQuery = None, cursor: str | None = None, limit: int = Query(50, ge=1, le=200)):
    """What the customer read, clicked and bought, and how they were touched: events, orders and changes,
    newest first, cursor-paged."""
    before = timeline.decode_cursor(cursor)
    timeline.parse_kinds(kind)  # a bad kind is a 422 before any work
    with read_only(request) as session:
        return timeline.timeline(session, actor=actor, warehouse=pipeline.warehouse, customer_id=customer_id,
                                 kinds=set(kind or ()), event=event, before=before, limit=limit)


@router.post("/{customer_id}/identities", response_model=CustomerOut)
def add_identities(request: Request, actor: ActorDep, customer_id: IdPath, data: list[IdentityIn]):
    """Attach identities; one held by another customer is a 409 (merge them instead)."""
    with unit_of_work(request) as session:
        customer = service.add_identities(session, actor=actor, customer_id=customer_id, identities_in=data)
        return service.present(session, actor=actor, customers=[customer])[0]


@router.post("/{customer_id}/merge", response_model=MergeOut)
def merge_customer(request: Request, actor: ActorDep, customer_id: IdPath, data: MergeIn):
    """Merge another customer into this one; every reference moves in one transaction."""
    with unit_of_work(request) as session:
        return archive_service.merge(session, actor=actor, winner_id=customer_id, loser_id=data.loser_id,
                                     reason=data.reason)


@router.post("/{customer_id}/channels", response_model=list[MembershipOut])
def record_membership(request: Request, actor: ActorDep, customer_id: IdPath, data: MembershipIn):
    """Record that the customer joined or left a channel; returns all their memberships."""
    with unit_of_work(request) as session:
        return service.record_membership(session, actor=actor, customer_id=customer_id, channel_code=data.channel,
                                         joined=data.joined, at=data.at)


@router.post("/{customer_id}/consents", response_model=ConsentOut, status_code=201)
def record_consent(request: Request, actor: ActorDep, customer_id: IdPath, data: ConsentIn):
    """Append a consent decision to the ledger."""
    with unit_of_work(request) as session:
        return service.record_consent(session, actor=actor, customer_id=customer_id, data=data)


@router.post("/{customer_id}/notes", response_model=NoteOut, status_code=201)
def add_note(request: Request, actor: ActorDep, customer_id: IdPath, data: NoteIn):
    """Add a staff note."""
    with unit_of_work(request) as session:
        return service.add_note(session, actor=actor, customer_id=customer_id, data=data)


@router.post("/{customer_id}/tags", response_model=list[CustomerTagOut])
def tag_customer(request: Request, actor: ActorDep, customer_id: IdPath, data: TaggingIn):
    """Add and remove tags on one customer."""
    with unit_of_work(request) as session:
        add = tags_service.resolve(session, actor=actor, refs=data.add, create_missing=data.create_missing, field="add")
        remove = tags_service.resolve(session, actor=actor, refs=data.remove, field="remove")
        tags_service.apply(session, actor=actor, customer_ids=[customer_id], add=add, remove=remove)
        return tags_service.tags_of(session, customer_id=customer_id)


@router.delete("/{customer_id}/tags/{tag_id}", response_model=list[CustomerTagOut])
def untag_customer(request: Request, actor: ActorDep, customer_id: IdPath, tag_id: IdPath):
    """Remove one tag from a customer."""
    with unit_of_work(request) as session:
        remove = [tags_service.get_tag(session, actor=actor, tag_id=tag_id)]
        tags_service.apply(session, actor=actor, customer_ids=[customer_id], add=[], remove=remove)
        return tags_service.tags_of(session, customer_id=customer_id)


@router.get("/{customer_id}/export")
def export_customer(request: Request, actor: ActorDep, customer_id: IdPath) -> dict:
    """Everything held on the customer as JSON (a data-subject access request)."""
    with read_only(request) as session:
        return archive_service.export(session, actor=actor, customer_id=customer_id)


@router.post("/{customer_id}/erase", response_model=CustomerOut)
def erase_customer(request: Request, actor: ActorDep, customer_id: IdPath):
    """Erase the customer's personal data; anonymous aggregates (orders, tags, channels) remain."""
    with unit_of_work(request) as session:
        customer = archive_service.erase(session, actor=actor, customer_id=customer_id)
        return service.present(session, actor=actor, customers=[customer])[0]
