"""Workspace, member and API key lifecycle, authentication, and the audit log."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yutang.kit import tokens
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, NotFound, Unauthorized
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces.access import Actor, Permission, Role
from yutang.workspaces.models import ApiKey, AuditEntry, Member, Workspace
from yutang.workspaces.schemas import MemberIn, WorkspaceIn

KEY_PREFIX = "yt_"


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key with its one-time secret."""

    key: ApiKey
    secret: str


def create_workspace(session: Session, *, data: WorkspaceIn, owner_name: str = "Owner") -> tuple[Workspace, IssuedKey]:
    """Create a workspace with an owner member and the owner's first API key."""
    if session.scalar(select(Workspace.id).where(Workspace.slug == data.slug)) is not None:
        raise Conflict(f"a workspace named {data.slug!r} exists already", field="slug")
    workspace = Workspace(**data.model_dump())
    session.add(workspace)
    session.flush()
    owner = Member(workspace_id=workspace.id, name=owner_name, role=Role.OWNER.value)
    session.add(owner)
    session.flush()
    issued = _issue_key(session, member=owner, name="owner key")
    return workspace, issued


def get_workspace(session: Session, *, workspace_id: int) -> Workspace:
    """The workspace by id."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("no such workspace")
    return workspace


def zones(session: Session) -> list[tuple[int, str]]:
    """Every workspace's id and time zone, by id (for jobs run per workspace)."""
    return [(row.id, row.timezone) for row in session.execute(select(Workspace.id, Workspace.timezone)
                                                              .order_by(Workspace.id))]


def find_workspace(session: Session, *, slug: str) -> Workspace:
    """The workspace by slug."""
    workspace = session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        raise NotFound(f"no workspace {slug!r}", field="workspace")
    return workspace


def _issue_key(session: Session, *, member: Member, name: str) -> IssuedKey:
    secret = tokens.mint(KEY_PREFIX, nbytes=32)
    key = ApiKey(
        workspace_id=member.workspace_id,
        member_id=member.id,
        name=name,
        prefix=secret[: len(KEY_PREFIX) + 6],
        key_hash=tokens.digest(secret),
    )
    session.add(key)
    try:
        session.flush()
    except IntegrityError as exc:  # a 256-bit collision means something is badly wrong
        raise Conflict("could not issue a unique key") from exc
    return IssuedKey(key=key, secret=secret)


def add_member(session: Session, *, actor: Actor, data: MemberIn) -> tuple[Member, IssuedKey]:
    """Add a member with a role and issue their first API key."""
    actor.require(Permission.ADMIN)
    member = Member(workspace_id=actor.workspace_id, name=data.name, role=data.role.value, email=data.email)
    session.add(member)
    session.flush()
    issued = _issue_key(session, member=member, name=f"{data.name} key")
    record(session, actor=actor, action="member.added", entity_type="member", entity_id=member.id,
           changes={"name": data.name, "role": data.role.value})
    return member, issued


def list_members(session: Session, *, actor: Actor) -> list[Member]:
    """Members of the actor's workspace."""
    actor.require(Permission.READ)
    return list(session.scalars(select(Member).where(Member.workspace_id == actor.workspace_id).order_by(Member.id)))


def get_member(session: Session, *, actor: Actor, member_id: int) -> Member:
    """A member of the actor's workspace."""
    return get_in_workspace(session, Member, member_id, workspace_id=actor.workspace_id, what="member",
                            field="member_id")


def issue_key(session: Session, *, actor: Actor, member_id: int, name: str) -> IssuedKey:
    """Issue another key for a member of the workspace."""
    actor.require(Permission.ADMIN)
    member = get_member(session, actor=actor, member_id=member_id)
    issued = _issue_key(session, member=member, name=name)
    record(session, actor=actor, action="api_key.issued", entity_type="api_key", entity_id=issued.key.id,
           changes={"member_id": member.id, "name": name})
    return issued


