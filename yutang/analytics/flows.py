"""Analytics use cases that write: a static segment from the customers behind a figure (一键创建分群)."""

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from yutang.analytics import service
from yutang.analytics.schemas import CellSegmentIn, CrossSellSegmentIn, FunnelSegmentIn, SegmentFromIn, SegmentFromOut
from yutang.analytics.sql import Warehouse
from yutang.customers import service as customers_service
from yutang.segments import service as segments_service
from yutang.segments.schemas import SegmentIn
from yutang.storage.engine import unit_of_work


def segment_from(factory: sessionmaker[Session], warehouse: Warehouse, *, actor, data: SegmentFromIn,
                 now: datetime | None = None) -> SegmentFromOut:
    """Freeze the customers behind a figure into a new static segment."""
    ids = service.ids_behind(warehouse, actor=actor, query=data, now=now)
    return _freeze(factory, actor=actor, name=data.name, ids=ids,
                   description=f"analytics: {data.metric} ({data.period} {data.start or ''}–{data.end or ''})")


def funnel_segment(factory: sessionmaker[Session], warehouse: Warehouse, *, actor, data: FunnelSegmentIn,
                   now: datetime | None = None) -> SegmentFromOut:
    """Freeze the customers who dropped before (or reached) a funnel step into a new static segment."""
    ids = service.funnel_ids(warehouse, actor=actor, data=data, now=now)
    steps = " → ".join(s.event for s in data.steps)
    return _freeze(factory, actor=actor, name=data.name, ids=ids,
                   description=f"funnel {steps}: {data.outcome} at step {data.step}"[:2000])


def cross_sell_segment(factory: sessionmaker[Session], warehouse: Warehouse, *, actor, data: CrossSellSegmentIn,
                       now: datetime | None = None) -> SegmentFromOut:
    """Freeze the customers who bought A in the range and have never bought B into a new static segment."""
    ids = service.cross_sell_ids(warehouse, actor=actor, data=data, now=now)
    return _freeze(factory, actor=actor, name=data.name, ids=ids,
                   description=f"cross-sell {data.level}: bought {data.antecedent}, not yet {data.consequent} "
                               f"({data.period} {data.start or ''}–{data.end or ''})"[:2000])


def cell_segment(factory: sessionmaker[Session], warehouse: Warehouse, *, actor, data: CellSegmentIn,
                 now: datetime | None = None) -> SegmentFromOut:
    """Freeze the customers behind a report's cell (a retention cohort, a fatigue point, a category) into a new
    static segment."""
    ids = service.cell_ids(warehouse, actor=actor, cell=data.cell, now=now)
    return _freeze(factory, actor=actor, name=data.name, ids=ids,
                   description=f"{data.cell.report}: {data.cell.model_dump_json(exclude={'report'})}"[:2000])


def _freeze(factory: sessionmaker[Session], *, actor, name: str, ids: list[int], description: str) -> SegmentFromOut:
    with unit_of_work(factory) as session:
        # The warehouse trails the OLTP store by a moment: customers merged since are left out, not refused.
        found = sorted(customers_service.visible_active(session, actor=actor, customer_ids=ids)) if ids else []
        segment, _ = segments_service.create(session, actor=actor, data=SegmentIn(
            name=name, kind="static", description=description))
        if found:
            segments_service.add_static(session, actor=actor, segment=segment, customer_ids=found)
        return SegmentFromOut(segment_id=segment.id, name=segment.name, customers=len(found))
