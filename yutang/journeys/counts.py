"""Per-step counters, added up in memory during a unit of work and written as one UPDATE per (version, step)."""

from collections import Counter

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yutang.journeys.models import JourneyEnrolment, JourneyStepCount, JourneyVersion, JourneyWait

COLUMNS = ("entered", "done", "failed", "exited", "goal")


class Tally:
    """Counter increments to write before the unit of work commits."""

    def __init__(self) -> None:
        self.pending: Counter[tuple[int, str, str]] = Counter()

    def add(self, version_id: int, step: str, column: str, amount: int = 1) -> None:
        """Count one more (or `amount`) at a step."""
        self.pending[(version_id, step, column)] += amount

    def flush(self, session: Session) -> None:
        """Write the increments, one statement per (version, step)."""
        by_step: dict[tuple[int, str], dict[str, int]] = {}
        for (version_id, step, column), amount in self.pending.items():
            by_step.setdefault((version_id, step), {})[column] = amount
        for (version_id, step), amounts in sorted(by_step.items()):  # in key order: no deadlock between workers
            session.execute(update(JourneyStepCount)
                            .where(JourneyStepCount.version_id == version_id, JourneyStepCount.step == step)
                            .values({c: getattr(JourneyStepCount, c) + n for c, n in amounts.items()}))
        self.pending.clear()


def of_journey(session: Session, *, journey_id: int) -> list[tuple[int, str, dict[str, int]]]:
    """(version number, step, counts with `waiting`) for every step of every version of a journey."""
    waiting = dict(((version_id, step), n) for version_id, step, n in session.execute(
        select(JourneyEnrolment.version_id, JourneyWait.step, func.count())
        .join(JourneyEnrolment, JourneyEnrolment.id == JourneyWait.enrolment_id)
        .where(JourneyEnrolment.journey_id == journey_id, JourneyWait.status != "failed")
        .group_by(JourneyEnrolment.version_id, JourneyWait.step)).all())
    rows = session.execute(select(JourneyVersion.id, JourneyVersion.number, JourneyStepCount)
                           .join(JourneyStepCount, JourneyStepCount.version_id == JourneyVersion.id)
                           .where(JourneyVersion.journey_id == journey_id)
                           .order_by(JourneyVersion.number.desc(), JourneyStepCount.id)).all()
    return [(number, row.step, {c: getattr(row, c) for c in COLUMNS} | {"waiting": waiting.get((vid, row.step), 0)})
            for vid, number, row in rows]


def totals(session: Session, *, journey_id: int) -> dict[str, int]:
    """Enrolments of a journey by status, and how many reached the goal."""
    found = dict(session.execute(select(JourneyEnrolment.status, func.count())
                                 .where(JourneyEnrolment.journey_id == journey_id)
                                 .group_by(JourneyEnrolment.status)).all())
    goal = session.scalar(select(func.count()).where(JourneyEnrolment.journey_id == journey_id,
                                                     JourneyEnrolment.goal_at.is_not(None)))
    return {s: found.get(s, 0) for s in ("active", "done", "exited", "failed")} | {
        "entered": sum(found.values()), "goal": goal or 0}
