"""Due work held as rows (status, next_attempt_at, claimed_at): claimed by one worker at a time, retried later."""

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yutang.storage import dialect


def claim_due(session: Session, model, *, now: datetime, limit: int, waiting: str, taken: str,
              stale_after: timedelta, where: tuple = ()) -> list:
    """Rows of `model` due by `now`, marked `taken` in the caller's transaction; a claim older than `stale_after`
    (its worker died mid-send) goes back to `waiting` first, so it is sent again: at least once, never lost."""
    session.execute(update(model).where(model.status == taken, model.claimed_at < now - stale_after)
                    .values(status=waiting, next_attempt_at=now))
    query = dialect.of(session).claim(select(model).where(model.status == waiting, model.next_attempt_at <= now,
                                                          *where)
                                      .order_by(model.next_attempt_at, model.id).limit(limit))
    rows = list(session.scalars(query))
    for row in rows:
        row.status = taken
        row.claimed_at = now
    return rows
