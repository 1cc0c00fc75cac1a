"""The customer list as operators work it: a search, its total, sorted numbered pages with spend, last purchase,
lifecycle stage and tier, and the same search as a CSV export (masked as the role requires), shared by the API
and the console."""

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerOut, IdentityKind
from yutang.kit.errors import Forbidden, Invalid
from yutang.kit.money import fen_to_yuan_text
from yutang.lifecycle import service as lifecycle_service
from yutang.lifecycle.service import Warehouse
from yutang.loyalty import service as loyalty_service
from yutang.orders import service as orders_service
from yutang.segments import flows as segments_flows
from yutang.segments import service as segments_service
from yutang.tags import service as tags_service
from yutang.workspaces.access import Actor, Permission

PER_PAGE = 50
EXPORT_CHUNK = 1000
EXPORT_COLUMNS = ("id", "name", "phone", "email", "first_channel", "tags", "spend_yuan", "last_purchase",
                  "lifecycle_stage", "tier", "created_at")


@dataclass(frozen=True)
class Search:
    """A customer search as the list and the export take it."""

    q: str | None = None
    tag_ids: tuple[int, ...] = ()
    channel_id: int | None = None
    status: str = customers_service.ACTIVE
    sort: str = "created"
    descending: bool = True


@dataclass
class Row:
    """One customer of the list."""

    customer: CustomerOut
    phone: str | None
    email: str | None
    channel: str | None
    tags: list[str]
    spend_fen: int
    last_paid_at: datetime | None
    stage: str | None
    tier: str | None


