"""Tag groups and tags, tagging one customer or many, and tag lookups for search."""

from dataclasses import replace

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, FieldError, Invalid
from yutang.storage import outbox
from yutang.storage.scoped import get_in_workspace
from yutang.storage.topics import Topic
from yutang.tags.models import CustomerTag, Tag, TagGroup
from yutang.tags.schemas import (
    CustomerTagOut,
    TagGroupIn,
    TagGroupOut,
    TagGroupPatch,
    TagIn,
    TagOut,
    TagPatch,
    TagRef,
)
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


def create_group(session: Session, *, actor: Actor, data: TagGroupIn) -> TagGroup:
    """Create a tag group with its initial tags."""
    actor.require(Permission.BULK)
    if session.scalar(select(TagGroup.id).where(TagGroup.workspace_id == actor.workspace_id,
                                                TagGroup.name == data.name)):
        raise Conflict(f"a tag group named {data.name!r} exists already", field="name")
    if len(set(data.tags)) != len(data.tags):
        raise Invalid("tag names repeat within the group", field="tags")
    group = TagGroup(workspace_id=actor.workspace_id, name=data.name, order=data.order)
    session.add(group)
    session.flush()
    for index, name in enumerate(data.tags):
        session.add(Tag(workspace_id=actor.workspace_id, group_id=group.id, name=name, order=index))
    session.flush()
    workspaces_service.record(session, actor=actor, action="tag_group.created", entity_type="tag_group",
                              entity_id=group.id, changes=data.model_dump())
    return group


def create_tag(session: Session, *, actor: Actor, data: TagIn) -> Tag:
    """Create a tag in an existing group."""
    actor.require(Permission.BULK)
    group = _group(session, actor, data.group_id)
    if session.scalar(select(Tag.id).where(Tag.group_id == group.id, Tag.name == data.name)):
        raise Conflict(f"tag {data.name!r} exists in group {group.name!r}", field="name")
    tag = Tag(workspace_id=actor.workspace_id, group_id=group.id, name=data.name, order=data.order)
    session.add(tag)
    session.flush()
    workspaces_service.record(session, actor=actor, action="tag.created", entity_type="tag", entity_id=tag.id,
                              changes=data.model_dump())
    return tag


def _group(session: Session, actor: Actor, group_id: int) -> TagGroup:
    return get_in_workspace(session, TagGroup, group_id, workspace_id=actor.workspace_id, what="tag group",
                            field="group_id")


def delete_tag(session: Session, *, actor: Actor, tag_id: int) -> None:
    """Delete a tag and take it off every customer."""
    actor.require(Permission.BULK)
    tag = get_tag(session, actor=actor, tag_id=tag_id)
    holders = _drop_tags(session, actor, [tag.id])
    session.delete(tag)
    workspaces_service.record(session, actor=actor, action="tag.deleted", entity_type="tag", entity_id=tag_id,
                              changes={"name": tag.name, "customers": holders})


def _drop_tags(session: Session, actor: Actor, tag_ids: list[int]) -> int:
    # Tag Removed for every holder, then the rows go with the tag (cascade); returns how many were removed.
    removed = 0
    for tag_id in tag_ids:
        holders = sorted(session.scalars(select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag_id)))
        _emit_many(session, actor, holders, tag_id, added=False)
        session.execute(delete(CustomerTag).where(CustomerTag.tag_id == tag_id))
        removed += len(holders)
    return removed


def rename_tag(session: Session, *, actor: Actor, tag_id: int, data: TagPatch) -> Tag:
    """Rename or reorder a tag; names stay unique within the group."""
    actor.require(Permission.BULK)
    tag = get_tag(session, actor=actor, tag_id=tag_id)
    changes = data.changes()
    if "name" in changes and changes["name"] != tag.name and session.scalar(
            select(Tag.id).where(Tag.group_id == tag.group_id, Tag.name == changes["name"])):
        raise Conflict(f"a tag named {changes['name']!r} exists in this group", field="name")
    for key, value in changes.items():
        setattr(tag, key, value)
    session.flush()
    workspaces_service.record(session, actor=actor, action="tag.updated", entity_type="tag", entity_id=tag.id,
                              changes=changes)
    return tag


