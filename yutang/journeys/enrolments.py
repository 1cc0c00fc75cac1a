"""Customers in journeys: entering (under the re-entry policy), leaving early on an exit event or the goal, and
being let out when a journey stops. Every change adds to the step counters through a `Tally`."""

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.journeys import core, experiments
from yutang.journeys.counts import Tally
from yutang.journeys.definitions import definition_of, experiment_events, get
from yutang.journeys.graph import WAITS, ApiEntry, Definition, EventEntry, SegmentEntry, WaitFor
from yutang.journeys.models import Journey, JourneyEnrolment, JourneyExposure, JourneyVersion, JourneyWait
from yutang.journeys.schemas import EnrolmentOut, EnrolmentStatus, JourneyStatus
from yutang.kit.errors import Conflict, Invalid
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

WAKE_FLAG = "yutang.journey_steps_due"  # set on a session whose commit leaves steps due now: the runner wakes
ACTIVE = EnrolmentStatus.ACTIVE.value


def emit(session: Session, enrolment: JourneyEnrolment, topic: Topic, *, at: datetime) -> None:
    """Record an entry, an end or a conversion for the warehouse and webhooks."""
    outbox.emit(session, workspace_id=enrolment.workspace_id, topic=topic, entity_id=enrolment.customer_id, payload={
        "journey_id": enrolment.journey_id, "enrolment_id": enrolment.id, "version_id": enrolment.version_id,
        "customer_id": enrolment.customer_id, "step": enrolment.step, "status": enrolment.status,
        "reason": enrolment.reason, "occurred_at": at.isoformat()})


def enrol(session: Session, *, journey: Journey, version: JourneyVersion, customer_id: int, now: datetime,
          tally: Tally, properties: dict | None = None,
          entry_key: str | None = None) -> tuple[JourneyEnrolment | None, str | None]:
    """Start an enrolment at the version's first step, due now; (None, why) when the re-entry policy or an active
    enrolment says no. A concurrent second entry, or the same event read again, meets the unique keys and is a
    no-op, never an error (`entry_key`: the entering event's message id; by default customer and rotation)."""
    definition = definition_of(version)
    previous = session.execute(select(func.count(), func.max(JourneyEnrolment.entered_at),
                                      func.count(JourneyEnrolment.active_customer_id))
                               .where(JourneyEnrolment.journey_id == journey.id,
                                      JourneyEnrolment.customer_id == customer_id)).one()
    entries, last_entered, active = previous
    if not core.may_enter(definition.reentry, days=definition.reentry_days, last_entered=last_entered,
                          active=bool(active), now=now):
        return None, "already_active" if active else "not_again"
    enrolment = JourneyEnrolment(workspace_id=journey.workspace_id, journey_id=journey.id, version_id=version.id,
                                 customer_id=customer_id, active_customer_id=customer_id,
                                 entry_key=entry_key or f"{customer_id}:{entries}", status=ACTIVE,
                                 step=definition.start, entered_at=now, properties=properties or {}, last_seen={})
    first = definition.steps[definition.start]
    due = core.first_due(first, now=now, zone=workspaces_service.get_workspace(
        session, workspace_id=journey.workspace_id).timezone) if isinstance(first, WAITS) else now
    try:
        with session.begin_nested():
            session.add(enrolment)
            session.flush()
            session.add(JourneyWait(workspace_id=journey.workspace_id, journey_id=journey.id,
                                    enrolment_id=enrolment.id, step=definition.start, visit=1, status="waiting",
                                    next_attempt_at=due, since=now, attempts=0))
            session.flush()
    except IntegrityError:  # another entry of the same customer committed first
        return None, "already_active"
    tally.add(version.id, definition.start, "entered")
    emit(session, enrolment, Topic.JOURNEY_ENTERED, at=now)
    if due <= now:
        session.info[WAKE_FLAG] = True
    return enrolment, None


def enrol_through_api(session: Session, *, actor: Actor, journey_id: int, customer_id: int, properties: dict,
                      now: datetime) -> tuple[JourneyEnrolment | None, str | None]:
    """Put a customer into a live journey whose entry is an API call."""
    actor.require(Permission.WRITE)
    journey = get(session, actor=actor, journey_id=journey_id)
    if journey.status != JourneyStatus.LIVE:
        raise Conflict(f"the journey is {journey.status}; customers enter live journeys only", field="journey_id")
    version = session.scalars(select(JourneyVersion).where(JourneyVersion.journey_id == journey.id,
                                                           JourneyVersion.number == journey.version)).one()
    if not isinstance(definition_of(version).entry, ApiEntry):
        raise Invalid("this journey's customers enter by its entry rule, not through the API", field="journey_id")
    customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    tally = Tally()
    found = enrol(session, journey=journey, version=version, customer_id=customer_id, now=now, tally=tally,
                  properties=properties)
    tally.flush(session)
    return found


