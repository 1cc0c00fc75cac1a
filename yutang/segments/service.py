"""Segment definitions in the OLTP store, static member lists, and the checks a rule must pass to be saved."""

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy import update as update_rows
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.customers import service as customers_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, FieldError, Invalid, NotFound
from yutang.segments import rules
from yutang.segments.models import Segment, StaticMember
from yutang.segments.schemas import SegmentIn, SegmentPatch
from yutang.storage.scoped import get_in_workspace
from yutang.tags import service as tags_service
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

DYNAMIC = "dynamic"
STATIC = "static"


def parse(session: Session, *, actor: Actor, rule: dict, field: str = "rule") -> rules.Node:
    """Parse a rule and check the tags and channels it names exist in the workspace."""
    node = rules.parse_rule(rule, field=field)
    errors = []
    pairs = _with_paths(node, field)
    channel_ids = {i for _, c in pairs if isinstance(c, rules.ChannelCondition) for i in c.channel_ids}
    channels = channels_service.channels_by_id(session, actor=actor, ids=channel_ids) if channel_ids else {}
    for path, condition in pairs:
        if isinstance(condition, rules.TagCondition):
            for index, tag_id in enumerate(condition.tag_ids):
                try:
                    tags_service.get_tag(session, actor=actor, tag_id=tag_id)
                except NotFound:  # name the node, not the generic field
                    errors.append(FieldError(field=f"{path}.tag_ids[{index}]", message=f"no tag with id {tag_id}"))
        if isinstance(condition, rules.ChannelCondition):
            for index, channel_id in enumerate(condition.channel_ids):
                if channel_id not in channels:
                    errors.append(FieldError(field=f"{path}.channel_ids[{index}]",
                                             message=f"no channel with id {channel_id}"))
    if errors:
        raise Invalid(f"{errors[0].field}: {errors[0].message}", errors)
    return node


def _with_paths(node: rules.Node, path: str) -> list[tuple[str, object]]:
    if isinstance(node, rules.All):
        return [p for i, child in enumerate(node.all) for p in _with_paths(child, f"{path}.all[{i}]")]
    if isinstance(node, rules.Any_):
        return [p for i, child in enumerate(node.any) for p in _with_paths(child, f"{path}.any[{i}]")]
    if isinstance(node, rules.Not):
        return _with_paths(node.not_, f"{path}.not")
    return [(path, node)]


def _check_tag(session: Session, actor: Actor, tag_id: int | None, node: rules.Node | None) -> None:
    if tag_id is None:
        return
    tags_service.get_tag(session, actor=actor, tag_id=tag_id)
    if node is not None and tag_id in rules.references(node)["tag_ids"]:
        # Entry would add the tag the rule tests, so membership could flip on its own change for ever.
        raise Invalid("a segment cannot auto-tag with a tag its own rule tests", field="tag_id")


def create(session: Session, *, actor: Actor, data: SegmentIn) -> tuple[Segment, rules.Node | None]:
    """Create a segment; returns it with its parsed rule (the caller builds the membership)."""
    actor.require(Permission.WRITE)
    if data.kind == DYNAMIC and data.rule is None:
        raise Invalid("a dynamic segment needs a rule", field="rule")
    if data.kind == DYNAMIC and data.customer_ids:
        raise Invalid("picked customers make a static segment", field="customer_ids")
    node = parse(session, actor=actor, rule=data.rule) if data.rule is not None else None
    _check_tag(session, actor, data.tag_id, node)
    _unique_name(session, actor, data.name)
    segment = Segment(workspace_id=actor.workspace_id, name=data.name, description=data.description, kind=data.kind,
                      rule=rules.dump(node) if node is not None else None, tag_id=data.tag_id,
                      member_id=actor.member_id, updated_at=utcnow())
    session.add(segment)
    session.flush()
    if data.customer_ids:
        add_static(session, actor=actor, segment=segment, customer_ids=data.customer_ids)
    workspaces_service.record(session, actor=actor, action="segment.created", entity_type="segment",
                              entity_id=segment.id, changes={"name": data.name, "kind": data.kind,
                                                             "rule": segment.rule, "tag_id": data.tag_id})
    return segment, node


