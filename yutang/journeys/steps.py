"""What each action step does, through the other domains' public faces. Every side effect carries a key made of
(enrolment, step, visit), recorded in the same transaction as the step's advance, so a retry or a crash never
does it twice."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from yutang.journeys.graph import Send, TagStep, Task
from yutang.journeys.models import JourneyEnrolment, JourneyWait
from yutang.kit.errors import Invalid
from yutang.messaging import broadcasts, pressure
from yutang.messaging import service as messaging_service
from yutang.messaging.schemas import MessageIn, Purpose
from yutang.stores import service as stores_service
from yutang.stores.schemas import TaskIn, TaskKind
from yutang.tags import service as tags_service
from yutang.workspaces.access import Actor


@dataclass(frozen=True)
class Done:
    """The step is done; `note` says what it did (a message suppressed, deferred …)."""

    note: str | None = None


@dataclass(frozen=True)
class Later:
    """The step must run again at `at` (the quiet hours end then)."""

    at: datetime
    note: str


def key_of(enrolment: JourneyEnrolment, wait: JourneyWait) -> str:
    """The idempotency key of the step's side effect (one per enrolment, step and visit)."""
    return f"journey:{enrolment.id}:{wait.step}:{wait.visit}"


def _pressure(session: Session, actor: Actor, customer_id: int, kind: str, purpose: str,
              now: datetime) -> pressure.Decision:
    rules = broadcasts.rules_of(broadcasts.get_pressure(session, actor=actor))
    longest = max((cap.window for cap in rules.caps), default=timedelta(0))
    history = tuple(pressure.Sent(at=at, channel=channel, purpose=sent_purpose) for at, channel, sent_purpose in
                    messaging_service.recent_sends(session, customer_id=customer_id, since=now - longest))
    candidate = pressure.Candidate(customer_id=customer_id, campaign_id=0, channel=kind, purpose=purpose)
    held = pressure.held_out(actor.workspace_id, customer_id, rules.holdout_bp)
    return pressure.decide([candidate], {customer_id: pressure.Customer(id=customer_id, history=history,
                                                                        held_out=held)}, rules, now)[0]


def send(session: Session, *, actor: Actor, enrolment: JourneyEnrolment, wait: JourneyWait, step: Send,
         now: datetime) -> Done | Later:
    """Queue the template through messaging's single send; caps suppress it (the journey goes on), the quiet hours
    hold the step until they end."""
    config = messaging_service.get_channel(session, actor=actor, config_id=step.channel_id, field="channel_id")
    template = messaging_service.get_template(session, actor=actor, template_id=step.template_id)
    purpose = Purpose.MARKETING if template.purpose == "marketing" else Purpose.SERVICE
    key = key_of(enrolment, wait)
    if purpose is Purpose.MARKETING:
        decision = _pressure(session, actor, enrolment.customer_id, config.kind, purpose.value, now)
        if decision.retry_at is not None:
            return Later(at=decision.retry_at, note=decision.reason or "quiet_hours")
        if not decision.send:
            return Done(note=f"suppressed:{decision.reason}")
    message = messaging_service.enqueue(session, actor=actor, data=MessageIn(
        channel_id=config.id, customer_id=enrolment.customer_id, template_id=template.id, purpose=purpose,
        idempotency_key=key))
    return Done(note=f"message:{message.id}:{message.status}")


def task(session: Session, *, actor: Actor, enrolment: JourneyEnrolment, wait: JourneyWait, step: Task,
         now: datetime) -> Done:
    """Give the step's staff member (else the customer's owner) a task, once per key."""
    staff_id = step.staff_id
    if staff_id is None:
        owner = stores_service.owner_of(session, actor=actor, customer_id=enrolment.customer_id)
        staff = stores_service.staff_of_member(session, workspace_id=actor.workspace_id,
                                               member_id=owner.member_id) \
            if owner.member_id is not None else None
        if staff is None:
            raise Invalid("the customer has no owner among the staff to give the task to", field="staff_id")
        staff_id = staff.id
    found, _ = stores_service.create_task(session, actor=actor, data=TaskIn(
        staff_id=staff_id, customer_id=enrolment.customer_id, kind=TaskKind.FOLLOW_UP, title=step.title,
        note=step.note, due_at=now + timedelta(hours=step.due_hours), source_key=key_of(enrolment, wait)))
    return Done(note=f"task:{found.id}")


def tag(session: Session, *, actor: Actor, enrolment: JourneyEnrolment, wait: JourneyWait, step: TagStep,
        now: datetime) -> Done:
    """Add and remove the step's tags (adding a tag held, or removing one not held, changes nothing)."""
    add = [tags_service.get_tag(session, actor=actor, tag_id=t) for t in step.add]
    remove = [tags_service.get_tag(session, actor=actor, tag_id=t) for t in step.remove]
    tags_service.apply(session, actor=actor, customer_ids=[enrolment.customer_id], add=add, remove=remove,
                       source="journey")
    return Done()
