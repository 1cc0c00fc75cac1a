"""The customers behind a cell of a report (a retention cohort or its return, a fatigue point, a category's buyers),
and the static segment made of them."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, TypeAdapter, ValidationError

from yutang.analytics import flows
from yutang.analytics import service as analytics_service
from yutang.analytics.schemas import Cell, CellSegmentIn, HealthCell, RetentionCell
from yutang.kit.errors import Invalid
from yutang.web.deps import CaughtUp, ConsoleRoute, Page, PipelineDep, console, database
from yutang.web.errors import validation_message
from yutang.web.i18n import N_
from yutang.workspaces.access import Grant, Need, grant

router = APIRouter(route_class=ConsoleRoute)
CELL = TypeAdapter(Cell)
PAGES = {"retention": "/console/analytics/retention", "pond_health": "/console/analytics/health",
         "category_fit": "/console/analytics/category-fit"}
HARMS = {"harmed": N_("harmed"), "left": N_("left a channel"), "withdrew": N_("withdrew consent"),
         "quiet": N_("went quiet"), "all": N_("all")}


def link(page: Page, report: str, data: BaseModel, **cell) -> str | None:
    """The console address of a cell's customers (None when the role may not see who they are)."""
    if grant(page.actor.role, Need.READ_POOL) is Grant.DENY:
        return None
    fields = data.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return f"/console/analytics/cells?{urlencode({**fields, 'report': report, **cell})}"


def _cell(params, page: Page):
    fields = {k: v for k, v in params.items() if k not in ("name", "after") and v != ""}
    try:
        return CELL.validate_python(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        parts = [str(p) for p in error["loc"][1:]] or ["report"]
        raise Invalid(f"{parts[-1]}: {validation_message(error, page.gettext)}", field=parts[-1]) from None


def _title(page: Page, cell) -> str:
    if isinstance(cell, RetentionCell):
        if cell.k == 0:
            return page.gettext("Cohort of %(day)s") % {"day": cell.cohort_start.isoformat()}
        return page.gettext("Cohort of %(day)s, back in period +%(k)s") % {"day": cell.cohort_start.isoformat(),
                                                                          "k": cell.k}
    if isinstance(cell, HealthCell):
        touches = f"{cell.touches}+" if cell.touches == 5 else str(cell.touches)
        return page.gettext("%(n)s marketing messages a week: %(harm)s") % {
            "n": touches, "harm": page.gettext(HARMS[cell.harm])}
    if cell.outcome == "repeat_buyers":
        return page.gettext("Repeat buyers of %(category)s") % {"category": cell.category}
    return page.gettext("Buyers of %(category)s") % {"category": cell.category}


@router.get("/analytics/cells")
def cell_page(request: Request, pipeline: PipelineDep, after: int | None = None):
    """Who stands behind a report's cell, 50 at a time, with the button that makes them a static segment."""
    with console(request, read_only=True) as page:
        params = request.query_params
        cell = _cell(params, page)
        found = analytics_service.cell_customers(pipeline.warehouse, actor=page.actor, cell=cell, after_id=after)
        channels = analytics_service.channel_names(page.session, actor=page.actor)
        title = _title(page, cell)
        hidden = {k: v for k, v in params.items() if k not in ("name", "after") and v != ""}
        more = f"/console/analytics/cells?{urlencode({**hidden, 'after': found.items[-1].customer_id})}" \
            if found.next_cursor else None
        back = {k: v for k, v in hidden.items() if k in type(cell).model_fields and k not in (
            "report", "cohort_start", "k", "touches", "harm", "category", "outcome")}
        return page.render("analytics/customers.html", found=found, metric_name=title, hidden=hidden,
                           channels=channels, more=more, default_name=f"{title} {found.first_day}–{found.last_day}",
                           action="/console/analytics/cells/segments", back=f"{PAGES[cell.report]}?{urlencode(back)}")


@router.post("/analytics/cells/segments")
async def cell_segment(request: Request, pipeline: CaughtUp):
    """Make a report cell's customers a static segment, then open it."""
    form = await request.form()
    with console(request, read_only=True) as page:  # the flow opens its own unit of work
        name = str(form.get("name") or "").strip()
        if not name:
            raise Invalid(page.gettext("Give the segment a name."), field="name")
        made = flows.cell_segment(database(request).factory, pipeline.warehouse, actor=page.actor,
                                  data=CellSegmentIn(cell=_cell(form, page), name=name[:100]))
    return RedirectResponse(f"/console/segments/{made.segment_id}", status_code=303)
