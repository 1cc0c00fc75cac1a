"""Journeys and their versions: create, change (a new version once live), publish, pause, resume, stop, read."""

import json
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.journeys import graph
from yutang.journeys.graph import (
    Branch,
    Definition,
    EventEntry,
    Experiment,
    InSegment,
    SegmentEntry,
    Send,
    TagStep,
    Task,
    WaitFor,
    WaitUntil,
)
from yutang.journeys.models import Journey, JourneyStepCount, JourneyVersion
from yutang.journeys.schemas import JourneyIn, JourneyOut, JourneyPatch, JourneyStatus
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, FieldError, Invalid, NotFound
from yutang.messaging import service as messaging_service
from yutang.segments import service as segments_service
from yutang.storage.scoped import get_in_workspace
from yutang.stores import service as stores_service
from yutang.tags import service as tags_service
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


@lru_cache(maxsize=512)
def _parsed(text: str) -> Definition:
    return Definition.model_validate_json(text)


def definition_of(version: JourneyVersion) -> Definition:
    """A stored version's definition, parsed once per distinct text."""
    return _parsed(json.dumps(version.definition, sort_keys=True))


def _check_references(session: Session, actor: Actor, definition: Definition) -> None:
    """Refuse steps naming a segment, channel, template, tag or staff member the workspace lacks, or a template
    that does not fit its channel; the error names the step."""
    try:
        if isinstance(definition.entry, SegmentEntry):
            segments_service.get(session, actor=actor, segment_id=definition.entry.segment_id,
                                 field="definition.entry.segment_id")
        for key, step in definition.steps.items():
            at = f"definition.steps.{key}"
            if isinstance(step, Send):
                config = messaging_service.get_channel(session, actor=actor, config_id=step.channel_id,
                                                       field=f"{at}.channel_id")
                template = messaging_service.get_template(session, actor=actor, template_id=step.template_id,
                                                          field=f"{at}.template_id")
                if template.channel_kind != config.kind:
                    raise Invalid(f"the template is for {template.channel_kind}, the channel is {config.kind}",
                                  field=f"{at}.template_id")
            elif isinstance(step, TagStep):
                for tag_id in [*step.add, *step.remove]:
                    tags_service.get_tag(session, actor=actor, tag_id=tag_id)
            elif isinstance(step, Task) and step.staff_id is not None:
                stores_service.get_staff(session, actor=actor, staff_id=step.staff_id)
            elif isinstance(step, Branch | WaitUntil) and isinstance(step.condition, InSegment):
                segments_service.get(session, actor=actor, segment_id=step.condition.segment_id,
                                     field=f"{at}.condition.segment_id")
    except NotFound as exc:  # a reference the workspace lacks is bad input naming the step, not a missing journey
        named = exc.errors[0].field if exc.errors and exc.errors[0].field.startswith("definition.") else None
        raise Invalid(exc.detail, [FieldError(named or f"definition.steps.{key}", exc.detail)]) from None


def _validated(session: Session, actor: Actor, definition: Definition) -> dict:
    graph.check(definition)
    _check_references(session, actor, definition)
    return definition.model_dump(mode="json", exclude_none=True)


def _add_version(session: Session, actor: Actor, journey: Journey, number: int, stored: dict) -> JourneyVersion:
    version = JourneyVersion(workspace_id=actor.workspace_id, journey_id=journey.id, number=number,
                             definition=stored)
    session.add(version)
    session.flush()
    session.add_all(JourneyStepCount(workspace_id=actor.workspace_id, version_id=version.id, step=key)
                    for key in stored["steps"])
    return version


def _unique_name(session: Session, actor: Actor, name: str, other_than: int | None = None) -> None:
    found = session.scalar(select(Journey.id).where(Journey.workspace_id == actor.workspace_id, Journey.name == name))
    if found is not None and found != other_than:
        raise Conflict("a journey with this name exists", field="name")


def create(session: Session, *, actor: Actor, data: JourneyIn) -> Journey:
    """A draft journey with its first version."""
    actor.require(Permission.MANAGE)
    stored = _validated(session, actor, data.definition)
    _unique_name(session, actor, data.name)
    journey = Journey(workspace_id=actor.workspace_id, name=data.name, description=data.description,
                      status=JourneyStatus.DRAFT.value, version=1, updated_at=utcnow())
    session.add(journey)
    session.flush()
    _add_version(session, actor, journey, 1, stored)
    workspaces_service.record(session, actor=actor, action="journey.created", entity_type="journey",
                              entity_id=journey.id, changes={"name": data.name})
    return journey


def get(session: Session, *, actor: Actor, journey_id: int) -> Journey:
    """A journey of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Journey, journey_id, workspace_id=actor.workspace_id, what="journey",
                            field="journey_id")


def list_journeys(session: Session, *, actor: Actor) -> list[Journey]:
    """The workspace's journeys, newest first."""
    actor.require(Permission.READ)
    return list(session.scalars(select(Journey).where(Journey.workspace_id == actor.workspace_id)
                                .order_by(Journey.id.desc())))


def version(session: Session, *, journey: Journey, number: int | None = None) -> JourneyVersion:
    """A version of the journey (the current one by default)."""
    return session.scalars(select(JourneyVersion).where(JourneyVersion.journey_id == journey.id,
                                                        JourneyVersion.number == (number or journey.version))).one()


