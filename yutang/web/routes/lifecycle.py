"""The lifecycle page: customers per stage and per RFM class and the value distribution, as ECharts charts."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from yutang.lifecycle import service as lifecycle_service
from yutang.lifecycle import tasks as lifecycle_tasks
from yutang.lifecycle.schemas import OverviewOut
from yutang.web.deps import ConsoleRoute, Page, PipelineDep, caught_up, console, database
from yutang.web.i18n import LABELS
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}"


def bucket_label(min_fen: int, max_fen: int | None) -> str:
    """'¥0', '< ¥100', '¥100–¥500', '≥ ¥5,000' for a value bucket [min_fen, max_fen)."""
    if max_fen == 1:
        return "¥0"
    if min_fen <= 1:
        return f"< {_yuan(max_fen)}"
    if max_fen is None:
        return f"≥ {_yuan(min_fen)}"
    return f"{_yuan(min_fen)}–{_yuan(max_fen)}"


def charts(page: Page, overview: OverviewOut) -> dict:
    """What the page's charts draw, with labels in the page's language (lifecycle.js reads it)."""
    label = page.gettext
    return {
        "stages": {"labels": [label(LABELS[s.stage]) for s in overview.stages],
                   "values": [s.customers for s in overview.stages], "series": label("Customers")},
        "rfm": {"labels": [label(LABELS[c.rfm_class]) for c in overview.rfm_classes],
                "values": [c.customers for c in overview.rfm_classes], "series": label("Customers")},
        "value": {"labels": [bucket_label(b.min_fen, b.max_fen) for b in overview.value_buckets],
                  "series": [{"name": label("Historic value"), "values": [b.historic for b in overview.value_buckets]},
                             {"name": label("Predicted value"),
                              "values": [b.predicted for b in overview.value_buckets]}]},
    }


@router.get("/lifecycle")
def lifecycle_overview(request: Request, pipeline: PipelineDep):
    """Stage, RFM class and value charts as of the last refresh, with the numbers in tables beside them."""
    with console(request, read_only=True) as page:
        overview = lifecycle_service.overview(pipeline.warehouse, actor=page.actor)
        model = lifecycle_service.model(page.session, actor=page.actor) if overview.computed_at else None
        return page.render("lifecycle/overview.html", overview=overview, charts=charts(page, overview), model=model,
                           bucket_label=bucket_label, can_compute=page.actor.can(Permission.BULK))


@router.post("/lifecycle/compute")
def lifecycle_compute(request: Request):
    """Refresh the scores now, then show the page again."""
    with console(request, read_only=True) as page:  # the refresh opens its own units of work
        page.actor.require(Permission.BULK)
        pipeline = caught_up(request)
        lifecycle_tasks.compute(database(request).factory, pipeline.warehouse, actor=page.actor)
    return RedirectResponse("/console/lifecycle", status_code=303)
