"""Analytics on the warehouse: the home dashboard, funnels, the customers behind a figure, segments made of them."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from yutang.analytics import exports, flows, service
from yutang.analytics.schemas import (
    AcquisitionOut,
    CategoryFitIn,
    CategoryFitOut,
    Cell,
    CellSegmentIn,
    CrossSellIn,
    CrossSellOut,
    CrossSellSegmentIn,
    DashboardOut,
    DrillOut,
    FunnelCustomersIn,
    FunnelIn,
    FunnelOut,
    FunnelSegmentIn,
    Headline,
    HoldoutOut,
    Metric,
    PondHealthIn,
    PondHealthOut,
    RepurchaseIn,
    RepurchaseOut,
    RetentionIn,
    RetentionOut,
    SavedReportIn,
    SavedReportOut,
    SavedReportPatch,
    SegmentFromIn,
    SegmentFromOut,
)
from yutang.api.deps import ActorDep, CaughtUp, IdPath, PipelineDep, database, read_only, unit_of_work
from yutang.kit.csvout import to_csv
from yutang.kit.fields import Id
from yutang.kit.pagination import decode_cursor

router = APIRouter(prefix="/analytics", tags=["analytics"])
CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}
FORMAT = Query("json", pattern="^(json|csv)$", description="json, or csv for a spreadsheet")
RANGE_DOC = "today, 7d, 30d (each ending today, local) or custom (start and end, local dates)"


def metric_query(metric: str, period: str = Query("7d", description=RANGE_DOC), start: date | None = None,
                 end: date | None = None, channel_id: Id | None = None, tier_id: Id | None = None) -> Metric:
    """A figure named in the query string."""
    return Metric(metric=metric, period=period, start=start, end=end, channel_id=channel_id, tier_id=tier_id)


@router.get("/dashboard", response_model=DashboardOut)
def dashboard(request: Request, actor: ActorDep, pipeline: PipelineDep,
              period: str = Query("7d", description=RANGE_DOC), start: date | None = None, end: date | None = None):
    """Every figure of the home dashboard (数据概览) for a range and the period of equal length before it: pool,
    new customers by channel, active customers, sales by channel and traffic domain, repurchase rate, members by
    tier, points liability, messages, inbox waits. Windows are local days in the workspace's zone."""
    with read_only(request) as session:
        return service.dashboard(session, pipeline.warehouse, actor=actor, period=period, start=start, end=end)


@router.get("/customers", response_model=DrillOut)
def customers(actor: ActorDep, pipeline: PipelineDep, query: Annotated[Metric, Depends(metric_query)],
              cursor: str | None = None, limit: int = Query(50, ge=1, le=1000)):
    """The customers a dashboard figure counts (`metric`, its range, and a channel or tier where it has one), by
    id, cursor-paged; `total` is the figure."""
    return service.customers_behind(pipeline.warehouse, actor=actor, query=query, after_id=decode_cursor(cursor),
                                    limit=limit)


@router.post("/segments", response_model=SegmentFromOut, status_code=201)
def segment_from(request: Request, actor: ActorDep, pipeline: CaughtUp, data: SegmentFromIn):
    """Create a static segment holding the customers a figure counts (一键创建分群)."""
    return flows.segment_from(database(request).factory, pipeline.warehouse, actor=actor, data=data)


@router.post("/funnels", response_model=FunnelOut)
def funnel(request: Request, actor: ActorDep, pipeline: PipelineDep, data: FunnelIn):
    """Compute a funnel: customers enter at their first step-1 event in the range and convert through the next
    steps (events with property values) within `window_days` of entry, in loose or strict order; counts, conversion
    and drop-off per step, the median time between steps, and the counts per breakdown value."""
    with read_only(request) as session:
        return service.funnel(session, pipeline.warehouse, actor=actor, data=data)


@router.post("/funnels/customers", response_model=DrillOut)
def funnel_customers(actor: ActorDep, pipeline: PipelineDep, data: FunnelCustomersIn, cursor: str | None = None,
                     limit: int = Query(50, ge=1, le=1000)):
    """The customers who dropped before a step (`dropped`: reached the step before, not this one) or reached it,
    by id, cursor-paged."""
    return service.funnel_customers(pipeline.warehouse, actor=actor, data=data, after_id=decode_cursor(cursor),
                                    limit=limit)


