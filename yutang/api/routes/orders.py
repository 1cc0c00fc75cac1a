"""Orders: record one, import a file, list, read."""

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.api.pages import Page, page_of
from yutang.kit.fields import Id
from yutang.kit.pagination import decode_cursor
from yutang.orders import importing, service
from yutang.orders.schemas import ImportReport, OrderIn, OrderOut, OrderStatus

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=Page[OrderOut])
def list_orders(request: Request, actor: ActorDep, customer_id: Id | None = None,
                channel_id: Id | None = None, status: OrderStatus | None = None, cursor: str | None = None,
                limit: int = Query(50, ge=1, le=500)):
    """Orders newest first."""
    with read_only(request) as session:
        rows = service.list_orders(session, actor=actor, customer_id=customer_id, channel_id=channel_id,
                                   status=status, before_id=decode_cursor(cursor), limit=limit + 1)
        return page_of(service.present(session, orders=rows), ids=[r.id for r in rows], limit=limit)


@router.post("", response_model=OrderOut)
def record_order(request: Request, actor: ActorDep, data: OrderIn):
    """Create or update an order by (channel, external_id); an identical repeat changes nothing."""
    with unit_of_work(request) as session:
        order, _, _ = service.record_order(session, actor=actor, data=data)
        return service.present(session, orders=[order])[0]


@router.post("/import", response_model=ImportReport)
def import_orders(request: Request, actor: ActorDep,
                  format: Annotated[importing.ImportFormat, Query(description="csv, tmall, jd or douyin")],
                  channel: Annotated[str, Query(description="code of the channel the orders belong to")],
                  file: UploadFile = File(...)):
    """Import orders from CSV or marketplace JSON (docs/imports.md); bad records reported, the rest import."""
    with unit_of_work(request) as session:
        return importing.import_orders(session, actor=actor, data=file.file.read(), format=format.value,
                                       channel=channel)


@router.get("/{order_id}", response_model=OrderOut)
def get_order(request: Request, actor: ActorDep, order_id: IdPath):
    """One order with its lines."""
    with read_only(request) as session:
        order = service.get_order(session, actor=actor, order_id=order_id)
        return service.present(session, orders=[order])[0]