def end(session: Session, enrolment: JourneyEnrolment, *, status: EnrolmentStatus, reason: str | None,
        now: datetime, tally: Tally, count: str | None) -> None:
    """Close an enrolment (its step row goes) and count it at the step it was at."""
    enrolment.status = status.value
    enrolment.ended_at = now
    enrolment.reason = reason
    enrolment.active_customer_id = None
    wait = session.scalar(select(JourneyWait).where(JourneyWait.enrolment_id == enrolment.id))
    if wait is not None:
        session.delete(wait)
    if count is not None and enrolment.step is not None:
        tally.add(enrolment.version_id, enrolment.step, count)
    emit(session, enrolment, Topic.JOURNEY_EXITED, at=now)


def entry_matches(definition: Definition, event: str, properties: dict) -> bool:
    """Whether an event lets a customer into a version."""
    entry = definition.entry
    if isinstance(entry, EventEntry):
        return entry.event == event and core.passes(entry.filters, properties)
    if isinstance(entry, SegmentEntry):
        return event == "Segment Entered" and str((properties or {}).get("segment_id")) == str(entry.segment_id)
    return False


def on_event(session: Session, *, customer_id: int, event: str, message_id: str, properties: dict, at: datetime,
             now: datetime, journeys: list[tuple[Journey, JourneyVersion]], tally: Tally) -> None:
    """Apply one event of a customer to the live `journeys`: exits and goals of the customer's enrolments (checked
    on every event, whatever step they are at, on the version each entered), the time of events branches ask
    about, then entries."""
    ids = [journey.id for journey, _ in journeys]
    enrolments = list(session.scalars(
        select(JourneyEnrolment).where(JourneyEnrolment.customer_id == customer_id,
                                       JourneyEnrolment.journey_id.in_(ids),
                                       (JourneyEnrolment.status == ACTIVE) | JourneyEnrolment.goal_at.is_(None))
        .order_by(JourneyEnrolment.id)))
    for enrolment in enrolments:
        if at < enrolment.entered_at:
            continue
        definition = definition_of(session.get(JourneyVersion, enrolment.version_id))
        active = enrolment.status == ACTIVE
        goal = definition.goal
        if goal is not None and goal.event == event and enrolment.goal_at is None and \
                at <= enrolment.entered_at + timedelta(days=goal.within_days):
            enrolment.goal_at = at
            tally.add(enrolment.version_id, enrolment.step, "goal")
            emit(session, enrolment, Topic.JOURNEY_CONVERTED, at=at)
            if active and goal.exit_on_goal:
                end(session, enrolment, status=EnrolmentStatus.EXITED, reason="goal", now=now, tally=tally,
                    count="exited")
                continue
        if not active:
            continue
        if any(rule.event == event and core.passes(rule.filters, properties) for rule in definition.exit_on):
            end(session, enrolment, status=EnrolmentStatus.EXITED, reason=f"exit_event:{event}"[:500], now=now,
                tally=tally, count="exited")
            continue
        enrolment.last_seen = {**enrolment.last_seen, event: at.isoformat()}
        current = definition.steps.get(enrolment.step)
        if isinstance(current, WaitFor) and current.event == event:  # the awaited event: go on now, not at timeout
            session.execute(update(JourneyWait).where(JourneyWait.enrolment_id == enrolment.id,
                                                      JourneyWait.status == "waiting",
                                                      JourneyWait.step == enrolment.step,
                                                      JourneyWait.since <= at).values(next_attempt_at=now))
            session.info[WAKE_FLAG] = True
    measured = [(journey.id, experiments.live_experiments(version)) for journey, version in journeys
                if event in experiment_events(definition_of(version))]
    if measured:
        experiments.on_event(session, customer_id=customer_id, event=event, at=at, journeys=measured)
    for journey, version in journeys:
        if (version.published_at is None or at >= version.published_at) and \
                entry_matches(definition_of(version), event, properties):
            enrol(session, journey=journey, version=version, customer_id=customer_id, now=now, tally=tally,
                  properties={"event": event}, entry_key=f"event:{message_id}"[:250])


