"""Event sources and their write keys."""

from fastapi import APIRouter, Request

from yutang.api.deps import ActorDep, IdPath, pipeline, read_only, unit_of_work
from yutang.events import service
from yutang.events.schemas import SourceIn, SourceOut, SourcePatch

router = APIRouter(prefix="/sources", tags=["sources"])


@router.get("", response_model=list[SourceOut])
def list_sources(request: Request, actor: ActorDep):
    """Sources of the workspace (write keys are shown only on creation)."""
    with read_only(request) as session:
        return service.list_sources(session, actor=actor)


@router.post("", response_model=SourceOut, status_code=201)
def create_source(request: Request, actor: ActorDep, data: SourceIn):
    """Create a source; the response carries its write key, once."""
    with unit_of_work(request) as session:
        source, write_key = service.create_source(session, actor=actor, data=data)
        return SourceOut.model_validate(source).model_copy(update={"write_key": write_key})


@router.patch("/{source_id}", response_model=SourceOut)
def update_source(request: Request, actor: ActorDep, source_id: IdPath, data: SourcePatch):
    """Rename a source."""
    with unit_of_work(request) as session:
        return service.update_source(session, actor=actor, source_id=source_id, data=data)


@router.post("/{source_id}/rotate-key", response_model=SourceOut)
def rotate_key(request: Request, actor: ActorDep, source_id: IdPath):
    """Replace a source's write key; the response carries the new key, once, and the old one stops at once."""
    with unit_of_work(request) as session:
        source, write_key = service.rotate_write_key(session, actor=actor, source_id=source_id)
        answer = SourceOut.model_validate(source).model_copy(update={"write_key": write_key})
    pipeline(request).ingest.forget_keys()
    return answer


@router.delete("/{source_id}", response_model=SourceOut)
def revoke_source(request: Request, actor: ActorDep, source_id: IdPath):
    """Revoke a source's write key."""
    with unit_of_work(request) as session:
        source = service.revoke_source(session, actor=actor, source_id=source_id)
    pipeline(request).ingest.forget_keys()
    return source