@router.post("/funnels/segments", response_model=SegmentFromOut, status_code=201)
def funnel_segment(request: Request, actor: ActorDep, pipeline: CaughtUp, data: FunnelSegmentIn):
    """Create a static segment of the customers who dropped before (or reached) a funnel step (一键创建分群)."""
    return flows.funnel_segment(database(request).factory, pipeline.warehouse, actor=actor, data=data)


@router.post("/retention", response_model=RetentionOut)
def retention_grid(actor: ActorDep, pipeline: PipelineDep, data: RetentionIn):
    """A retention grid: cohorts of customers by their first event (or one named) or first purchase in the range,
    by local day, week (Monday first) or month, and how many came back (any event, one named, or a purchase) in
    each later period; `overall` weighs each period by the cohorts that have reached it."""
    return service.retention_grid(pipeline.warehouse, actor=actor, data=data)


@router.post("/repurchase", response_model=RepurchaseOut)
def repurchase(actor: ActorDep, pipeline: PipelineDep, data: RepurchaseIn):
    """Buyers whose first purchase day falls in the range, the share who bought again on a later day within
    `days`, and the days from their first to their second purchase day (orders on one day count once)."""
    return service.repurchase(pipeline.warehouse, actor=actor, data=data)


@router.get("/acquisition", response_model=AcquisitionOut)
def acquisition(request: Request, actor: ActorDep, pipeline: PipelineDep,
                period: str = Query("30d", description=RANGE_DOC), start: date | None = None, end: date | None = None):
    """Per channel: the cost entries overlapping the range (prorated by shared days) over the customers first seen
    through it in the range (CAC), their realised revenue since (ROI, payback month) and predicted value
    (LTV : CAC). Channels with spend but no customers, and customers without a recorded cost, are listed too."""
    with read_only(request) as session:
        return service.acquisition_by_channel(session, pipeline.warehouse, actor=actor, period=period, start=start,
                                              end=end)


@router.get("/holdout", response_model=HoldoutOut)
def holdout(request: Request, actor: ActorDep, pipeline: PipelineDep,
            period: str = Query("30d", description=RANGE_DOC), start: date | None = None, end: date | None = None):
    """Marketing's incremental revenue against the global holdout (the contact-pressure settings' `holdout_bp`):
    revenue per customer of the pool marketed to and held out over the range, the difference times the customers
    marketed to, the lift and Welch's test."""
    with read_only(request) as session:
        return service.holdout_revenue(session, pipeline.warehouse, actor=actor, period=period, start=start, end=end)


@router.get("/pond-health", response_model=PondHealthOut)
def pond_health(request: Request, actor: ActorDep, pipeline: PipelineDep,
                query: Annotated[PondHealthIn, Depends()]):
    """Pond health (鱼塘健康度): for each kind of touch (channel, purpose, broadcast or single send) and for each number
    of marketing messages a week, the share of customers who left a channel (unfollowed, deleted the staff member),
    withdrew a consent or went quiet during the week and `days_after` days after it, against untouched customers
    matched on the week, recent activity and purchase history; the weekly cap that curve suggests, beside the caps
    in force."""
    with read_only(request) as session:
        return service.pond_health(session, pipeline.warehouse, actor=actor, data=query)


@router.post("/cells/customers", response_model=DrillOut)
def cell_customers(actor: ActorDep, pipeline: PipelineDep, cell: Cell, cursor: str | None = None,
                   limit: int = Query(50, ge=1, le=1000)):
    """The customers behind a cell of a report, by id, cursor-paged: `report=retention` (a cohort, k = 0, or who of
    it came back in its k-th later period), `pond_health` (a point of the fatigue curve: the customers with that many
    marketing messages in a week, harmed or not) or `category_fit` (a category's buyers or repeat buyers)."""
    return service.cell_customers(pipeline.warehouse, actor=actor, cell=cell, after_id=decode_cursor(cursor),
                                  limit=limit)


