"""The home dashboard (数据概览), funnels, retention, acquisition, cross-sell and category fit, the customers behind a
figure or a funnel step, and segments of them."""

import json
from datetime import date
from functools import partial
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from yutang.analytics import exports, flows
from yutang.analytics import service as analytics_service
from yutang.analytics.schemas import (
    CategoryFitIn,
    CategoryFitOut,
    CrossSellIn,
    CrossSellSegmentIn,
    DashboardOut,
    FunnelCustomersIn,
    FunnelIn,
    FunnelSegmentIn,
    Metric,
    PondHealthIn,
    RepurchaseIn,
    RetentionIn,
    SavedReportIn,
    SavedReportOut,
    SavedReportPatch,
    SegmentFromIn,
)
from yutang.kit.csvout import to_csv
from yutang.kit.errors import Invalid
from yutang.web.deps import CaughtUp, ConsoleRoute, Page, PipelineDep, console, database
from yutang.web.errors import validation_message
from yutang.web.i18n import LABELS, N_
from yutang.web.routes.cells import link as cell_link
from yutang.workspaces.access import Grant, Need, grant

router = APIRouter(route_class=ConsoleRoute)

# What each drillable metric is called on the page.
METRIC_NAMES = {
    "pool": N_("Customer pool"), "new_customers": N_("New customers"), "active": N_("Active customers"),
    "buyers": N_("Buyers"), "repeat_buyers": N_("Repeat buyers"), "members": N_("Members"),
    "points_holders": N_("Points holders"), "message_recipients": N_("Message recipients"),
    "message_readers": N_("Message readers"), "message_clickers": N_("Message clickers"),
    "waiting": N_("Customers waiting for an answer"),
}


