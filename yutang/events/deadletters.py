"""Dead letters: messages the loader set aside, recorded by it and listed, replayed or discarded by people."""

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yutang.events.models import DeadLetter
from yutang.events.schemas import DeadLetterOut, DeadLetterStage, DeadLetterStatus
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Forbidden, NotFound
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class SetAside:
    """What the loader reports about one message it could not fully process."""

    key: str
    workspace_id: int | None
    message_id: str | None
    stage: DeadLetterStage
    error: str
    raw: str


def set_aside(session: Session, *, entries: list[SetAside], seen_at: datetime | None = None) -> None:
    """Record dead letters (a message seen again updates its error and last-seen time, and is open again)."""
    now = seen_at or utcnow()
    workspaces = {entry.workspace_id for entry in entries if entry.workspace_id is not None}
    existing = {workspace_id for workspace_id in workspaces if _exists(session, workspace_id)}
    for entry in entries:
        if entry.workspace_id not in existing:  # a deleted workspace: the letter is kept, unowned
            entry = replace(entry, workspace_id=None)
        letter = session.scalar(select(DeadLetter).where(DeadLetter.key == entry.key,
                                                         DeadLetter.stage == entry.stage.value))
        if letter is None:
            letter = DeadLetter(key=entry.key, workspace_id=entry.workspace_id, message_id=entry.message_id,
                                stage=entry.stage.value, first_seen_at=now, replay_count=0,
                                status=DeadLetterStatus.OPEN.value)
            session.add(letter)
        letter.error, letter.raw, letter.last_seen_at = entry.error[:MAX_ERROR_CHARS], entry.raw, now
        letter.status = DeadLetterStatus.OPEN.value
    session.flush()


def _exists(session: Session, workspace_id: int) -> bool:
    try:
        workspaces_service.get_workspace(session, workspace_id=workspace_id)
    except NotFound:
        return False
    return True


def _readable(actor: Actor) -> None:
    actor.require(Permission.READ)
    if actor.sees_own_customers_only:
        raise Forbidden("dead letters are not tied to customers a guide is assigned")


def present(actor: Actor, letter: DeadLetter) -> DeadLetterOut:
    """A dead letter as the actor may see it (the raw message may hold phone numbers and emails)."""
    out = DeadLetterOut.model_validate(letter)
    return out.model_copy(update={"raw": letter.raw if actor.can(Permission.SEE_PII) else None})


def list_dead_letters(session: Session, *, actor: Actor, status: DeadLetterStatus | None = None,
                      stage: DeadLetterStage | None = None, limit: int = 50, offset: int = 0
                      ) -> tuple[list[DeadLetter], int]:
    """The workspace's dead letters, most recently seen first, and how many match."""
    _readable(actor)
    query = select(DeadLetter).where(DeadLetter.workspace_id == actor.workspace_id)
    if status is not None:
        query = query.where(DeadLetter.status == status.value)
    if stage is not None:
        query = query.where(DeadLetter.stage == stage.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(DeadLetter.last_seen_at.desc(), DeadLetter.id.desc())
                           .limit(limit).offset(offset))
    return list(rows), total


def get_dead_letter(session: Session, *, actor: Actor, dead_letter_id: int) -> DeadLetter:
    """One dead letter of the workspace."""
    _readable(actor)
    return get_in_workspace(session, DeadLetter, dead_letter_id, workspace_id=actor.workspace_id,
                            what="dead letter", field="dead_letter_id")


def mark_replayed(session: Session, *, actor: Actor, dead_letter_id: int) -> DeadLetter:
    """Count a replay of a dead letter; the caller sends its raw message back through the journal."""
    actor.require(Permission.BULK)
    letter = get_dead_letter(session, actor=actor, dead_letter_id=dead_letter_id)
    if letter.status == DeadLetterStatus.DISCARDED.value:
        raise Conflict("a discarded dead letter cannot be replayed", field="dead_letter_id")
    letter.status, letter.replayed_at = DeadLetterStatus.REPLAYED.value, utcnow()
    letter.replay_count += 1
    workspaces_service.record(session, actor=actor, action="dead_letter.replayed", entity_type="dead_letter",
                              entity_id=letter.id, changes={"replay_count": letter.replay_count})
    return letter


def discard(session: Session, *, actor: Actor, dead_letter_id: int) -> DeadLetter:
    """Give up on a dead letter (it stays listed as discarded)."""
    actor.require(Permission.BULK)
    letter = get_dead_letter(session, actor=actor, dead_letter_id=dead_letter_id)
    if letter.status != DeadLetterStatus.DISCARDED.value:
        letter.status = DeadLetterStatus.DISCARDED.value
        workspaces_service.record(session, actor=actor, action="dead_letter.discarded", entity_type="dead_letter",
                                  entity_id=letter.id)
    return letter
