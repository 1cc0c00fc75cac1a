"""The runner: claims due step rows in batches and moves each enrolment on, step by step, until it waits, ends or
a step fails. A failure rolls back only that enrolment's step (a savepoint) and is retried with backoff, then
parked as failed with its reason; the rest of the batch goes on."""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from yutang.journeys import core, enrolments, experiments, steps
from yutang.journeys.counts import Tally
from yutang.journeys.definitions import definition_of
from yutang.journeys.enrolments import end
from yutang.journeys.graph import (
    WAITS,
    Branch,
    Definition,
    EventHappened,
    Exit,
    Experiment,
    InSegment,
    Send,
    TagStep,
    Task,
    Wait,
    WaitFor,
    WaitUntil,
)
from yutang.journeys.models import Journey, JourneyEnrolment, JourneyVersion, JourneyWait
from yutang.journeys.schemas import EnrolmentStatus, JourneyStatus
from yutang.kit.background import Background, Worker
from yutang.kit.clock import utcnow
from yutang.kit.errors import DomainError
from yutang.storage import claims
from yutang.storage.engine import unit_of_work
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, system_actor

log = logging.getLogger(__name__)
MAX_STEPS_PER_PASS = 100  # instant steps run back to back; the graph check forbids loops without a wait
STALE_CLAIM = timedelta(minutes=10)
InSegmentFn = Callable[[int, int], bool]  # (segment id, customer id) -> member now
ACTIONS = {Send: steps.send, Task: steps.task, TagStep: steps.tag}


class Pass:
    """One batch's shared lookups: actors per workspace, definitions per version, the counters to write."""

    def __init__(self, session: Session, in_segment: InSegmentFn, now: datetime):
        self.session, self.in_segment, self.now = session, in_segment, now
        self.tally = Tally()
        self._actors: dict[int, Actor] = {}
        self._versions: dict[int, Definition] = {}

    def actor(self, workspace_id: int) -> Actor:
        if workspace_id not in self._actors:
            zone = workspaces_service.get_workspace(self.session, workspace_id=workspace_id).timezone
            self._actors[workspace_id] = system_actor(workspace_id, timezone=zone)
        return self._actors[workspace_id]

    def definition(self, version_id: int) -> Definition:
        if version_id not in self._versions:
            self._versions[version_id] = definition_of(self.session.get(JourneyVersion, version_id))
        return self._versions[version_id]


def _facts(run: Pass, enrolment: JourneyEnrolment, wait: JourneyWait, condition: InSegment | EventHappened
           ) -> core.Facts:
    segments = frozenset({condition.segment_id}) if isinstance(condition, InSegment) and \
        run.in_segment(condition.segment_id, enrolment.customer_id) else frozenset()
    seen = {name: datetime.fromisoformat(at) for name, at in enrolment.last_seen.items()} \
        if isinstance(condition, EventHappened) else {}
    return core.Facts(segments=segments, last_seen=seen, since=wait.since)


def _fail(run: Pass, enrolment: JourneyEnrolment, wait: JourneyWait, error: str) -> None:
    wait.attempts += 1
    wait.error = error[:500]
    if wait.attempts >= core.MAX_ATTEMPTS:
        run.tally.add(enrolment.version_id, wait.step, "failed")
        enrolment.status = EnrolmentStatus.FAILED.value
        enrolment.reason = f"{wait.step}: {error}"[:500]
        enrolment.ended_at = run.now
        enrolment.active_customer_id = None
        wait.status = "failed"  # kept: visible with its error, replayable
        enrolments.emit(run.session, enrolment, Topic.JOURNEY_EXITED, at=run.now)
    else:
        wait.status = "waiting"
        wait.next_attempt_at = run.now + core.backoff(wait.attempts)