def rename_group(session: Session, *, actor: Actor, group_id: int, data: TagGroupPatch) -> TagGroup:
    """Rename or reorder a tag group; group names stay unique in the workspace."""
    actor.require(Permission.BULK)
    group = _group(session, actor, group_id)
    changes = data.changes()
    if "name" in changes and changes["name"] != group.name and session.scalar(
            select(TagGroup.id).where(TagGroup.workspace_id == actor.workspace_id, TagGroup.name == changes["name"])):
        raise Conflict(f"a tag group named {changes['name']!r} exists already", field="name")
    for key, value in changes.items():
        setattr(group, key, value)
    session.flush()
    workspaces_service.record(session, actor=actor, action="tag_group.updated", entity_type="tag_group",
                              entity_id=group.id, changes=changes)
    return group


def delete_group(session: Session, *, actor: Actor, group_id: int) -> None:
    """Delete a tag group with its tags, taking them off every customer."""
    actor.require(Permission.BULK)
    group = _group(session, actor, group_id)
    tag_ids = list(session.scalars(select(Tag.id).where(Tag.group_id == group.id)))
    removed = _drop_tags(session, actor, tag_ids)
    session.execute(delete(Tag).where(Tag.group_id == group.id))
    session.delete(group)
    workspaces_service.record(session, actor=actor, action="tag_group.deleted", entity_type="tag_group",
                              entity_id=group_id, changes={"name": group.name, "tags": len(tag_ids),
                                                           "customers": removed})


def get_tag(session: Session, *, actor: Actor, tag_id: int) -> Tag:
    """A tag of the workspace."""
    return get_in_workspace(session, Tag, tag_id, workspace_id=actor.workspace_id, what="tag", field="tag_id")


def list_groups(session: Session, *, actor: Actor, q: str | None = None, counted: bool = True) -> list[TagGroupOut]:
    """Tag groups with their tags (filtered by a name search) and, when counted, how many customers carry each."""
    actor.require(Permission.READ)
    counts = {} if not counted else dict(session.execute(
        select(CustomerTag.tag_id, func.count())
        .where(CustomerTag.workspace_id == actor.workspace_id,
               CustomerTag.customer_id.in_(customers_service.active_ids(workspace_id=actor.workspace_id)))
        .group_by(CustomerTag.tag_id)).all())
    groups = session.scalars(select(TagGroup).where(TagGroup.workspace_id == actor.workspace_id)
                             .order_by(TagGroup.order, TagGroup.id)).all()
    tag_query = select(Tag).where(Tag.workspace_id == actor.workspace_id).order_by(Tag.order, Tag.id)
    tags = session.scalars(tag_query).all()
    needle = (q or "").strip().lower()
    out = []
    for group in groups:
        members = [TagOut(id=t.id, group_id=group.id, group_name=group.name, name=t.name, order=t.order,
                          customer_count=counts.get(t.id, 0) if counted else None)
                   for t in tags if t.group_id == group.id
                   and (not needle or needle in t.name.lower() or needle in group.name.lower())]
        if members or not needle:
            out.append(TagGroupOut(id=group.id, name=group.name, order=group.order, tags=members))
    return out


def resolve(session: Session, *, actor: Actor, refs: list[TagRef], create_missing: bool = False,
            field: str = "tags") -> list[Tag]:
    """Tags for references by id or group+name; unknown ones are errors unless create_missing."""
    tags, errors = [], []
    for index, ref in enumerate(refs):
        if ref.id is not None:
            tag = session.get(Tag, ref.id)
            if tag is None or tag.workspace_id != actor.workspace_id:
                errors.append(FieldError(field=f"{field}[{index}].id", message=f"no tag with id {ref.id}"))
                continue
        else:
            tag = session.scalar(select(Tag).join(TagGroup, TagGroup.id == Tag.group_id)
                                 .where(TagGroup.workspace_id == actor.workspace_id, TagGroup.name == ref.group,
                                        Tag.name == ref.name))
            if tag is None and create_missing:
                tag = _create_by_name(session, actor, ref.group, ref.name)
            if tag is None:
                errors.append(FieldError(field=f"{field}[{index}]", message=f"no tag {ref.group}/{ref.name}"))
                continue
        tags.append(tag)
    if errors:
        raise Invalid(errors[0].message, errors)
    return tags