def revoke_key(session: Session, *, actor: Actor, key_id: int) -> ApiKey:
    """Revoke a key; it stops authenticating at once."""
    actor.require(Permission.ADMIN)
    key = get_in_workspace(session, ApiKey, key_id, workspace_id=actor.workspace_id, what="key", field="key_id")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record(session, actor=actor, action="api_key.revoked", entity_type="api_key", entity_id=key.id)
    return key


def list_keys(session: Session, *, actor: Actor) -> list[ApiKey]:
    """All keys of the workspace (secrets are never shown again)."""
    actor.require(Permission.ADMIN)
    return list(session.scalars(select(ApiKey).where(ApiKey.workspace_id == actor.workspace_id).order_by(ApiKey.id)))


def authenticate(session: Session, *, secret: str) -> Actor:
    """Resolve an API key secret to the Actor it acts as."""
    if not secret or not secret.startswith(KEY_PREFIX):
        raise Unauthorized("missing or malformed API key")
    row = session.execute(
        select(ApiKey, Member, Workspace)
        .join(Member, Member.id == ApiKey.member_id)
        .join(Workspace, Workspace.id == ApiKey.workspace_id)
        .where(ApiKey.key_hash == tokens.digest(secret))
    ).first()
    if row is None:
        raise Unauthorized("unknown API key")
    key, member, workspace = row
    if key.revoked_at is not None or not member.active:
        raise Unauthorized("this API key has been revoked")
    return Actor(workspace_id=workspace.id, member_id=member.id, role=Role(member.role), api_key_id=key.id,
                 timezone=workspace.timezone)


def record(session: Session, *, actor: Actor, action: str, entity_type: str, entity_id: int | None,
           changes: dict | None = None) -> None:
    """Write an audit entry for a change, inside the caller's transaction."""
    session.add(AuditEntry(workspace_id=actor.workspace_id, member_id=actor.member_id, api_key_id=actor.api_key_id,
                           action=action, entity_type=entity_type, entity_id=entity_id, changes=changes or {}))


def record_many(session: Session, *, actor: Actor, action: str, entity_type: str,
                entries: list[tuple[int | None, dict]]) -> None:
    """Write one audit entry per (entity id, changes) in one statement, inside the caller's transaction."""
    if entries:
        session.execute(insert(AuditEntry.__table__), [
            {"workspace_id": actor.workspace_id, "member_id": actor.member_id, "api_key_id": actor.api_key_id,
             "action": action, "entity_type": entity_type, "entity_id": entity_id, "changes": changes,
             "created_at": utcnow()} for entity_id, changes in entries])


def list_audit(session: Session, *, actor: Actor, entity_type: str | None = None, entity_id: int | None = None,
               after_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
    """Audit entries, newest first, optionally for one entity."""
    actor.require(Permission.ADMIN)
    query = select(AuditEntry).where(AuditEntry.workspace_id == actor.workspace_id)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if after_id is not None:
        query = query.where(AuditEntry.id < after_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


def audit_of(session: Session, *, actor: Actor, entity_type: str, entity_ids: list[int],
             before: tuple[datetime, int] | None = None, limit: int = 50) -> list[AuditEntry]:
    """Audit entries of entities the caller has shown the actor may see, newest first by (created_at, id).

    Unlike list_audit this needs no admin permission: a customer's timeline shows how the customer was touched
    to anyone who may see the customer (the caller checks that first).
    """
    actor.require(Permission.READ)
    if not entity_ids:
        return []
    query = select(AuditEntry).where(AuditEntry.workspace_id == actor.workspace_id,
                                     AuditEntry.entity_type == entity_type, AuditEntry.entity_id.in_(entity_ids))
    if before is not None:
        at, last_id = before
        query = query.where(or_(AuditEntry.created_at < at, and_(AuditEntry.created_at == at, AuditEntry.id < last_id)))
    return list(session.scalars(query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)))


def scrub_audit(session: Session, *, actor: Actor, entity_type: str, entity_id: int) -> None:
    """Blank the recorded changes of one entity (they may hold personal data) when it is erased."""
    session.execute(update(AuditEntry).where(AuditEntry.workspace_id == actor.workspace_id,
                                             AuditEntry.entity_type == entity_type,
                                             AuditEntry.entity_id == entity_id).values(changes={"scrubbed": True}))