def _unique_name(session: Session, actor: Actor, name: str, *, other_than: int | None = None) -> None:
    query = select(Segment.id).where(Segment.workspace_id == actor.workspace_id, Segment.name == name)
    if other_than is not None:
        query = query.where(Segment.id != other_than)
    if session.scalar(query):
        raise Conflict(f"a segment named {name!r} exists already", field="name")


def get(session: Session, *, actor: Actor, segment_id: int, field: str = "segment_id") -> Segment:
    """A segment of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Segment, segment_id, workspace_id=actor.workspace_id, what="segment",
                            field=field)


def list_segments(session: Session, *, actor: Actor, after_id: int | None = None, limit: int = 50) -> list[Segment]:
    """Segments oldest first, keyset-paged."""
    actor.require(Permission.READ)
    query = select(Segment).where(Segment.workspace_id == actor.workspace_id)
    if after_id is not None:
        query = query.where(Segment.id > after_id)
    return list(session.scalars(query.order_by(Segment.id).limit(limit)))


def update(session: Session, *, actor: Actor, segment_id: int, data: SegmentPatch) -> tuple[Segment, bool]:
    """Change a segment; returns it and whether its rule changed (a dynamic one then needs a rebuild)."""
    actor.require(Permission.WRITE)
    segment = get(session, actor=actor, segment_id=segment_id)
    changes = data.model_dump(exclude_unset=True)
    node = None
    if "rule" in changes:
        if data.rule is None:
            raise Invalid("a rule cannot be removed; delete the segment instead", field="rule")
        if segment.kind == STATIC:
            raise Invalid("a static segment's list is frozen; create a new one from the rule", field="rule")
        node = parse(session, actor=actor, rule=data.rule)
        segment.rule = rules.dump(node)
    if "name" in changes and data.name:
        _unique_name(session, actor, data.name, other_than=segment.id)
        segment.name = data.name
    if "description" in changes:
        segment.description = data.description
    if "tag_id" in changes:
        tag_id = data.tag_id or None
        _check_tag(session, actor, tag_id, rules.parse_rule(segment.rule) if segment.rule else None)
        segment.tag_id = tag_id
    elif node is not None:
        _check_tag(session, actor, segment.tag_id, node)
    segment.updated_at = utcnow()
    workspaces_service.record(session, actor=actor, action="segment.updated", entity_type="segment",
                              entity_id=segment.id, changes={k: v for k, v in changes.items()})
    return segment, node is not None


def delete_segment(session: Session, *, actor: Actor, segment_id: int) -> Segment:
    """Delete a segment (its warehouse membership is dropped by the caller after commit)."""
    actor.require(Permission.WRITE)
    segment = get(session, actor=actor, segment_id=segment_id)
    session.delete(segment)
    workspaces_service.record(session, actor=actor, action="segment.deleted", entity_type="segment",
                              entity_id=segment_id, changes={"name": segment.name})
    return segment


def dynamic_segments(session: Session, *, workspace_id: int) -> list[Segment]:
    """A workspace's dynamic segments (for membership upkeep; no actor: the pipeline calls it)."""
    return list(session.scalars(select(Segment).where(Segment.workspace_id == workspace_id,
                                                      Segment.kind == DYNAMIC).order_by(Segment.id)))


def all_dynamic_segments(session: Session, *, workspace_id: int | None = None) -> list[Segment]:
    """Every dynamic segment of one workspace, or of every workspace (for scheduled rebuilds)."""
    query = select(Segment).where(Segment.kind == DYNAMIC)
    if workspace_id is not None:
        query = query.where(Segment.workspace_id == workspace_id)
    return list(session.scalars(query.order_by(Segment.id)))


def workspace_timezone(session: Session, *, workspace_id: int) -> str:
    """The zone a workspace's windows are computed in."""
    return workspaces_service.get_workspace(session, workspace_id=workspace_id).timezone


# ---- static lists --------------------------------------------------------------------------------------


