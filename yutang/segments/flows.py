"""Segment use cases, one flow each, called alike by the API, the console, the CLI and jobs.

A flow spans OLTP units of work and warehouse transactions (a dynamic segment is saved, then its membership is
built in the warehouse, then the rebuild is recorded), so it takes the session factory and the membership keeper
rather than one session. Callers catch the pipeline up first when the flow must see their earlier writes.
"""

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from yutang.customers import service as customers_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid
from yutang.segments import evaluate, service
from yutang.segments.membership import Definition, Diff, Membership
from yutang.segments.schemas import SegmentIn, SegmentPatch
from yutang.storage.engine import read_only, unit_of_work
from yutang.workspaces.access import Actor, Permission


def create(factory: sessionmaker[Session], membership: Membership, *, actor: Actor, data: SegmentIn) -> int:
    """Create a segment: a dynamic one builds its membership now, a static one freezes who matches its rule (with
    any picked customers). Returns the new segment's id."""
    if data.kind == service.STATIC and data.rule is not None:
        with read_only(factory) as session:
            node = service.parse(session, actor=actor, rule=data.rule)
        picked = evaluate.matching_ids(membership.warehouse, node, workspace_id=actor.workspace_id,
                                       timezone=actor.timezone)
        data = data.model_copy(update={"customer_ids": sorted(set(data.customer_ids) | picked)})
    with unit_of_work(factory) as session:
        segment, _ = service.create(session, actor=actor, data=data)
        segment_id, kind = segment.id, segment.kind
    if kind == service.DYNAMIC:
        rebuild(factory, membership, actor=actor, segment_id=segment_id)
    return segment_id


def update(factory: sessionmaker[Session], membership: Membership, *, actor: Actor, segment_id: int,
           data: SegmentPatch) -> None:
    """Change a segment; a new rule or auto-tag on a dynamic one rebuilds its membership."""
    with unit_of_work(factory) as session:
        segment, rule_changed = service.update(session, actor=actor, segment_id=segment_id, data=data)
        again = rule_changed or (data.tag_id is not None and segment.kind == service.DYNAMIC)
    if again:
        rebuild(factory, membership, actor=actor, segment_id=segment_id)


def delete(factory: sessionmaker[Session], membership: Membership, *, actor: Actor, segment_id: int) -> None:
    """Delete a segment; its materialised membership goes, its history and events stay."""
    with unit_of_work(factory) as session:
        service.delete_segment(session, actor=actor, segment_id=segment_id)
    membership.drop(segment_id=segment_id)


def rebuild(factory: sessionmaker[Session], membership: Membership, *, actor: Actor, segment_id: int,
            now: datetime | None = None) -> Diff:
    """Re-evaluate a dynamic segment for everyone, apply its auto-tag and record when."""
    actor.require(Permission.WRITE)
    with read_only(factory) as session:
        segment = service.get(session, actor=actor, segment_id=segment_id)
        if segment.kind != service.DYNAMIC:
            raise Invalid("only dynamic segments are rebuilt; a static list is frozen", field="segment_id")
        definition = Definition.of(segment, actor.timezone)
    diff = membership.rebuild(definition, now=now)
    membership.tagger.catch_up()  # the caller sees the auto-tags as it sees the members
    with unit_of_work(factory) as session:
        service.mark_rebuilt(session, segment_ids=[segment_id], at=utcnow())
    return diff


def rebuild_all(factory: sessionmaker[Session], membership: Membership, *, workspace_id: int | None = None,
                now: datetime | None = None) -> dict[int, Diff]:
    """Rebuild every dynamic segment of a workspace (or of all) and record when (the nightly job)."""
    diffs = membership.rebuild_all(now=now, workspace_id=workspace_id)
    membership.tagger.catch_up()
    with unit_of_work(factory) as session:
        service.mark_rebuilt(session, segment_ids=list(diffs), at=utcnow())
    return diffs


def duplicate(factory: sessionmaker[Session], membership: Membership, *, actor: Actor, segment_id: int,
              name: str) -> int:
    """A copy of a segment under a new name: a dynamic one with the same rule (built now), a static one with the
    same list of customers; the auto-tag is not copied (two segments would fight over it)."""
    with read_only(factory) as session:
        source = service.get(session, actor=actor, segment_id=segment_id)
        kind, rule, description = source.kind, source.rule, source.description
        customers = [] if kind == service.DYNAMIC else sorted(customers_service.visible_active(
            session, actor=actor, customer_ids=member_ids(session, membership, actor=actor, segment_id=segment_id)))
    if kind == service.DYNAMIC:
        return create(factory, membership, actor=actor,
                      data=SegmentIn(name=name, kind=kind, description=description, rule=rule))
    with unit_of_work(factory) as session:  # the list as it is, not who matches its rule now
        segment, _ = service.create(session, actor=actor, data=SegmentIn(name=name, kind=kind,
                                                                           description=description))
        for start in range(0, len(customers), 10_000):
            service.add_static(session, actor=actor, segment=segment, customer_ids=customers[start:start + 10_000])
        return segment.id


def member_ids(session: Session, membership: Membership, *, actor: Actor, segment_id: int) -> list[int]:
    """Every member's customer id, ascending (the static list, or the dynamic segment's materialised members)."""
    segment = service.get(session, actor=actor, segment_id=segment_id)
    found: list[int] = []
    while True:
        after = found[-1] if found else None
        if segment.kind == service.STATIC:
            page = service.static_members(session, segment=segment, after_id=after, limit=10_000)
        else:
            page = [customer_id for customer_id, _ in membership.members(segment_id=segment.id, after_id=after,
                                                                          limit=10_000)]
        found += page
        if len(page) < 10_000:
            return found