def versions(session: Session, *, actor: Actor, journey_id: int) -> list[JourneyVersion]:
    """Every version of a journey, newest first."""
    journey = get(session, actor=actor, journey_id=journey_id)
    return list(session.scalars(select(JourneyVersion).where(JourneyVersion.journey_id == journey.id)
                                .order_by(JourneyVersion.number.desc())))


def present(session: Session, journey: Journey) -> JourneyOut:
    """The journey with its current definition."""
    return JourneyOut(id=journey.id, name=journey.name, description=journey.description,
                      status=JourneyStatus(journey.status), version=journey.version,
                      definition=version(session, journey=journey).definition, created_at=journey.created_at,
                      updated_at=journey.updated_at)


def update(session: Session, *, actor: Actor, journey_id: int, data: JourneyPatch) -> Journey:
    """Rename or redefine a journey; once published, a new definition is a new version (enrolments stay on theirs)."""
    actor.require(Permission.MANAGE)
    journey = get(session, actor=actor, journey_id=journey_id)
    changes = data.changes()
    if journey.status == JourneyStatus.STOPPED:
        raise Conflict("a stopped journey cannot change", field="journey_id")
    if "name" in changes:
        _unique_name(session, actor, data.name, other_than=journey.id)
        journey.name = data.name
    if "description" in changes:
        journey.description = data.description
    if "definition" in changes:
        stored = _validated(session, actor, data.definition)
        current = version(session, journey=journey)
        if current.published_at is None:
            current.definition = stored  # nobody entered a draft: change it in place
            session.query(JourneyStepCount).filter(JourneyStepCount.version_id == current.id).delete()
            session.add_all(JourneyStepCount(workspace_id=actor.workspace_id, version_id=current.id, step=key)
                            for key in stored["steps"])
        else:
            new = _add_version(session, actor, journey, journey.version + 1, stored)
            new.published_at = utcnow()
            journey.version = new.number
    journey.updated_at = utcnow()
    workspaces_service.record(session, actor=actor, action="journey.updated", entity_type="journey",
                              entity_id=journey.id, changes={k: v for k, v in changes.items() if k != "definition"}
                              | ({"version": journey.version} if "definition" in changes else {}))
    return journey


_MOVES = {"publish": ({JourneyStatus.DRAFT}, JourneyStatus.LIVE),
          "pause": ({JourneyStatus.LIVE}, JourneyStatus.PAUSED),
          "resume": ({JourneyStatus.PAUSED}, JourneyStatus.LIVE),
          "stop": ({JourneyStatus.LIVE, JourneyStatus.PAUSED, JourneyStatus.DRAFT}, JourneyStatus.STOPPED)}


def move(session: Session, *, actor: Actor, journey_id: int, action: str) -> Journey:
    """Publish, pause, resume or stop a journey (stopping ends its active enrolments: the caller does that)."""
    actor.require(Permission.MANAGE)
    journey = get(session, actor=actor, journey_id=journey_id)
    allowed, target = _MOVES[action]
    if JourneyStatus(journey.status) not in allowed:
        raise Conflict(f"a {journey.status} journey cannot {action}", field="journey_id")
    journey.status = target.value
    journey.updated_at = utcnow()
    if action == "publish":
        version(session, journey=journey).published_at = utcnow()
    workspaces_service.record(session, actor=actor, action=f"journey.{action}", entity_type="journey",
                              entity_id=journey.id, changes={"status": target.value})
    return journey


def live(session: Session, *, workspace_id: int | None = None) -> list[tuple[Journey, JourneyVersion]]:
    """Live journeys with their current versions (of one workspace, or all)."""
    query = (select(Journey, JourneyVersion).join(JourneyVersion, (JourneyVersion.journey_id == Journey.id)
                                                  & (JourneyVersion.number == Journey.version))
             .where(Journey.status == JourneyStatus.LIVE.value))
    if workspace_id is not None:
        query = query.where(Journey.workspace_id == workspace_id)
    return [(journey, found) for journey, found in session.execute(query.order_by(Journey.id)).all()]


def running_experiments(session: Session, *, actor: Actor) -> list[str]:
    """The workspace's live journeys that hold an experiment step, by name."""
    return [journey.name for journey, found in live(session, workspace_id=actor.workspace_id)
            if any(isinstance(step, Experiment) for step in definition_of(found).steps.values())]


def listened_events(definition: Definition) -> set[str]:
    """The event names a version reacts to: its entry, exits, goal and branch conditions."""
    names = {e.event for e in definition.exit_on}
    if isinstance(definition.entry, EventEntry):
        names.add(definition.entry.event)
    if isinstance(definition.entry, SegmentEntry):
        names.add("Segment Entered")
    if definition.goal is not None:
        names.add(definition.goal.event)
    names |= {step.condition.event for step in definition.steps.values()
              if isinstance(step, Branch | WaitUntil) and not isinstance(step.condition, InSegment)}
    names |= {step.event for step in definition.steps.values() if isinstance(step, WaitFor)}
    return names | experiment_events(definition)


def experiment_events(definition: Definition) -> set[str]:
    """The event names a version's experiments measure (their metric and guardrails)."""
    return {metric.event for step in definition.steps.values() if isinstance(step, Experiment)
            for metric in [*([step.metric] if step.metric else []), *step.guardrails]}