def add_static(session: Session, *, actor: Actor, segment: Segment, customer_ids: list[int],
               field: str = "customer_ids") -> int:
    """Add customers to a static segment's list; returns how many were new."""
    actor.require(Permission.WRITE)
    if segment.kind != STATIC:
        raise Invalid("only static segments take picked customers", field="segment_id")
    wanted = sorted(set(customer_ids))
    found = customers_service.visible_active(session, actor=actor, customer_ids=wanted)
    missing = [i for i, cid in enumerate(customer_ids) if cid not in found]
    if missing:
        raise Invalid(f"no active customer with id {customer_ids[missing[0]]}",
                      [FieldError(field=f"{field}[{i}]", message=f"no active customer with id {customer_ids[i]}")
                       for i in missing[:20]])
    have = set(session.scalars(select(StaticMember.customer_id).where(StaticMember.segment_id == segment.id)))
    new = [cid for cid in wanted if cid not in have]
    session.add_all([StaticMember(workspace_id=actor.workspace_id, segment_id=segment.id, customer_id=cid)
                     for cid in new])
    session.flush()
    if new:
        workspaces_service.record(session, actor=actor, action="segment.members_added", entity_type="segment",
                                  entity_id=segment.id, changes={"added": len(new)})
    return len(new)


def static_members(session: Session, *, segment: Segment, after_id: int | None, limit: int) -> list[int]:
    """Customer ids on a static list, ascending, keyset-paged."""
    query = select(StaticMember.customer_id).where(StaticMember.segment_id == segment.id)
    if after_id is not None:
        query = query.where(StaticMember.customer_id > after_id)
    return list(session.scalars(query.order_by(StaticMember.customer_id).limit(limit)))


def kinds(session: Session, *, segment_ids: list[int]) -> dict[int, str]:
    """Kind (dynamic or static) per existing segment id."""
    if not segment_ids:
        return {}
    return dict(session.execute(select(Segment.id, Segment.kind).where(Segment.id.in_(segment_ids))).all())


def static_lists(session: Session, *, segment_ids: list[int]) -> dict[int, list[int]]:
    """The customer ids on each of the static segments named (segments without members are absent)."""
    lists: dict[int, list[int]] = {}
    if segment_ids:
        for segment_id, customer_id in session.execute(select(StaticMember.segment_id, StaticMember.customer_id)
                                                       .where(StaticMember.segment_id.in_(segment_ids))):
            lists.setdefault(segment_id, []).append(customer_id)
    return lists


def static_count(session: Session, *, segment_ids: list[int]) -> dict[int, int]:
    """Members per static segment."""
    if not segment_ids:
        return {}
    return dict(session.execute(select(StaticMember.segment_id, func.count()).where(
        StaticMember.segment_id.in_(segment_ids)).group_by(StaticMember.segment_id)).all())


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Move a merged customer's static-list places to the winner (lists both were on keep one row)."""
    have = set(session.scalars(select(StaticMember.segment_id).where(StaticMember.customer_id == to_id)))
    session.execute(delete(StaticMember).where(StaticMember.customer_id == from_id,
                                               StaticMember.segment_id.in_(have)))
    rows = session.scalars(select(StaticMember).where(StaticMember.customer_id == from_id)).all()
    for row in rows:
        row.customer_id = to_id
    session.flush()
    return len(rows)


def export(session: Session, *, customer_id: int) -> list[dict]:
    """The static segments a customer is listed on, for a data-subject export."""
    rows = session.execute(select(Segment.id, Segment.name).join(StaticMember, StaticMember.segment_id == Segment.id)
                           .where(StaticMember.customer_id == customer_id).order_by(Segment.id))
    return [{"segment_id": segment_id, "name": name} for segment_id, name in rows]


def mark_rebuilt(session: Session, *, segment_ids: list[int], at: datetime) -> None:
    """Record when segments' membership was last evaluated for everyone."""
    if segment_ids:
        session.execute(update_rows(Segment).where(Segment.id.in_(segment_ids)).values(rebuilt_at=at))
