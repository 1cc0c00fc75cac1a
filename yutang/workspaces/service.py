"""Workspace, member and API key lifecycle, authentication, and the audit log."""

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yutang.kit import tokens
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, NotFound, Unauthorized
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import console_sign_in
from yutang.workspaces.access import Actor, Permission, Role
from yutang.workspaces.console_sign_in import SESSION_TTL as SESSION_TTL
from yutang.workspaces.console_sign_in import IssuedToken
from yutang.workspaces.models import ApiKey, AuditEntry, Member, Workspace
from yutang.workspaces.schemas import MemberIn, MemberPatch, WorkspaceIn

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


def update_member(session: Session, *, actor: Actor, member_id: int, data: MemberPatch) -> Member:
    """Rename a member or change their role or email; the last owner keeps the owner role."""
    actor.require(Permission.ADMIN)
    member = get_member(session, actor=actor, member_id=member_id)
    changes = data.changes()
    if not member.active:
        raise Conflict("this member has been removed", field="member_id")
    if changes.get("role", Role.OWNER.value) != Role.OWNER.value and member.role == Role.OWNER.value:
        _keep_an_owner(session, actor=actor, member=member, field="role")
    changes = {k: v for k, v in changes.items() if getattr(member, k) != v}
    for name, value in changes.items():
        setattr(member, name, value)
    if changes:
        record(session, actor=actor, action="member.updated", entity_type="member", entity_id=member.id,
               changes=changes)
    return member


def remove_member(session: Session, *, actor: Actor, member_id: int) -> Member:
    """Deactivate a member and revoke their keys (their past work stays attributed); never the last owner."""
    actor.require(Permission.ADMIN)
    member = get_member(session, actor=actor, member_id=member_id)
    if not member.active:
        return member
    if member.role == Role.OWNER.value:
        _keep_an_owner(session, actor=actor, member=member, field="member_id")
    member.active = False
    now = utcnow()
    for key in session.scalars(select(ApiKey).where(ApiKey.member_id == member.id, ApiKey.revoked_at.is_(None))):
        key.revoked_at = now
    record(session, actor=actor, action="member.removed", entity_type="member", entity_id=member.id)
    return member


def _keep_an_owner(session: Session, *, actor: Actor, member: Member, field: str) -> None:
    others = session.scalar(select(func.count()).select_from(Member).where(
        Member.workspace_id == actor.workspace_id, Member.role == Role.OWNER.value, Member.active.is_(True),
        Member.id != member.id))
    if not others:
        raise Conflict("a workspace keeps at least one owner", field=field)


def issue_key(session: Session, *, actor: Actor, member_id: int, name: str) -> IssuedKey:
    """Issue another key for a member of the workspace."""
    actor.require(Permission.ADMIN)
    member = get_member(session, actor=actor, member_id=member_id)
    if not member.active:
        raise Conflict("this member has been removed", field="member_id")
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


def sign_in_with_key(session: Session, *, secret: str) -> IssuedToken:
    """Start a console session with an API key (the sign-in form); the key itself is never kept in the browser."""
    return console_sign_in.start_for_key(session, actor=authenticate(session, secret=secret))


def sign_in_link_holder(session: Session, *, token: str) -> tuple[str, str]:
    """Whom a usable sign-in link would sign in, and to which workspace (the link is not used up)."""
    return console_sign_in.link_holder(session, token=token)


def sign_in_with_link(session: Session, *, token: str) -> IssuedToken:
    """Start a console session with a one-time sign-in link."""
    return console_sign_in.use_link(session, token=token)


def mint_sign_in_link(session: Session, *, actor: Actor, member_id: int) -> IssuedToken:
    """A one-time console sign-in link token for a member (short-lived, single use)."""
    issued = console_sign_in.mint_link(session, actor=actor, member_id=member_id)
    record(session, actor=actor, action="sign_in_link.issued", entity_type="member", entity_id=member_id)
    return issued


def console_actor(session: Session, *, token: str) -> Actor:
    """The Actor a console session token acts as; Unauthorized once it expired, was signed out or revoked."""
    return console_sign_in.actor_of(session, token=token)


def sign_out(session: Session, *, token: str) -> None:
    """End a console session."""
    console_sign_in.end(session, token=token)


def revoke_console_sessions(session: Session, *, actor: Actor, member_id: int) -> int:
    """End every live console session of a member; how many ended."""
    ended = console_sign_in.revoke_all(session, actor=actor, member_id=member_id)
    record(session, actor=actor, action="console_sessions.revoked", entity_type="member", entity_id=member_id,
           changes={"sessions": ended})
    return ended


def record(session: Session, *, actor: Actor, action: str, entity_type: str, entity_id: int | None,
           changes: dict | None = None) -> None:
    """Write an audit entry for a change, inside the caller's transaction."""
    session.add(AuditEntry(workspace_id=actor.workspace_id, member_id=actor.member_id, api_key_id=actor.api_key_id,
                           action=action, entity_type=entity_type, entity_id=entity_id, changes=_json(changes or {})))


def _json(changes: dict) -> dict:
    # The audit log stores JSON: dates and other values a service hands over are kept as their text.
    return json.loads(json.dumps(changes, default=lambda value: value.isoformat() if hasattr(value, "isoformat")
                                 else str(value)))


def record_many(session: Session, *, actor: Actor, action: str, entity_type: str,
                entries: list[tuple[int | None, dict]]) -> None:
    """Write one audit entry per (entity id, changes) in one statement, inside the caller's transaction."""
    if entries:
        session.execute(insert(AuditEntry.__table__), [
            {"workspace_id": actor.workspace_id, "member_id": actor.member_id, "api_key_id": actor.api_key_id,
             "action": action, "entity_type": entity_type, "entity_id": entity_id, "changes": _json(changes),
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
