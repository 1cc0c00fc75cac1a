"""Input and output shapes of journeys."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from yutang.journeys.graph import Definition
from yutang.kit.fields import Id, NonNegative, Patch, Text


class JourneyStatus(StrEnum):
    """draft: being built; live: customers enter and advance; paused: none enter, none advance; stopped: over."""

    DRAFT = "draft"
    LIVE = "live"
    PAUSED = "paused"
    STOPPED = "stopped"


class EnrolmentStatus(StrEnum):
    """active: at a step; done: reached the end; exited: left early (exit event, goal, stop); failed: a step kept
    failing."""

    ACTIVE = "active"
    DONE = "done"
    EXITED = "exited"
    FAILED = "failed"


class JourneyIn(BaseModel):
    """A new journey (a draft until published)."""

    name: Text = Field(min_length=1, max_length=200)
    description: Text = Field("", max_length=1000)
    definition: Definition


class JourneyPatch(Patch):
    """Rename a journey or change its definition: a live journey's change becomes a new version, and customers
    already in it stay on theirs."""

    name: Text = Field(None, min_length=1, max_length=200)
    description: Text = Field(None, max_length=1000)
    definition: Definition = Field(None)


class VersionOut(BaseModel):
    """One version of a journey's definition."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    number: int
    definition: dict[str, Any]
    published_at: datetime | None
    created_at: datetime


class JourneyOut(BaseModel):
    """A journey with the definition new customers enter."""

    id: int
    name: str
    description: str
    status: JourneyStatus
    version: int
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime | None


class EnrolIn(BaseModel):
    """Put a customer into a live journey whose entry is an API call."""

    customer_id: Id
    properties: dict[str, Any] = Field(default_factory=dict, description="entry properties, kept on the enrolment")


class EnrolmentOut(BaseModel):
    """A customer's pass through a journey."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    journey_id: int
    version_id: int
    customer_id: int
    status: EnrolmentStatus
    step: str | None
    entered_at: datetime
    ended_at: datetime | None
    reason: str | None
    goal_at: datetime | None
    properties: dict[str, Any]
    due_at: datetime | None = Field(None, description="when the current step runs next")
    attempts: int = 0
    error: str | None = None


class EnrolOut(BaseModel):
    """The outcome of an entry: the enrolment made, or why none was (`already_active`, `not_again`)."""

    enrolled: bool
    reason: str | None = None
    enrolment: EnrolmentOut | None = None


class StepCountOut(BaseModel):
    """How many customers entered, wait at, finished, failed at, exited at and reached the goal from a step."""

    version: int
    step: str
    kind: str
    entered: int
    waiting: int
    done: int
    failed: int
    exited: int
    goal: int


class CountsOut(BaseModel):
    """A journey's counts: per step and version, and totals over its enrolments."""

    journey_id: int
    steps: list[StepCountOut]
    totals: dict[str, int]


class VariantResult(BaseModel):
    """A variant's planned weight and the exposures it got."""

    variant: str
    weight: NonNegative
    exposures: NonNegative
    share: float | None


class MetricResult(BaseModel):
    """One metric of one variant: its rate and, against the control, the difference, its interval and p-values
    (`adjusted_p` corrected across the primary metric × variants)."""

    metric: str
    primary: bool
    variant: str
    exposures: NonNegative
    hits: NonNegative
    rate: float | None
    difference: float | None = None
    low: float | None = None
    high: float | None = None
    p: float | None = None
    adjusted_p: float | None = None
    significant: bool | None = None
    enough: bool


class ExperimentResults(BaseModel):
    """An experiment's results and whether they can be read (`waiting_for`: horizon, sample,
    sample_ratio_mismatch)."""

    journey_id: Id
    step: str
    name: str
    control: str
    correction: str
    alpha: float
    horizon_days: NonNegative
    min_per_variant: NonNegative
    variants: list[VariantResult]
    srm_p: float
    srm_alarm: bool
    first_exposure_at: datetime | None
    readable_at: datetime | None
    readable: bool
    waiting_for: list[str]
    metrics: list[MetricResult]


class SampleSizeOut(BaseModel):
    """Exposures needed per variant and in all."""

    per_variant: NonNegative
    total: NonNegative