def stop_all(session: Session, *, journey_id: int, now: datetime) -> int:
    """Let every active enrolment of a stopped journey out (counted as exited at its step); how many."""
    tally = Tally()
    rows = session.execute(select(JourneyEnrolment.version_id, JourneyEnrolment.step, func.count())
                           .where(JourneyEnrolment.journey_id == journey_id, JourneyEnrolment.status == ACTIVE)
                           .group_by(JourneyEnrolment.version_id, JourneyEnrolment.step)).all()
    for version_id, step, n in rows:
        tally.add(version_id, step, "exited", n)
    session.execute(delete(JourneyWait).where(JourneyWait.journey_id == journey_id))
    session.execute(update(JourneyEnrolment).where(JourneyEnrolment.journey_id == journey_id,
                                                   JourneyEnrolment.status == ACTIVE)
                    .values(status=EnrolmentStatus.EXITED.value, reason="stopped", ended_at=now,
                            active_customer_id=None))
    tally.flush(session)
    return sum(n for *_, n in rows)


def present(session: Session, enrolment: JourneyEnrolment) -> EnrolmentOut:
    """An enrolment with its step row's due time and error."""
    wait = session.scalar(select(JourneyWait).where(JourneyWait.enrolment_id == enrolment.id))
    out = EnrolmentOut.model_validate(enrolment)
    if wait is not None:
        out.due_at, out.attempts, out.error = wait.next_attempt_at, wait.attempts, wait.error
    return out


def list_enrolments(session: Session, *, actor: Actor, journey_id: int, status: EnrolmentStatus | None = None,
                    step: str | None = None, after_id: int | None = None, limit: int = 50) -> list[EnrolmentOut]:
    """A journey's enrolments oldest first, by status or step, keyset-paged (the customers at a step)."""
    actor.require(Permission.READ)
    journey = get(session, actor=actor, journey_id=journey_id)
    query = select(JourneyEnrolment).where(JourneyEnrolment.journey_id == journey.id)
    if actor.sees_own_customers_only:
        query = query.where(JourneyEnrolment.customer_id.in_(customers_service.visible_ids(actor)))
    if status is not None:
        query = query.where(JourneyEnrolment.status == status.value)
    if step is not None:
        query = query.where(JourneyEnrolment.step == step)
    if after_id is not None:
        query = query.where(JourneyEnrolment.id > after_id)
    return [present(session, e) for e in session.scalars(query.order_by(JourneyEnrolment.id).limit(limit))]


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: the loser's enrolments become the winner's; an active one where the winner is already active ends."""
    moved = 0
    winner_active = set(session.scalars(select(JourneyEnrolment.journey_id).where(
        JourneyEnrolment.customer_id == to_id, JourneyEnrolment.status == ACTIVE)))
    for enrolment in session.scalars(select(JourneyEnrolment).where(JourneyEnrolment.customer_id == from_id)):
        if enrolment.status == ACTIVE and enrolment.journey_id in winner_active:
            tally = Tally()
            end(session, enrolment, status=EnrolmentStatus.EXITED, reason="merged", now=enrolment.entered_at,
                tally=tally, count="exited")
            tally.flush(session)
        enrolment.customer_id = to_id
        if enrolment.active_customer_id is not None:
            enrolment.active_customer_id = to_id
        moved += 1
    session.flush()
    return moved


def export(session: Session, *, customer_id: int) -> list[dict]:
    """A customer's enrolments for their data export."""
    return [{"journey_id": e.journey_id, "status": e.status, "step": e.step, "entered_at": e.entered_at.isoformat(),
             "ended_at": e.ended_at.isoformat() if e.ended_at else None, "properties": e.properties}
            for e in session.scalars(select(JourneyEnrolment).where(JourneyEnrolment.customer_id == customer_id)
                                     .order_by(JourneyEnrolment.id))]


def erase(session: Session, *, customer_id: int) -> None:
    """Erasure: the customer's enrolments go (their step rows with them)."""
    ids = select(JourneyEnrolment.id).where(JourneyEnrolment.customer_id == customer_id).scalar_subquery()
    session.execute(delete(JourneyExposure).where(JourneyExposure.customer_id == customer_id))
    session.execute(delete(JourneyWait).where(JourneyWait.enrolment_id.in_(ids)))
    session.execute(delete(JourneyEnrolment).where(JourneyEnrolment.customer_id == customer_id))