@dataclass
class ListPage:
    """One numbered page of a search, with the total."""

    rows: list[Row]
    total: int
    page: int
    per_page: int
    search: Search
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, -(-self.total // self.per_page))


def criteria(actor: Actor, search: Search) -> customers_service.Criteria:
    """The customers domain's criteria for a search (tags become a customer-id subquery)."""
    return customers_service.Criteria(
        q=search.q, channel_id=search.channel_id, status=search.status,
        restrict_to=tags_service.customers_with(actor, tag_ids=list(search.tag_ids)) if search.tag_ids else None)


def list_page(session: Session, *, actor: Actor, warehouse: Warehouse, search: Search, page: int = 1,
              per_page: int = PER_PAGE) -> ListPage:
    """Page `page` (from 1; past the end gives the last) of a search, sorted as it asks."""
    actor.require(Permission.READ)
    wanted = criteria(actor, search)
    total = customers_service.count_matching(session, actor=actor, criteria=wanted)
    last = max(1, -(-total // per_page))
    page = min(max(page, 1), last)
    ids = customers_service.page_matching(session, actor=actor, criteria=wanted, sort=search.sort,
                                          descending=search.descending, offset=(page - 1) * per_page,
                                          limit=per_page, facts=orders_service.purchase_totals(actor))
    return ListPage(rows=rows(session, actor=actor, warehouse=warehouse, customer_ids=ids), total=total, page=page,
                    per_page=per_page, search=search)


def rows(session: Session, *, actor: Actor, warehouse: Warehouse, customer_ids: list[int]) -> list[Row]:
    """List rows for these customers, in the order given (masked as the role requires)."""
    found = {c.id: c for c in customers_service.visible_by_id(session, actor=actor, customer_ids=customer_ids)}
    customers = [found[cid] for cid in customer_ids if cid in found]
    shapes = customers_service.present(session, actor=actor, customers=customers)
    channels = channels_service.channels_by_id(session, actor=actor,
                                               ids={c.first_channel_id for c in customers} - {None})
    tags = tags_service.tag_names_of(session, customer_ids=[c.id for c in customers])
    totals = orders_service.purchase_totals_of(session, actor=actor, customer_ids=[c.id for c in customers])
    stages = lifecycle_service.stages_of(warehouse, actor=actor, customer_ids=[c.id for c in customers])
    tiers = loyalty_service.tier_names_of(session, actor=actor, customer_ids=[c.id for c in customers])

    def first(shape: CustomerOut, kind: IdentityKind) -> str | None:
        return next((i.value for i in shape.identities if i.kind is kind), None)

    return [Row(customer=shape, phone=first(shape, IdentityKind.PHONE), email=first(shape, IdentityKind.EMAIL),
                channel=channels[shape.first_channel_id].name if shape.first_channel_id in channels else None,
                tags=tags[shape.id], spend_fen=totals.get(shape.id, (0, None))[0],
                last_paid_at=totals.get(shape.id, (0, None))[1], stage=stages.get(shape.id),
                tier=tiers.get(shape.id)) for shape in shapes]


def export_csv(session: Session, *, actor: Actor, warehouse: Warehouse, search: Search) -> Iterator[str]:
    """The whole search as CSV text, a chunk of customers at a time (UTF-8 with a BOM, for Excel); personal data
    masked unless the role may see it. Guides, who see only their own customers, do not export."""
    require_export(actor)
    wanted = criteria(actor, search)
    ids = customers_service.page_matching(session, actor=actor, criteria=wanted, sort=search.sort,
                                          descending=search.descending, offset=0, limit=10_000_000,
                                          facts=orders_service.purchase_totals(actor))
    yield from csv_of(session, actor=actor, warehouse=warehouse, customer_ids=ids)


def csv_of(session: Session, *, actor: Actor, warehouse: Warehouse, customer_ids: list[int]) -> Iterator[str]:
    """These customers as CSV text in the order given, a chunk at a time, masked as the role requires."""
    yield "\ufeff" + _line(EXPORT_COLUMNS)
    zone = ZoneInfo(actor.timezone)
    for start in range(0, len(customer_ids), EXPORT_CHUNK):
        chunk = rows(session, actor=actor, warehouse=warehouse,
                     customer_ids=customer_ids[start:start + EXPORT_CHUNK])
        yield "".join(_line(_cells(row, zone)) for row in chunk)


def require_export(actor: Actor) -> None:
    """Exports span the pool: refused to guides, who see only their own customers."""
    actor.require(Permission.READ)
    if actor.sees_own_customers_only:
        raise Forbidden("exports span the whole pool; guides see only their own customers")


def _cells(row: Row, zone: ZoneInfo) -> tuple:
    def local(at: datetime | None) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""

    return (row.customer.id, row.customer.name or "", row.phone or "", row.email or "", row.channel or "",
            " ".join(row.tags), fen_to_yuan_text(row.spend_fen), local(row.last_paid_at), row.stage or "",
            row.tier or "", local(row.customer.created_at))


def _line(cells) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([_safe(cell) for cell in cells])
    return out.getvalue()


def _safe(cell) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it as text (CSV injection).
    text = str(cell)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def stream_csv(read_only: Callable[[], AbstractContextManager[Session]], *, actor: Actor, warehouse: Warehouse,
               search: Search) -> Iterator[str]:
    """export_csv in a read-only unit of its own, for a streamed answer that outlives the request's handler."""
    require_export(actor)
    if search.sort not in customers_service.SORTS:
        raise Invalid(f"sort by one of {', '.join(customers_service.SORTS)}", field="sort")

    def chunks() -> Iterator[str]:
        with read_only() as session:
            yield from export_csv(session, actor=actor, warehouse=warehouse, search=search)

    return chunks()


def stream_members_csv(read_only: Callable[[], AbstractContextManager[Session]],
                       membership: segments_flows.Membership, *, actor: Actor, warehouse: Warehouse,
                       segment_id: int) -> Iterator[str]:
    """A segment's members as the customer list's CSV (masked as the role requires), streamed."""
    require_export(actor)
    with read_only() as session:
        segments_service.get(session, actor=actor, segment_id=segment_id)  # not found before the answer starts

    def chunks() -> Iterator[str]:
        with read_only() as session:
            ids = segments_flows.member_ids(session, membership, actor=actor, segment_id=segment_id)
            yield from csv_of(session, actor=actor, warehouse=warehouse, customer_ids=ids)

    return chunks()
