"""The journeys domain's public face: journeys and their versions, enrolments, counts.

The work lives in the modules imported below; other domains and the interfaces call this module only.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.journeys import counts as step_counts
from yutang.journeys import experiments
from yutang.journeys.counts import Tally
from yutang.journeys.definitions import (
    create,
    definition_of,
    get,
    list_journeys,
    listened_events,
    live,
    present,
    running_experiments,
    update,
    version,
    versions,
)
from yutang.journeys.definitions import move as _move
from yutang.journeys.enrolments import (
    WAKE_FLAG,
    enrol,
    enrol_through_api,
    erase,
    export,
    list_enrolments,
    move_customer,
    stop_all,
)
from yutang.journeys.enrolments import present as present_enrolment
from yutang.journeys.graph import Definition, Wait, links
from yutang.journeys.models import Journey, JourneyEnrolment, JourneyExposure, JourneyWait
from yutang.journeys.schemas import (
    CountsOut,
    EnrolmentOut,
    EnrolmentStatus,
    ExperimentResults,
    SampleSizeOut,
    StepCountOut,
)
from yutang.kit.errors import Conflict
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces.access import Actor, Permission

__all__ = [
    "WAKE_FLAG", "Definition", "Journey", "Wait", "counts", "create", "definition_of", "enrol_many",
    "enrol_through_api", "erase", "experiment_results", "exposures", "export", "get", "get_enrolment", "links",
    "list_enrolments", "list_journeys", "listened_events", "live", "move", "move_customer", "present",
    "present_enrolment", "replay", "running_experiments", "sample_size", "step_order", "update", "version",
    "versions",
]


def move(session: Session, *, actor: Actor, journey_id: int, action: str, now: datetime) -> Journey:
    """Publish, pause, resume or stop a journey; stopping lets its active enrolments out."""
    journey = _move(session, actor=actor, journey_id=journey_id, action=action)
    if action == "stop":
        stop_all(session, journey_id=journey.id, now=now)
    return journey


def experiment_results(session: Session, *, actor: Actor, journey_id: int, key: str,
                       now: datetime) -> ExperimentResults:
    """An experiment step's results and whether they can be read yet."""
    return experiments.results(session, actor=actor, journey_id=journey_id, key=key, now=now)


def sample_size(*, actor: Actor, baseline: float, lift: float, alpha: float, power: float,
                variants: int) -> SampleSizeOut:
    """Exposures needed per variant and in all to detect `lift` from `baseline`."""
    actor.require(Permission.READ)
    return SampleSizeOut(**experiments.sample_size(baseline=baseline, lift=lift, alpha=alpha, power=power,
                                                   variants=variants))


def exposures(session: Session, *, journey_id: int) -> dict[int, str]:
    """The variant each exposed customer of a journey's experiments got (for the demo's simulated outcomes)."""
    return dict(session.execute(select(JourneyExposure.customer_id, JourneyExposure.variant)
                                .where(JourneyExposure.journey_id == journey_id)).all())


def counts(session: Session, *, actor: Actor, journey_id: int) -> CountsOut:
    """Per-step counts of every version (entered, waiting, done, failed, exited, goal) and the totals."""
    journey = get(session, actor=actor, journey_id=journey_id)
    kinds = {}
    for found in versions(session, actor=actor, journey_id=journey.id):
        kinds[found.number] = {key: step["kind"] for key, step in found.definition["steps"].items()}
    rows = [StepCountOut(version=number, step=step, kind=kinds[number].get(step, ""), **values)
            for number, step, values in step_counts.of_journey(session, journey_id=journey.id)]
    return CountsOut(journey_id=journey.id, steps=rows, totals=step_counts.totals(session, journey_id=journey.id))


def get_enrolment(session: Session, *, actor: Actor, enrolment_id: int) -> EnrolmentOut:
    """One enrolment with its current step's due time and last error."""
    actor.require(Permission.READ)
    enrolment = get_in_workspace(session, JourneyEnrolment, enrolment_id, workspace_id=actor.workspace_id,
                                 what="enrolment", field="enrolment_id")
    if actor.sees_own_customers_only:
        customers_service.get_customer(session, actor=actor, customer_id=enrolment.customer_id)
    return present_enrolment(session, enrolment)


def replay(session: Session, *, actor: Actor, enrolment_id: int, now: datetime) -> EnrolmentOut:
    """Run a failed enrolment's step again (its retries start over)."""
    actor.require(Permission.MANAGE)
    enrolment = get_in_workspace(session, JourneyEnrolment, enrolment_id, workspace_id=actor.workspace_id,
                                 what="enrolment", field="enrolment_id")
    wait = session.scalar(select(JourneyWait).where(JourneyWait.enrolment_id == enrolment.id))
    if enrolment.status != EnrolmentStatus.FAILED or wait is None:
        raise Conflict("only a failed enrolment can be replayed", field="enrolment_id")
    taken = session.scalar(select(JourneyEnrolment.id).where(JourneyEnrolment.journey_id == enrolment.journey_id,
                                                             JourneyEnrolment.active_customer_id ==
                                                             enrolment.customer_id))
    if taken is not None:
        raise Conflict("the customer is in this journey again already", field="enrolment_id")
    enrolment.status, enrolment.reason, enrolment.ended_at = EnrolmentStatus.ACTIVE.value, None, None
    enrolment.active_customer_id = enrolment.customer_id
    wait.status, wait.attempts, wait.next_attempt_at = "waiting", 0, now
    session.info[WAKE_FLAG] = True
    return present_enrolment(session, enrolment)


def step_order(definition: Definition) -> list[tuple[str, object, dict[str, str | None]]]:
    """The steps from the start, breadth first: (key, step, links), for a read-only view of the graph."""
    order, seen, queue = [], set(), [definition.start]
    while queue:
        key = queue.pop(0)
        if key in seen:
            continue
        seen.add(key)
        step = definition.steps[key]
        order.append((key, step, links(step)))
        queue.extend(target for target in links(step).values() if target is not None)
    return order


def enrol_many(session: Session, *, actor: Actor, journey_id: int, customer_ids: list[int],
               now: datetime) -> dict[str, int]:
    """Put customers into a live journey whatever its entry rule (an operator's batch, the demo); the re-entry
    policy still holds. How many entered and how many were refused, by reason."""
    actor.require(Permission.BULK)
    journey = get(session, actor=actor, journey_id=journey_id)
    if journey.status != "live":
        raise Conflict(f"the journey is {journey.status}; customers enter live journeys only", field="journey_id")
    current = version(session, journey=journey)
    visible = set(session.scalars(customers_service.visible_ids(actor).where(
        customers_service.Customer.id.in_(customer_ids))))
    tally, outcome = Tally(), {"entered": 0, "already_active": 0, "not_again": 0, "not_found": 0}
    for customer_id in customer_ids:
        if customer_id not in visible:
            outcome["not_found"] += 1
            continue
        made, reason = enrol(session, journey=journey, version=current, customer_id=customer_id, now=now,
                             tally=tally)
        outcome["entered" if made else reason] += 1
    tally.flush(session)
    return outcome
