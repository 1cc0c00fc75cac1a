"""Journeys: definitions and their versions, publishing, pausing and stopping, entries through the API, the counts
per step and the customers at each."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.journeys import service
from yutang.journeys.schemas import (
    CountsOut,
    EnrolIn,
    EnrolmentOut,
    EnrolmentStatus,
    EnrolOut,
    ExperimentResults,
    JourneyIn,
    JourneyOut,
    JourneyPatch,
    SampleSizeOut,
    VersionOut,
)
from yutang.kit.clock import utcnow

router = APIRouter(prefix="/journeys", tags=["journeys"])
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("", response_model=list[JourneyOut])
def list_journeys(request: Request, actor: ActorDep):
    """The workspace's journeys, newest first, each with the definition new customers enter."""
    with read_only(request) as session:
        return [service.present(session, j) for j in service.list_journeys(session, actor=actor)]


@router.post("", response_model=JourneyOut, status_code=201)
def create_journey(request: Request, actor: ActorDep, data: JourneyIn):
    """A draft journey; the graph is checked (dangling links, unreachable steps, loops without a wait, references)
    and an error names the step."""
    with unit_of_work(request) as session:
        return service.present(session, service.create(session, actor=actor, data=data))


@router.get("/{journey_id}", response_model=JourneyOut)
def get_journey(request: Request, actor: ActorDep, journey_id: IdPath):
    """One journey with its current definition."""
    with read_only(request) as session:
        return service.present(session, service.get(session, actor=actor, journey_id=journey_id))


@router.patch("/{journey_id}", response_model=JourneyOut)
def update_journey(request: Request, actor: ActorDep, journey_id: IdPath, data: JourneyPatch):
    """Rename or redefine; a published journey's new definition is a new version, enrolled customers stay on theirs."""
    with unit_of_work(request) as session:
        return service.present(session, service.update(session, actor=actor, journey_id=journey_id, data=data))


@router.get("/{journey_id}/versions", response_model=list[VersionOut])
def list_versions(request: Request, actor: ActorDep, journey_id: IdPath):
    """Every version of the journey, newest first."""
    with read_only(request) as session:
        return service.versions(session, actor=actor, journey_id=journey_id)


def _move(request: Request, actor, journey_id: int, action: str) -> JourneyOut:
    with unit_of_work(request) as session:
        journey = service.move(session, actor=actor, journey_id=journey_id, action=action, now=utcnow())
        return service.present(session, journey)


@router.post("/{journey_id}/publish", response_model=JourneyOut)
def publish_journey(request: Request, actor: ActorDep, journey_id: IdPath):
    """Make a draft live: customers enter by its entry rule from now on."""
    return _move(request, actor, journey_id, "publish")


@router.post("/{journey_id}/pause", response_model=JourneyOut)
def pause_journey(request: Request, actor: ActorDep, journey_id: IdPath):
    """Hold a live journey: nobody enters and no step runs until it resumes (due steps run then)."""
    return _move(request, actor, journey_id, "pause")


@router.post("/{journey_id}/resume", response_model=JourneyOut)
def resume_journey(request: Request, actor: ActorDep, journey_id: IdPath):
    """Let a paused journey run again."""
    return _move(request, actor, journey_id, "resume")


@router.post("/{journey_id}/stop", response_model=JourneyOut)
def stop_journey(request: Request, actor: ActorDep, journey_id: IdPath):
    """End a journey for good: every active enrolment exits (reason `stopped`)."""
    return _move(request, actor, journey_id, "stop")


@router.get("/{journey_id}/counts", response_model=CountsOut)
def journey_counts(request: Request, actor: ActorDep, journey_id: IdPath):
    """Per step and version: entered, waiting, done, failed, exited, goal reached; and totals."""
    with read_only(request) as session:
        return service.counts(session, actor=actor, journey_id=journey_id)


@router.get("/{journey_id}/enrolments", response_model=list[EnrolmentOut])
def list_enrolments(request: Request, actor: ActorDep, journey_id: IdPath, status: EnrolmentStatus | None = None,
                    step: Annotated[str | None, Query(max_length=40)] = None,
                    after_id: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None, limit: Limit = 50):
    """The customers in a journey, by status or step, oldest first (page with `after_id`)."""
    with read_only(request) as session:
        return service.list_enrolments(session, actor=actor, journey_id=journey_id, status=status, step=step,
                                       after_id=after_id, limit=limit)


@router.post("/{journey_id}/enrolments", response_model=EnrolOut)
def enrol(request: Request, actor: ActorDep, journey_id: IdPath, data: EnrolIn):
    """Put a customer into a live journey whose entry is an API call; `enrolled` is false with the reason when the
    re-entry policy or an active enrolment says no."""
    with unit_of_work(request) as session:
        enrolment, reason = service.enrol_through_api(session, actor=actor, journey_id=journey_id,
                                                      customer_id=data.customer_id, properties=data.properties,
                                                      now=utcnow())
        if enrolment is None:
            return EnrolOut(enrolled=False, reason=reason)
        return EnrolOut(enrolled=True, enrolment=service.present_enrolment(session, enrolment))


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentOut)
def get_enrolment(request: Request, actor: ActorDep, enrolment_id: IdPath):
    """One enrolment: its step, when that runs next, its attempts and last error."""
    with read_only(request) as session:
        return service.get_enrolment(session, actor=actor, enrolment_id=enrolment_id)


@router.post("/enrolments/{enrolment_id}/replay", response_model=EnrolmentOut)
def replay_enrolment(request: Request, actor: ActorDep, enrolment_id: IdPath):
    """Run a failed enrolment's step again."""
    with unit_of_work(request) as session:
        return service.replay(session, actor=actor, enrolment_id=enrolment_id, now=utcnow())


@router.get("/{journey_id}/experiments/{step}", response_model=ExperimentResults)
def experiment_results(request: Request, actor: ActorDep, journey_id: IdPath,
                       step: Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]):
    """An experiment step's results: exposures per variant and the sample-ratio check, each metric per variant
    against the control (two-proportion z, Holm or Benjamini–Hochberg), and whether and when they can be read."""
    with read_only(request) as session:
        return service.experiment_results(session, actor=actor, journey_id=journey_id, key=step, now=utcnow())


@router.get("/experiments/sample-size", response_model=SampleSizeOut)
def sample_size(actor: ActorDep, baseline: Annotated[float, Query(gt=0, lt=1)],
                lift: Annotated[float, Query(ge=-0.99, le=0.99)],
                alpha: Annotated[float, Query(ge=0.001, le=0.2)] = 0.05,
                power: Annotated[float, Query(ge=0.5, lt=1)] = 0.8, variants: Annotated[int, Query(ge=2, le=5)] = 2):
    """Exposures per variant (and in all) to detect an absolute `lift` from a `baseline` conversion rate."""
    return service.sample_size(actor=actor, baseline=baseline, lift=lift, alpha=alpha, power=power, variants=variants)
