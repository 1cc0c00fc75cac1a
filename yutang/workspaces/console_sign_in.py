"""Console sessions and one-time sign-in links: server-side, expiring, revocable; only token digests are stored."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from yutang.kit import tokens
from yutang.kit.clock import utcnow
from yutang.kit.errors import Unauthorized
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces.access import Actor, Permission, Role
from yutang.workspaces.models import ApiKey, ConsoleSession, Member, SignInLink, Workspace

SESSION_PREFIX = "ycs_"
LINK_PREFIX = "ysl_"
SESSION_TTL = timedelta(hours=12)  # fixed from sign-in: activity does not extend it
LINK_TTL = timedelta(minutes=15)


@dataclass(frozen=True)
class IssuedToken:
    """A session or sign-in link token, shown once, and when it stops working."""

    token: str
    expires_at: datetime


def start_for_key(session: Session, *, actor: Actor) -> IssuedToken:
    """A console session for the member an authenticated API key acts as; it ends when the key is revoked."""
    return start(session, workspace_id=actor.workspace_id, member_id=actor.member_id, api_key_id=actor.api_key_id)


def mint_link(session: Session, *, actor: Actor, member_id: int) -> IssuedToken:
    """A one-time sign-in link token for an active member of the actor's workspace (admins only)."""
    actor.require(Permission.ADMIN)
    member = get_in_workspace(session, Member, member_id, workspace_id=actor.workspace_id, what="member",
                              field="member_id")
    if not member.active:
        raise Unauthorized("this member is deactivated")
    now = utcnow()
    session.execute(delete(SignInLink).where(SignInLink.member_id == member.id, SignInLink.expires_at < now))
    token = tokens.mint(LINK_PREFIX, nbytes=32)
    link = SignInLink(workspace_id=member.workspace_id, member_id=member.id, token_hash=tokens.digest(token),
                      expires_at=now + LINK_TTL)
    session.add(link)
    session.flush()
    return IssuedToken(token=token, expires_at=link.expires_at)


def link_holder(session: Session, *, token: str) -> tuple[str, str]:
    """Whom an unused, unexpired sign-in link signs in, and where: (member name, workspace name)."""
    link = _usable(session, token)
    member, workspace = session.get(Member, link.member_id), session.get(Workspace, link.workspace_id)
    if member is None or workspace is None or not member.active:
        raise Unauthorized("this sign-in link is not valid")
    return member.name, workspace.name


def use_link(session: Session, *, token: str) -> IssuedToken:
    """Use a sign-in link (once, before it expires) and start a console session for its member."""
    now = utcnow()
    link = _usable(session, token)
    # Claimed by a conditional update so that two concurrent uses cannot both succeed.
    used = session.execute(update(SignInLink).where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
                           .values(used_at=now).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        raise Unauthorized("this sign-in link has been used already")
    return start(session, workspace_id=link.workspace_id, member_id=link.member_id, api_key_id=None)


def actor_of(session: Session, *, token: str) -> Actor:
    """The Actor a live console session acts as; Unauthorized once expired, signed out or revoked."""
    if not token.startswith(SESSION_PREFIX):
        raise Unauthorized("no console session")
    row = session.execute(
        select(ConsoleSession, Member, Workspace, ApiKey.revoked_at)
        .join(Member, Member.id == ConsoleSession.member_id)
        .join(Workspace, Workspace.id == ConsoleSession.workspace_id)
        .outerjoin(ApiKey, ApiKey.id == ConsoleSession.api_key_id)
        .where(ConsoleSession.token_hash == tokens.digest(token))
    ).first()
    if row is None:
        raise Unauthorized("no console session")
    console_session, member, workspace, key_revoked_at = row
    if (console_session.revoked_at is not None or console_session.expires_at <= utcnow() or not member.active
            or key_revoked_at is not None):
        raise Unauthorized("the console session has ended")
    return Actor(workspace_id=workspace.id, member_id=member.id, role=Role(member.role),
                 api_key_id=console_session.api_key_id, timezone=workspace.timezone)


def end(session: Session, *, token: str) -> None:
    """Sign out: the session's token stops working at once."""
    session.execute(update(ConsoleSession).where(ConsoleSession.token_hash == tokens.digest(token),
                                                 ConsoleSession.revoked_at.is_(None))
                    .values(revoked_at=utcnow()).execution_options(synchronize_session=False))


def revoke_all(session: Session, *, actor: Actor, member_id: int) -> int:
    """End every live console session of a member of the actor's workspace (admins only); how many ended."""
    actor.require(Permission.ADMIN)
    member = get_in_workspace(session, Member, member_id, workspace_id=actor.workspace_id, what="member",
                              field="member_id")
    now = utcnow()
    ended = session.execute(update(ConsoleSession).where(
        ConsoleSession.member_id == member.id, ConsoleSession.revoked_at.is_(None), ConsoleSession.expires_at > now)
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    return ended


def _usable(session: Session, token: str) -> SignInLink:
    link = None
    if token.startswith(LINK_PREFIX):
        link = session.scalar(select(SignInLink).where(SignInLink.token_hash == tokens.digest(token)))
    if link is None or link.expires_at <= utcnow() or link.used_at is not None:
        raise Unauthorized("this sign-in link is not valid, has been used or has expired")
    return link


def start(session: Session, *, workspace_id: int, member_id: int | None, api_key_id: int | None) -> IssuedToken:
    """A new console session for a member, fixed to expire SESSION_TTL from now."""
    if member_id is None:
        raise Unauthorized("only a member can sign in to the console")
    now = utcnow()
    # Ended sessions are of no further use: each sign-in clears the member's.
    session.execute(delete(ConsoleSession).where(ConsoleSession.member_id == member_id, or_(
        ConsoleSession.expires_at <= now, ConsoleSession.revoked_at.is_not(None))))
    token = tokens.mint(SESSION_PREFIX, nbytes=32)
    row = ConsoleSession(workspace_id=workspace_id, member_id=member_id, api_key_id=api_key_id,
                         token_hash=tokens.digest(token), expires_at=now + SESSION_TTL)
    session.add(row)
    session.flush()
    return IssuedToken(token=token, expires_at=row.expires_at)