def _create_by_name(session: Session, actor: Actor, group_name: str, tag_name: str) -> Tag:
    actor.require(Permission.BULK)
    group = session.scalar(select(TagGroup).where(TagGroup.workspace_id == actor.workspace_id,
                                                  TagGroup.name == group_name))
    if group is None:
        group = TagGroup(workspace_id=actor.workspace_id, name=group_name)
        session.add(group)
        session.flush()
    tag = Tag(workspace_id=actor.workspace_id, group_id=group.id, name=tag_name)
    session.add(tag)
    session.flush()
    workspaces_service.record(session, actor=actor, action="tag.created", entity_type="tag", entity_id=tag.id,
                              changes={"group": group_name, "name": tag_name})
    return tag


def apply(session: Session, *, actor: Actor, customer_ids: list[int], add: list[Tag], remove: list[Tag],
          source: str = "manual") -> tuple[int, int]:
    """Add and remove tags on customers the actor may change (all or none); returns (added, removed) counts."""
    actor.require(Permission.WRITE)
    wanted = sorted(set(customer_ids))
    if len(wanted) > 1:
        actor.require(Permission.BULK)
    found = customers_service.visible_active(session, actor=actor, customer_ids=wanted)
    for customer_id in wanted:
        if customer_id not in found:  # not visible: not found; merged or erased: a conflict
            customers_service.require_active(customers_service.get_customer(session, actor=actor,
                                                                            customer_id=customer_id))
    return _apply_set(session, actor, wanted, add, remove, source)


def apply_matching(session: Session, *, actor: Actor, criteria: customers_service.Criteria, add: list[Tag],
                   remove: list[Tag]) -> tuple[int, tuple[int, int]]:
    """Tag every active customer a search matches; returns (how many customers, (added, removed))."""
    actor.require(Permission.WRITE)
    actor.require(Permission.BULK)
    active = replace(criteria, status=customers_service.ACTIVE)
    wanted = sorted(session.scalars(customers_service.matching_ids(session, actor=actor, criteria=active)))
    return len(wanted), _apply_set(session, actor, wanted, add, remove, "manual")


def _apply_set(session: Session, actor: Actor, customer_ids: list[int], add: list[Tag], remove: list[Tag],
               source: str) -> tuple[int, int]:
    # Set-based: per tag, one lookup of who has it and one insert or delete per chunk of customers.
    added = removed = 0
    now = utcnow()
    for tag in _unique(add):
        have = _holders(session, tag.id, customer_ids)
        new = [cid for cid in customer_ids if cid not in have]
        for chunk in _chunks(new):
            session.connection().execute(insert(CustomerTag.__table__), [
                {"workspace_id": actor.workspace_id, "customer_id": cid, "tag_id": tag.id, "source": source,
                 "member_id": actor.member_id, "created_at": now} for cid in chunk])
        _emit_many(session, actor, new, tag.id, added=True)
        added += len(new)
    for tag in _unique(remove):
        gone = sorted(_holders(session, tag.id, customer_ids))
        for chunk in _chunks(gone):
            session.execute(delete(CustomerTag).where(CustomerTag.tag_id == tag.id,
                                                      CustomerTag.customer_id.in_(chunk)))
        _emit_many(session, actor, gone, tag.id, added=False)
        removed += len(gone)
    if added or removed:
        workspaces_service.record(session, actor=actor, action="customer.tagged", entity_type="customer",
                                  entity_id=customer_ids[0] if len(customer_ids) == 1 else None,
                                  changes={"customers": len(customer_ids), "add": [t.id for t in add],
                                           "remove": [t.id for t in remove], "added": added, "removed": removed})
    return added, removed


def _unique(tags: list[Tag]) -> list[Tag]:
    return list({tag.id: tag for tag in tags}.values())


def _chunks(ids: list[int], size: int = 1000) -> list[list[int]]:
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def _holders(session: Session, tag_id: int, customer_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(customer_ids):
        found.update(session.scalars(select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag_id,
                                                                           CustomerTag.customer_id.in_(chunk))))
    return found


def _emit(session: Session, actor: Actor, customer_id: int, tag_id: int, *, added: bool) -> None:
    _emit_many(session, actor, [customer_id], tag_id, added=added)


def _emit_many(session: Session, actor: Actor, customer_ids: list[int], tag_id: int, *, added: bool) -> None:
    outbox.emit_many(session, workspace_id=actor.workspace_id,
                     topic=Topic.TAG_ADDED if added else Topic.TAG_REMOVED,
                     changes=[(cid, {"customer_id": cid, "tag_id": tag_id}) for cid in customer_ids])