def advance(run: Pass, wait: JourneyWait) -> None:
    """Run a due step and the instant steps after it, until the enrolment waits, ends or a step fails."""
    session = run.session
    enrolment = session.get(JourneyEnrolment, wait.enrolment_id)
    definition = run.definition(enrolment.version_id)
    actor = run.actor(enrolment.workspace_id)
    for _ in range(MAX_STEPS_PER_PASS):
        step = definition.steps[wait.step]
        if isinstance(step, Wait):
            target = step.next  # claimed because the wait is over
        elif isinstance(step, Exit):
            target = None
        elif isinstance(step, Branch):
            target = core.choose(step, _facts(run, enrolment, wait, step.condition))
        elif isinstance(step, WaitFor):
            target = core.waited_for(step, _facts(run, enrolment, wait, EventHappened(kind="event",
                                                                                      event=step.event)))
        elif isinstance(step, WaitUntil):
            found = core.waited_until(step, _facts(run, enrolment, wait, step.condition), now=run.now)
            if isinstance(found, core.Recheck):
                wait.status, wait.next_attempt_at = "waiting", found.at
                return
            target = found
        elif isinstance(step, Experiment):
            target = experiments.expose(session, enrolment=enrolment, key=wait.step, step=step, now=run.now)
        else:
            try:
                with session.begin_nested():
                    outcome = ACTIONS[type(step)](session, actor=actor, enrolment=enrolment, wait=wait, step=step,
                                                  now=run.now)
            except DomainError as exc:
                _fail(run, enrolment, wait, exc.detail)
                return
            if isinstance(outcome, steps.Later):
                wait.status, wait.next_attempt_at, wait.error = "waiting", outcome.at, outcome.note
                return
            target = step.next
        run.tally.add(enrolment.version_id, wait.step, "done")
        if target is None:
            end(session, enrolment, status=EnrolmentStatus.DONE, reason=None, now=run.now, tally=run.tally,
                count=None)
            return
        run.tally.add(enrolment.version_id, target, "entered")
        enrolment.step = wait.step = target
        wait.visit += 1
        wait.attempts, wait.error = 0, None
        following = definition.steps[target]
        if isinstance(following, WAITS):
            wait.since = run.now
            wait.status = "waiting"
            wait.next_attempt_at = core.first_due(following, now=run.now, zone=actor.timezone)
            return
    wait.status, wait.next_attempt_at = "waiting", run.now  # a long chain of instant steps: go on next pass


def run_due(session: Session, *, in_segment: InSegmentFn, now: datetime, limit: int = 500) -> int:
    """Claim up to `limit` due steps of live journeys and advance each; how many were claimed."""
    live = select(Journey.id).where(Journey.status == JourneyStatus.LIVE.value)
    rows = claims.claim_due(session, JourneyWait, now=now, limit=limit, waiting="waiting", taken="running",
                            stale_after=STALE_CLAIM, where=(JourneyWait.journey_id.in_(live),))
    run = Pass(session, in_segment, now)
    if rows:  # one query loads the batch's enrolments (advance then finds them in the session)
        list(session.scalars(select(JourneyEnrolment).where(JourneyEnrolment.id.in_([w.enrolment_id for w in rows]))))
    for wait in rows:
        advance(run, wait)
    run.tally.flush(session)
    return len(rows)


class Runner(Background):
    """Advances due journey steps in the background: woken after commits that left steps due now, and every few
    seconds for waits falling due."""

    def __init__(self, factory: sessionmaker[Session], in_segment: InSegmentFn, *, batch_size: int = 500,
                 idle_seconds: float = 2.0):
        self.factory = factory
        self.in_segment = in_segment
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self.worker = Worker(self.run_until_idle, name="yutang-journeys", idle_seconds=idle_seconds)

    def run_once(self, *, now: datetime | None = None) -> int:
        """One batch in one unit of work; how many steps were claimed."""
        with unit_of_work(self.factory) as session:
            return run_due(session, in_segment=self.in_segment, now=now or utcnow(), limit=self.batch_size)

    def run_until_idle(self, *, now: datetime | None = None) -> int:
        """Batches until none is full; how many steps were claimed."""
        total = 0
        with self._lock:
            while True:
                claimed = self.run_once(now=now)
                total += claimed
                if claimed < self.batch_size:
                    return total