def _day(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{field} is not a date (YYYY-MM-DD)", field=field) from None


def range_query(period: str, start: str | None, end: str | None) -> dict:
    """The range as query-string parameters, for links to the customers behind a figure."""
    return {"period": period, **({"start": start, "end": end} if period == "custom" else {})}


def charts(page: Page, dashboard: DashboardOut) -> dict:
    """What the page's charts draw, in the page's language (analytics.js reads it)."""
    label = page.gettext
    return {
        "active": {"labels": [d.day.isoformat()[5:] for d in dashboard.active_daily],
                   "values": [d.customers for d in dashboard.active_daily], "series": label("Active customers")},
        "sales": {"labels": [c.name for c in dashboard.sales_by_channel],
                  "values": [round(c.gmv_fen.current / 100, 2) for c in dashboard.sales_by_channel],
                  "series": label("GMV (yuan)")},
        "domains": {"labels": [label(LABELS.get(d.domain, d.domain)) for d in dashboard.sales_by_domain],
                    "values": [round(d.gmv_fen.current / 100, 2) for d in dashboard.sales_by_domain],
                    "series": label("GMV (yuan)")},
    }


@router.get("/analytics")
def dashboard_page(request: Request, pipeline: PipelineDep, period: str = "7d", start: str | None = None,
                   end: str | None = None):
    """Every dashboard figure against the period before, each linking to the customers behind it."""
    with console(request, read_only=True) as page:
        dashboard = analytics_service.dashboard(page.session, pipeline.warehouse, actor=page.actor, period=period,
                                                start=_day(start, "start"), end=_day(end, "end"))
        query = range_query(period, start, end)
        can_drill = grant(page.actor.role, Need.READ_POOL) is not Grant.DENY

        def drill(metric: str, **extra) -> str | None:
            return f"/console/analytics/customers?{urlencode({**query, 'metric': metric, **extra})}" \
                if can_drill else None

        pinned = analytics_service.pinned_headlines(page.session, pipeline.warehouse, actor=page.actor)
        return page.render("analytics/dashboard.html", d=dashboard, charts=charts(page, dashboard), drill=drill,
                           pinned=[(h, report_link(h.report)) for h in pinned], can_manage=_can_manage(page),
                           HEADLINES=HEADLINES,
                           period=period, start=dashboard.first_day.isoformat(), end=dashboard.last_day.isoformat())


@router.get("/analytics/customers")
def customers_page(request: Request, pipeline: PipelineDep, metric: str, period: str = "7d",
                   start: str | None = None, end: str | None = None, channel_id: int | None = None,
                   tier_id: int | None = None, after: int | None = None):
    """The customers a figure counts, 50 at a time, with the button that makes them a static segment."""
    with console(request, read_only=True) as page:
        query = Metric(metric=metric, period=period, start=_day(start, "start"), end=_day(end, "end"),
                       channel_id=channel_id, tier_id=tier_id)
        found = analytics_service.customers_behind(pipeline.warehouse, actor=page.actor, query=query, after_id=after)
        channels = analytics_service.channel_names(page.session, actor=page.actor)
        name = page.gettext(METRIC_NAMES.get(metric, metric))
        hidden = {k: v for k, v in {**range_query(period, start, end), "metric": metric, "channel_id": channel_id,
                                    "tier_id": tier_id}.items() if v is not None}
        more = f"/console/analytics/customers?{urlencode({**hidden, 'after': found.items[-1].customer_id})}" \
            if found.next_cursor else None
        return page.render("analytics/customers.html", found=found, metric_name=name, hidden=hidden,
                           channels=channels, more=more, default_name=f"{name} {found.first_day}–{found.last_day}",
                           action="/console/analytics/segments",
                           back=f"/console/analytics?{urlencode(range_query(period, start, end))}")


@router.post("/analytics/segments")
def segment_from(request: Request, pipeline: CaughtUp, metric: Annotated[str, Form()],
                 name: Annotated[str, Form()] = "", period: Annotated[str, Form()] = "7d",
                 start: Annotated[str, Form()] = "", end: Annotated[str, Form()] = "",
                 channel_id: Annotated[int | None, Form()] = None, tier_id: Annotated[int | None, Form()] = None):
    """Make the customers behind a figure a static segment, then open it."""
    with console(request, read_only=True) as page:  # the flow opens its own unit of work
        if not name.strip():
            raise Invalid(page.gettext("Give the segment a name."), field="name")
        data = SegmentFromIn(name=name.strip()[:100], metric=metric, period=period, start=_day(start, "start"),
                             end=_day(end, "end"), channel_id=channel_id, tier_id=tier_id)
        made = flows.segment_from(database(request).factory, pipeline.warehouse, actor=page.actor, data=data)
    return RedirectResponse(f"/console/segments/{made.segment_id}", status_code=303)


# What a pinned report's headline figure is, under its number on the overview.
HEADLINES = {"conversion": N_("Conversion from the first step to the last"),
             "first_period_rate": N_("Came back in the first period"), "repurchase_rate": N_("Repurchase rate"),
             "cac_fen": N_("Acquisition cost per new customer"),
             "suggested_weekly_cap": N_("Suggested weekly cap on marketing messages")}
STEP_ROWS = 5  # step rows the funnel form offers


def funnel_from(params, *, step: bool = False) -> FunnelIn | FunnelCustomersIn | None:
    """The funnel the form's fields describe (event1…, where1 as key=value, …), or None before any step is given."""
    steps = []
    for n in range(1, STEP_ROWS + 1):
        event = str(params.get(f"event{n}") or "").strip()
        if not event:
            continue
        where = str(params.get(f"where{n}") or "").strip()
        key, _, value = where.partition("=")
        steps.append({"event": event, "properties": {key.strip(): value.strip()} if key.strip() else {}})
    if not steps:
        return None
    data = {"steps": steps, "window_days": params.get("window_days") or 7, "order": params.get("order") or "loose",
            "breakdown": params.get("breakdown") or None, "period": params.get("period") or "7d",
            "start": params.get("start") or None, "end": params.get("end") or None}
    try:
        if step:
            return FunnelCustomersIn(**data, step=params.get("step") or 2, outcome=params.get("outcome") or "dropped")
        return FunnelIn(**data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "steps"
        raise Invalid(f"{field}: {error['msg']}", field=field) from None


def _form_fields(params) -> dict:
    keep = [f"event{n}" for n in range(1, STEP_ROWS + 1)] + [f"where{n}" for n in range(1, STEP_ROWS + 1)]
    keep += ["window_days", "order", "breakdown", "period", "start", "end"]
    return {k: str(params[k]) for k in keep if params.get(k)}


@router.get("/analytics/funnels")
def funnel_page(request: Request, pipeline: PipelineDep):
    """The funnel builder and, once steps are given, each step's customers, conversion, drop-off and time."""
    with console(request, read_only=True) as page:
        params = request.query_params
        funnel = funnel_from(params)
        result = analytics_service.funnel(page.session, pipeline.warehouse, actor=page.actor, data=funnel) \
            if funnel else None
        fields = _form_fields(params)
        can_drill = grant(page.actor.role, Need.READ_POOL) is not Grant.DENY
        chart = {"labels": [f"{s.step}. {s.event}" for s in result.steps],
                 "values": [s.customers for s in result.steps]} if result else None
        return page.render("analytics/funnels.html", result=result, fields=fields, rows=range(1, STEP_ROWS + 1),
                           query=urlencode(fields), can_drill=can_drill, chart=chart, labels=LABELS,
                           pin=_pin(page, "funnel", funnel) if funnel else None)


@router.get("/analytics/funnels/customers")
def funnel_customers_page(request: Request, pipeline: PipelineDep, after: int | None = None):
    """Who dropped before a funnel step (or reached it), with the button that makes them a static segment."""
    with console(request, read_only=True) as page:
        params = request.query_params
        data = funnel_from(params, step=True)
        if data is None:
            raise Invalid(page.gettext("Give the funnel's steps."), field="event1")
        found = analytics_service.funnel_customers(pipeline.warehouse, actor=page.actor, data=data, after_id=after)
        channels = analytics_service.channel_names(page.session, actor=page.actor)
        title = (page.gettext("Dropped before step %(step)s") if data.outcome == "dropped"
                 else page.gettext("Reached step %(step)s")) % {"step": data.step}
        hidden = {**_form_fields(params), "step": data.step, "outcome": data.outcome}
        more = f"/console/analytics/funnels/customers?{urlencode({**hidden, 'after': found.items[-1].customer_id})}" \
            if found.next_cursor else None
        return page.render("analytics/customers.html", found=found, metric_name=title, hidden=hidden,
                           channels=channels, more=more, default_name=f"{title} {found.first_day}–{found.last_day}",
                           action="/console/analytics/funnels/segments",
                           back=f"/console/analytics/funnels?{urlencode(_form_fields(params))}")


@router.post("/analytics/funnels/segments")
async def funnel_segment(request: Request, pipeline: CaughtUp):
    """Make a funnel step's drop-outs (or those who reached it) a static segment, then open it."""
    form = await request.form()
    with console(request, read_only=True) as page:
        name = str(form.get("name") or "").strip()
        if not name:
            raise Invalid(page.gettext("Give the segment a name."), field="name")
        data = funnel_from(form, step=True)
        if data is None:
            raise Invalid(page.gettext("Give the funnel's steps."), field="event1")
        made = flows.funnel_segment(database(request).factory, pipeline.warehouse, actor=page.actor,
                                    data=FunnelSegmentIn(**data.model_dump(), name=name[:100]))
    return RedirectResponse(f"/console/segments/{made.segment_id}", status_code=303)


def _model(model, params, page: Page):
    """A report's input from the query string; bad values come back as a 422 naming the field."""
    fields = {k: v for k, v in params.items() if k in model.model_fields and v != ""}
    try:
        return model(**fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "period"
        raise Invalid(f"{field}: {validation_message(error, page.gettext)}", field=field) from None


@router.get("/analytics/retention")
def retention_page(request: Request, pipeline: PipelineDep):
    """The retention grid and repurchase within N days, for the range and settings in the query string."""
    with console(request, read_only=True) as page:
        params = request.query_params
        data = _model(RetentionIn, params, page)
        grid = analytics_service.retention_grid(pipeline.warehouse, actor=page.actor, data=data)
        again = _model(RepurchaseIn, {"period": data.period, "start": params.get("start") or "",
                                      "end": params.get("end") or "", "days": params.get("days") or ""}, page)
        repurchase = analytics_service.repurchase(pipeline.warehouse, actor=page.actor, data=again)
        return page.render("analytics/retention.html", grid=grid, data=data, repurchase=repurchase, again=again,
                           fields={k: v for k, v in params.items()}, pin=_pin(page, "retention", data),
                           cell=partial(cell_link, page, "retention", data))


@router.get("/analytics/acquisition")
def acquisition_page(request: Request, pipeline: PipelineDep, period: str = "30d", start: str | None = None,
                     end: str | None = None):
    """CAC, ROI, payback and LTV : CAC per channel for the customers first seen in the range."""
    with console(request, read_only=True) as page:
        report = analytics_service.acquisition_by_channel(page.session, pipeline.warehouse, actor=page.actor,
                                                          period=period, start=_day(start, "start"),
                                                          end=_day(end, "end"))
        chosen = {"period": period, **({"start": start, "end": end} if period == "custom" else {})}
        return page.render("analytics/acquisition.html", report=report, period=period,
                           start=report.first_day.isoformat(), end=report.last_day.isoformat(),
                           pin=_pin(page, "acquisition", chosen))


@router.get("/analytics/health")
def health_page(request: Request, pipeline: PipelineDep):
    """Pond health: harm after each kind of touch and by marketing messages a week, and the cap it suggests."""
    with console(request, read_only=True) as page:
        data = _model(PondHealthIn, request.query_params, page)
        report = analytics_service.pond_health(page.session, pipeline.warehouse, actor=page.actor, data=data)
        curve = {"labels": [f"{p.touches}+" if p.touches == 5 else str(p.touches) for p in report.fatigue],
                 "rate": [_percent(p.rate) for p in report.fatigue],
                 "matched": [_percent(p.matched_rate) for p in report.fatigue],
                 "series": [page.gettext("Touched"), page.gettext("Matched untouched")]}
        return page.render("analytics/health.html", report=report, data=data, charts={"fatigue": curve},
                           pin=_pin(page, "pond_health", data), cell=partial(cell_link, page, "pond_health", data))


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 2)


def _can_manage(page: Page) -> bool:
    return grant(page.actor.role, Need.MANAGE) is not Grant.DENY


def _pin(page: Page, kind: str, data) -> dict | None:
    """What the "save and pin" form carries: the report's kind and settings (None when the role may not save)."""
    if not _can_manage(page):
        return None
    params = data.model_dump(mode="json", exclude_defaults=True) if hasattr(data, "model_dump") else data
    return {"kind": kind, "params": json.dumps(params, ensure_ascii=False)}


def funnel_fields(data: FunnelIn) -> dict:
    """The funnel form's fields for a funnel (the inverse of funnel_from; one property filter per step)."""
    fields: dict = {}
    for n, step in enumerate(data.steps, start=1):
        fields[f"event{n}"] = step.event
        if step.properties:
            key, value = next(iter(step.properties.items()))
            fields[f"where{n}"] = f"{key}={value}"
    fields.update({"window_days": data.window_days, "order": data.order, "period": data.period})
    if data.breakdown:
        fields["breakdown"] = data.breakdown
    if data.period == "custom":
        fields.update({"start": data.start.isoformat(), "end": data.end.isoformat()})
    return fields


PAGES = {"funnel": "/console/analytics/funnels", "retention": "/console/analytics/retention",
         "repurchase": "/console/analytics/retention", "acquisition": "/console/analytics/acquisition",
         "pond_health": "/console/analytics/health"}


def report_link(report: SavedReportOut) -> str:
    """The console page showing a saved report with its settings."""
    params = funnel_fields(FunnelIn(**report.params)) if report.kind == "funnel" else report.params
    return f"{PAGES[report.kind]}?{urlencode(params)}"


@router.post("/analytics/reports")
async def save_report(request: Request):
    """Save the report on the page under a name and pin it to the overview."""
    form = await request.form()
    with console(request) as page:
        try:
            params = json.loads(str(form.get("params") or "{}"))
        except ValueError:
            raise Invalid(page.gettext("The report's settings could not be read."), field="params") from None
        data = _model(SavedReportIn, {"name": str(form.get("name") or "").strip(), "kind": form.get("kind") or "",
                                      "pinned": "pinned" in form}, page)
        analytics_service.save_report(page.session, actor=page.actor,
                                      data=SavedReportIn(**{**data.model_dump(), "params": params}))
    return RedirectResponse("/console/analytics#pinned", status_code=303)


@router.post("/analytics/reports/{report_id}/unpin")
def unpin_report(request: Request, report_id: int):
    """Take a saved report off the overview (it stays saved)."""
    with console(request) as page:
        analytics_service.update_report(page.session, actor=page.actor, report_id=report_id,
                                        data=SavedReportPatch(pinned=False))
    return RedirectResponse("/console/analytics#pinned", status_code=303)


def _csv(name: str, header: list[str], rows) -> Response:
    return Response(to_csv(header, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/analytics/cross-sell")
def cross_sell_page(request: Request, pipeline: PipelineDep, format: str = "html"):
    """Association rules between categories or SKUs, each with the button that makes 'bought A, not yet B' a
    static segment; `format=csv` downloads them."""
    with console(request, read_only=True) as page:
        params = request.query_params
        data = _model(CrossSellIn, params, page)
        report = analytics_service.cross_sell(pipeline.warehouse, actor=page.actor, data=data)
        if format == "csv":
            return _csv("cross-sell", exports.RULE_COLUMNS, exports.rule_rows(report))
        fields = {k: v for k, v in params.items() if k in CrossSellIn.model_fields and v != ""}
        can_segment = grant(page.actor.role, Need.READ_POOL) is not Grant.DENY
        return page.render("analytics/cross_sell.html", report=report, data=data, fields=fields,
                           query=urlencode(fields), can_segment=can_segment)


@router.post("/analytics/cross-sell/segments")
def cross_sell_segment(request: Request, pipeline: CaughtUp, antecedent: Annotated[str, Form()],
                       consequent: Annotated[str, Form()], name: Annotated[str, Form()] = "",
                       level: Annotated[str, Form()] = "category", period: Annotated[str, Form()] = "30d",
                       start: Annotated[str, Form()] = "", end: Annotated[str, Form()] = ""):
    """Make the customers who bought A in the range and never B a static segment, then open it."""
    with console(request, read_only=True) as page:  # the flow opens its own unit of work
        name = name.strip() or page.gettext("Bought %(a)s, not yet %(b)s") % {"a": antecedent, "b": consequent}
        data = _model(CrossSellSegmentIn, {"antecedent": antecedent, "consequent": consequent, "name": name[:100],
                                           "level": level, "period": period, "start": start, "end": end}, page)
        made = flows.cross_sell_segment(database(request).factory, pipeline.warehouse, actor=page.actor, data=data)
    return RedirectResponse(f"/console/segments/{made.segment_id}", status_code=303)


# Seed 000's reading of each quadrant.
QUADRANT_NAMES = {"community": N_("Community operations"), "repurchase_reminders": N_("Repurchase reminders"),
                  "content_seeding": N_("Content and KOC seeding"), "lead_nurturing": N_("Lead nurturing")}
QUADRANT_READINGS = {
    "community": N_("Bought often and talked about: run customer groups, where buyers keep each other coming back."),
    "repurchase_reminders": N_("Bought often, little to discuss: remind buyers when their next purchase is due."),
    "content_seeding": N_("Bought rarely, much to discuss: seed interest with content and trusted customers (KOC)."),
    "lead_nurturing": N_("Bought rarely, little to discuss: nurture leads patiently until they are ready to buy."),
}


def fit_chart(page: Page, report: CategoryFitOut) -> dict:
    """The scatter analytics.js draws: each category at (median days between purchases, interaction per buyer)."""
    label = page.gettext
    return {"points": [{"name": c.category, "value": [c.median_days_between, round(c.interaction_per_buyer, 2)],
                        "quadrant": label(QUADRANT_NAMES[c.quadrant])}
                       for c in report.categories if c.median_days_between is not None],
            "x_split": report.frequency_split_days, "y_split": report.interaction_split,
            "x_name": label("Median days between purchases"), "y_name": label("Interactions per buyer")}


@router.get("/analytics/category-fit")
def category_fit_page(request: Request, pipeline: PipelineDep, format: str = "html"):
    """Each category's purchase frequency against its buyers' interaction, in seed 000's four quadrants;
    `format=csv` downloads the table."""
    with console(request, read_only=True) as page:
        params = request.query_params
        data = _model(CategoryFitIn, params, page)
        report = analytics_service.category_fit(pipeline.warehouse, actor=page.actor, data=data)
        if format == "csv":
            return _csv("category-fit", exports.FIT_COLUMNS, exports.fit_rows(report))
        fields = {k: v for k, v in params.items() if k in CategoryFitIn.model_fields and v != ""}
        return page.render("analytics/category_fit.html", report=report, data=data, fields=fields,
                           query=urlencode(fields), chart=fit_chart(page, report), names=QUADRANT_NAMES,
                           readings=QUADRANT_READINGS, cell=partial(cell_link, page, "category_fit", data))