@router.post("/cells/segments", response_model=SegmentFromOut, status_code=201)
def cell_segment(request: Request, actor: ActorDep, pipeline: CaughtUp, data: CellSegmentIn):
    """Create a static segment of the customers behind a cell of a report (一键创建分群)."""
    return flows.cell_segment(database(request).factory, pipeline.warehouse, actor=actor, data=data)


@router.post("/reports", response_model=SavedReportOut, status_code=201)
def save_report(request: Request, actor: ActorDep, data: SavedReportIn):
    """Save a report's settings under a name (`params` as the kind's own endpoint takes them: a funnel's steps, a
    retention grid's cohorts …); `pinned` shows its headline figure on the overview."""
    with unit_of_work(request) as session:
        return service.save_report(session, actor=actor, data=data)


@router.get("/reports", response_model=list[SavedReportOut])
def saved_reports(request: Request, actor: ActorDep, pinned: bool | None = None):
    """The workspace's saved reports (`pinned=true`: only those on the overview)."""
    with read_only(request) as session:
        return service.saved_reports(session, actor=actor, pinned=pinned)


@router.get("/reports/pinned/headlines", response_model=list[Headline])
def pinned_headlines(request: Request, actor: ActorDep, pipeline: PipelineDep):
    """Each pinned report's headline figure, computed now (the overview's pinned cards)."""
    with read_only(request) as session:
        return service.pinned_headlines(session, pipeline.warehouse, actor=actor)


@router.patch("/reports/{report_id}", response_model=SavedReportOut)
def update_report(request: Request, actor: ActorDep, report_id: IdPath, data: SavedReportPatch):
    """Rename a saved report, or pin it to / unpin it from the overview."""
    with unit_of_work(request) as session:
        return service.update_report(session, actor=actor, report_id=report_id, data=data)


@router.delete("/reports/{report_id}", status_code=204)
def delete_report(request: Request, actor: ActorDep, report_id: IdPath) -> None:
    """Forget a saved report."""
    with unit_of_work(request) as session:
        service.delete_report(session, actor=actor, report_id=report_id)
def _csv(name: str, header: list[str], rows) -> Response:
    return Response(to_csv(header, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/cross-sell", response_model=CrossSellOut, responses=CSV)
def cross_sell(actor: ActorDep, pipeline: PipelineDep, data: Annotated[CrossSellIn, Query()], format: str = FORMAT):
    """Association rules A → B between categories (or SKUs) bought in one basket (an order, or a customer's
    purchases in the range): support (share of baskets with both), confidence (share of A's baskets with B) and
    lift (confidence over B's share), filtered by minimums, highest lift first; `format=csv` for a spreadsheet."""
    found = service.cross_sell(pipeline.warehouse, actor=actor, data=data)
    if format == "csv":
        return _csv("cross-sell", exports.RULE_COLUMNS, exports.rule_rows(found))
    return found


@router.post("/cross-sell/segments", response_model=SegmentFromOut, status_code=201)
def cross_sell_segment(request: Request, actor: ActorDep, pipeline: CaughtUp, data: CrossSellSegmentIn):
    """Create a static segment of the customers who bought A in the range and have never bought B (一键创建分群)."""
    return flows.cross_sell_segment(database(request).factory, pipeline.warehouse, actor=actor, data=data)


@router.get("/category-fit", response_model=CategoryFitOut, responses=CSV)
def category_fit(actor: ActorDep, pipeline: PipelineDep, data: Annotated[CategoryFitIn, Query()],
                 format: str = FORMAT):
    """Per category bought in the range: purchase frequency (median days between a repeat buyer's purchase days)
    against interaction (messages written, staff replies, tracked events per buyer), split at the medians across
    categories unless set, and the quadrant: community (社群运营), repurchase_reminders (复购提醒),
    content_seeding (内容/KOC 种草), lead_nurturing (线索培育); `format=csv` for a spreadsheet."""
    found = service.category_fit(pipeline.warehouse, actor=actor, data=data)
    if format == "csv":
        return _csv("category-fit", exports.FIT_COLUMNS, exports.fit_rows(found))
    return found
