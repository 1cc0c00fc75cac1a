"""The journeys pages: every journey with its counts, and one journey's steps as a read-only graph with the counts
at each step."""

from fastapi import APIRouter, Request

from yutang.journeys import service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid
from yutang.web.deps import ConsoleRoute, console

router = APIRouter(route_class=ConsoleRoute)


@router.get("/journeys")
def journey_list(request: Request):
    """Journeys newest first: status, version, how many entered, are in, finished and converted."""
    with console(request, read_only=True) as page:
        journeys = service.list_journeys(page.session, actor=page.actor)
        totals = {j.id: service.counts(page.session, actor=page.actor, journey_id=j.id).totals for j in journeys}
        return page.render("journeys/list.html", journeys=journeys, totals=totals)


@router.get("/journeys/{journey_id}")
def journey_view(request: Request, journey_id: int):
    """One journey: how customers enter, its steps in order from the start with their counts, its versions."""
    with console(request, read_only=True) as page:
        journey = service.get(page.session, actor=page.actor, journey_id=journey_id)
        current = service.version(page.session, journey=journey)
        definition = service.definition_of(current)
        counts = service.counts(page.session, actor=page.actor, journey_id=journey.id)
        here = {row.step: row for row in counts.steps if row.version == journey.version}
        return page.render("journeys/detail.html", journey=journey, definition=definition,
                           order=service.step_order(definition), counts=here, totals=counts.totals,
                           versions=service.versions(page.session, actor=page.actor, journey_id=journey.id))


@router.get("/journeys/{journey_id}/experiments/{step}")
def experiment_view(request: Request, journey_id: int, step: str, baseline: str = "", lift: str = ""):
    """An experiment's results: whether they can be read yet (and when), exposures against the plan, each metric per
    variant against the control; and the sample-size calculator (baseline and lift in percent)."""
    with console(request, read_only=True) as page:
        results = service.experiment_results(page.session, actor=page.actor, journey_id=journey_id, key=step,
                                             now=utcnow())
        journey = service.get(page.session, actor=page.actor, journey_id=journey_id)
        size, error = None, None
        if baseline or lift:
            try:
                size = service.sample_size(actor=page.actor, baseline=float(baseline) / 100,
                                           lift=float(lift) / 100, alpha=results.alpha, power=0.8,
                                           variants=len(results.variants))
            except ValueError:
                error = "numbers"
            except Invalid:
                error = "range"
        return page.render("journeys/experiment.html", journey=journey, results=results, size=size, error=error,
                           baseline=baseline, lift=lift)
