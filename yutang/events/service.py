"""Event sources: create, rename, rotate and revoke write keys, and authenticate one."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.events.models import Source
from yutang.events.schemas import SourceIn, SourcePatch
from yutang.kit import tokens
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Unauthorized
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

WRITE_KEY_PREFIX = "ywk_"


def create_source(session: Session, *, actor: Actor, data: SourceIn) -> tuple[Source, str]:
    """Create a source and its write key (returned once)."""
    actor.require(Permission.BULK)
    if session.scalar(select(Source.id).where(Source.workspace_id == actor.workspace_id, Source.name == data.name)):
        raise Conflict(f"a source named {data.name!r} exists already", field="name")
    write_key = tokens.mint(WRITE_KEY_PREFIX, nbytes=24)
    source = Source(workspace_id=actor.workspace_id, name=data.name, kind=data.kind.value,
                    write_key_prefix=write_key[:10], write_key_hash=tokens.digest(write_key))
    session.add(source)
    session.flush()
    workspaces_service.record(session, actor=actor, action="source.created", entity_type="source",
                              entity_id=source.id, changes=data.model_dump(mode="json"))
    return source, write_key


def list_sources(session: Session, *, actor: Actor) -> list[Source]:
    """Sources of the workspace."""
    actor.require(Permission.READ)
    return list(session.scalars(select(Source).where(Source.workspace_id == actor.workspace_id).order_by(Source.id)))


def get_source(session: Session, *, actor: Actor, source_id: int) -> Source:
    """A source of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Source, source_id, workspace_id=actor.workspace_id, what="source",
                            field="source_id")


def update_source(session: Session, *, actor: Actor, source_id: int, data: SourcePatch) -> Source:
    """Rename a source."""
    actor.require(Permission.BULK)
    source = get_source(session, actor=actor, source_id=source_id)
    changes = {k: v for k, v in data.changes().items() if getattr(source, k) != v}
    if "name" in changes and session.scalar(select(Source.id).where(
            Source.workspace_id == actor.workspace_id, Source.name == changes["name"], Source.id != source.id)):
        raise Conflict(f"a source named {changes['name']!r} exists already", field="name")
    for name, value in changes.items():
        setattr(source, name, value)
    if changes:
        workspaces_service.record(session, actor=actor, action="source.updated", entity_type="source",
                                  entity_id=source.id, changes=changes)
    return source


def rotate_write_key(session: Session, *, actor: Actor, source_id: int) -> tuple[Source, str]:
    """Replace a source's write key (returned once); the old key stops at once, and a disabled source is on again."""
    actor.require(Permission.BULK)
    source = get_source(session, actor=actor, source_id=source_id)
    write_key = tokens.mint(WRITE_KEY_PREFIX, nbytes=24)
    source.write_key_prefix, source.write_key_hash = write_key[:10], tokens.digest(write_key)
    source.revoked_at = None
    workspaces_service.record(session, actor=actor, action="source.key_rotated", entity_type="source",
                              entity_id=source.id, changes={"write_key_prefix": source.write_key_prefix})
    return source, write_key


def revoke_source(session: Session, *, actor: Actor, source_id: int) -> Source:
    """Stop accepting events with a source's write key."""
    actor.require(Permission.BULK)
    source = get_source(session, actor=actor, source_id=source_id)
    if source.revoked_at is None:
        source.revoked_at = utcnow()
        workspaces_service.record(session, actor=actor, action="source.revoked", entity_type="source",
                                  entity_id=source.id)
    return source


def authenticate(session: Session, *, write_key: str) -> tuple[int, int]:
    """(workspace id, source id) for a write key."""
    source = session.scalar(select(Source).where(Source.write_key_hash == tokens.digest(write_key or "")))
    if source is None or source.revoked_at is not None:
        raise Unauthorized("unknown or revoked write key")
    return source.workspace_id, source.id
