"""ORM models for journeys: their versions, the customers enrolled, each enrolment's current step and the counts
per step."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yutang.storage.base import Base, WorkspaceScoped
from yutang.storage.types import Id, Json, UTCDateTime


class Journey(WorkspaceScoped, Base):
    """A journey: draft until published, then live (customers enter), paused (none enter, none advance) or stopped."""

    __tablename__ = "journeys"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(default=1, doc="the number of the version new customers enter")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JourneyVersion(WorkspaceScoped, Base):
    """One definition of a journey; never changed once a customer entered it (an edit makes the next version)."""

    __tablename__ = "journey_versions"
    __table_args__ = (UniqueConstraint("journey_id", "number"),)

    journey_id: Mapped[int] = mapped_column(Id, ForeignKey("journeys.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    definition: Mapped[dict[str, Any]] = mapped_column(Json)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JourneyEnrolment(WorkspaceScoped, Base):
    """A customer's pass through a journey, pinned to the version they entered.

    `entry_key` (customer and rotation) makes a second entry of the same rotation a no-op, and
    `active_customer_id` (set only while active) one active enrolment per journey and customer.
    """

    __tablename__ = "journey_enrolments"
    __table_args__ = (UniqueConstraint("journey_id", "entry_key"), UniqueConstraint("journey_id", "active_customer_id"),
                      Index("ix_journey_enrolments_customer", "customer_id", "journey_id"))

    journey_id: Mapped[int] = mapped_column(Id, ForeignKey("journeys.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(Id, ForeignKey("journey_versions.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    active_customer_id: Mapped[int | None] = mapped_column(Id)
    entry_key: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16), default="active")
    step: Mapped[str | None] = mapped_column(String(40), doc="the step the customer is at (last at, once ended)")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(500), doc="why it exited or failed")
    goal_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    last_seen: Mapped[dict[str, str]] = mapped_column(Json, default=dict, doc="event name → last time (ISO), "
                                                      "for branches on events")


class JourneyWait(WorkspaceScoped, Base):
    """An active enrolment's current step, due at `next_attempt_at`: claimed by the runner, then advanced, retried
    with backoff, or left `failed` with the error."""

    __tablename__ = "journey_waits"
    __table_args__ = (Index("ix_journey_waits_due", "status", "next_attempt_at"),)

    journey_id: Mapped[int] = mapped_column(Id, ForeignKey("journeys.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int] = mapped_column(Id, ForeignKey("journey_enrolments.id", ondelete="CASCADE"),
                                              unique=True)
    step: Mapped[str] = mapped_column(String(40))
    visit: Mapped[int] = mapped_column(default=1, doc="the steps taken so far: part of each side effect's key")
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    since: Mapped[datetime] = mapped_column(UTCDateTime, doc="when the step (a wait: the waiting) began")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))


class JourneyStepCount(WorkspaceScoped, Base):
    """How many enrolments of a version entered, finished, failed at, exited at and reached the goal from a step:
    counters, not a log, so they stay one row per step however many pass."""

    __tablename__ = "journey_step_counts"
    __table_args__ = (UniqueConstraint("version_id", "step"),)

    version_id: Mapped[int] = mapped_column(Id, ForeignKey("journey_versions.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(40))
    entered: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    exited: Mapped[int] = mapped_column(default=0)
    goal: Mapped[int] = mapped_column(default=0)


class JourneyExposure(WorkspaceScoped, Base):
    """A customer's exposure to an experiment step: the variant they got and when, and the first time within its
    window of each event the experiment measures."""

    __tablename__ = "journey_exposures"
    __table_args__ = (UniqueConstraint("enrolment_id", "step"),
                      Index("ix_journey_exposures_experiment", "journey_id", "step", "variant"),
                      Index("ix_journey_exposures_customer", "customer_id"))

    journey_id: Mapped[int] = mapped_column(Id, ForeignKey("journeys.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(Id, ForeignKey("journey_enrolments.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(40), doc="the experiment step's key")
    variant: Mapped[str] = mapped_column(String(20))
    exposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    metrics: Mapped[dict[str, str]] = mapped_column(Json, default=dict, doc="event name → first time (ISO) within "
                                                    "its window")
