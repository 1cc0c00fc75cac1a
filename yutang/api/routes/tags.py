"""Tag groups, tags, and bulk tagging."""

from fastapi import APIRouter, Request

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.tags import flows, service
from yutang.tags.schemas import (
    BulkTaggingIn,
    BulkTaggingOut,
    TagGroupIn,
    TagGroupOut,
    TagGroupPatch,
    TagIn,
    TagOut,
    TagPatch,
)

router = APIRouter(tags=["tags"])


@router.get("/tag-groups", response_model=list[TagGroupOut])
def list_groups(request: Request, actor: ActorDep, q: str | None = None):
    """Tag groups with their tags and customer counts; q searches tag and group names."""
    with read_only(request) as session:
        return service.list_groups(session, actor=actor, q=q)


@router.post("/tag-groups", response_model=TagGroupOut, status_code=201)
def create_group(request: Request, actor: ActorDep, data: TagGroupIn):
    """Create a tag group with its tags."""
    with unit_of_work(request) as session:
        group = service.create_group(session, actor=actor, data=data)
        return next(g for g in service.list_groups(session, actor=actor) if g.id == group.id)


@router.post("/tags", response_model=TagOut, status_code=201)
def create_tag(request: Request, actor: ActorDep, data: TagIn):
    """Create a tag in a group."""
    with unit_of_work(request) as session:
        tag = service.create_tag(session, actor=actor, data=data)
        group = next(g for g in service.list_groups(session, actor=actor) if g.id == tag.group_id)
        return next(t for t in group.tags if t.id == tag.id)


@router.delete("/tags/{tag_id}", status_code=204)
def delete_tag(request: Request, actor: ActorDep, tag_id: IdPath) -> None:
    """Delete a tag and remove it from every customer."""
    with unit_of_work(request) as session:
        service.delete_tag(session, actor=actor, tag_id=tag_id)


@router.patch("/tag-groups/{group_id}", response_model=TagGroupOut)
def update_group(request: Request, actor: ActorDep, group_id: IdPath, data: TagGroupPatch):
    """Rename or reorder a tag group."""
    with unit_of_work(request) as session:
        group = service.rename_group(session, actor=actor, group_id=group_id, data=data)
        return next(g for g in service.list_groups(session, actor=actor) if g.id == group.id)


@router.delete("/tag-groups/{group_id}", status_code=204)
def delete_group(request: Request, actor: ActorDep, group_id: IdPath) -> None:
    """Delete a tag group and its tags, removing them from every customer."""
    with unit_of_work(request) as session:
        service.delete_group(session, actor=actor, group_id=group_id)


@router.patch("/tags/{tag_id}", response_model=TagOut)
def update_tag(request: Request, actor: ActorDep, tag_id: IdPath, data: TagPatch):
    """Rename or reorder a tag."""
    with unit_of_work(request) as session:
        tag = service.rename_tag(session, actor=actor, tag_id=tag_id, data=data)
        group = next(g for g in service.list_groups(session, actor=actor) if g.id == tag.group_id)
        return next(t for t in group.tags if t.id == tag.id)


@router.post("/tags/bulk", response_model=BulkTaggingOut)
def bulk_tag(request: Request, actor: ActorDep, data: BulkTaggingIn):
    """Add and remove tags on many customers in one transaction (all or nothing): those listed, or all active
    customers a search matches."""
    with unit_of_work(request) as session:
        return flows.bulk_tag(session, actor=actor, data=data)
