"""Event use cases shared by the API, the console and the CLI."""

from sqlalchemy.orm import Session

from yutang.events import deadletters
from yutang.events.journal import Journal
from yutang.events.models import DeadLetter
from yutang.workspaces.access import Actor


def replay_dead_letter(session: Session, *, actor: Actor, journal: Journal, dead_letter_id: int) -> DeadLetter:
    """Send a dead letter's message back through the journal (after a fix); the loader counts it once.

    A message stored before is not stored again (the replay window drops it) but is attributed again.
    """
    letter = deadletters.mark_replayed(session, actor=actor, dead_letter_id=dead_letter_id)
    journal.append([letter.raw.encode()])
    return letter