def tags_of(session: Session, *, customer_id: int) -> list[CustomerTagOut]:
    """Tags on a customer, by group order."""
    rows = session.execute(
        select(CustomerTag, Tag, TagGroup).join(Tag, Tag.id == CustomerTag.tag_id)
        .join(TagGroup, TagGroup.id == Tag.group_id).where(CustomerTag.customer_id == customer_id)
        .order_by(TagGroup.order, TagGroup.id, Tag.order, Tag.id))
    return [CustomerTagOut(tag_id=tag.id, group_name=group.name, name=tag.name, source=ct.source,
                           created_at=ct.created_at) for ct, tag, group in rows]


def tag_names_of(session: Session, *, customer_ids: list[int]) -> dict[int, list[str]]:
    """'group/tag' names per customer, for lists."""
    result: dict[int, list[str]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return result
    rows = session.execute(select(CustomerTag.customer_id, Tag.name).join(Tag, Tag.id == CustomerTag.tag_id)
                           .where(CustomerTag.customer_id.in_(customer_ids)).order_by(Tag.order, Tag.id))
    for customer_id, name in rows:
        result[customer_id].append(name)
    return result


def tag_ids_of(session: Session, *, customer_ids: list[int]) -> dict[int, set[int]]:
    """The ids of the tags on each customer, for toggles."""
    result: dict[int, set[int]] = {cid: set() for cid in customer_ids}
    if customer_ids:
        for customer_id, tag_id in session.execute(select(CustomerTag.customer_id, CustomerTag.tag_id)
                                                   .where(CustomerTag.customer_id.in_(customer_ids))):
            result[customer_id].add(tag_id)
    return result


def first_tags(session: Session, *, actor: Actor, limit: int = 6) -> list[TagOut]:
    """The first tags in the order the tags page arranges them (groups, then tags): the workbench's quick tags.
    Uncounted, so it costs the same however many customers carry them."""
    return [tag for group in list_groups(session, actor=actor, counted=False) for tag in group.tags][:limit]


def customers_with(actor: Actor, *, tag_ids: list[int]) -> Select:
    """Subquery of customer ids carrying all the given tags."""
    return (select(CustomerTag.customer_id)
            .where(CustomerTag.workspace_id == actor.workspace_id, CustomerTag.tag_id.in_(tag_ids))
            .group_by(CustomerTag.customer_id)
            .having(func.count(func.distinct(CustomerTag.tag_id)) == len(set(tag_ids))))


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Move a merged customer's tags to the winner (tags both had stay once); returns how many moved."""
    have = set(session.scalars(select(CustomerTag.tag_id).where(CustomerTag.customer_id == to_id)))
    moved = 0
    for row in session.scalars(select(CustomerTag).where(CustomerTag.customer_id == from_id)).all():
        if row.tag_id in have:
            session.delete(row)
        else:
            row.customer_id = to_id
            moved += 1
    session.flush()
    return moved


def export(session: Session, *, customer_id: int) -> list[dict]:
    """A customer's tags for a data-subject export."""
    return [tag.model_dump(mode="json") for tag in tags_of(session, customer_id=customer_id)]


def by_external_ids(session: Session, *, actor: Actor, external_ids: list[str]) -> dict[str, Tag]:
    """Tags synced from an outside system (WeCom corp tags), by their external id."""
    if not external_ids:
        return {}
    rows = session.scalars(select(Tag).where(Tag.workspace_id == actor.workspace_id,
                                             Tag.external_id.in_(sorted(set(external_ids)))))
    return {tag.external_id: tag for tag in rows}


def link_external(session: Session, *, actor: Actor, tag: Tag, tag_external_id: str,
                  group_external_id: str | None) -> None:
    """Remember the outside ids of a tag and its group (WeCom tag_id / group_id)."""
    actor.require(Permission.WRITE)
    tag.external_id = tag_external_id
    group = _group(session, actor, tag.group_id)
    if group_external_id and not group.external_id:
        group.external_id = group_external_id


def group_name_of(session: Session, *, actor: Actor, tag: Tag) -> str:
    """The name of a tag's group."""
    return _group(session, actor, tag.group_id).name
