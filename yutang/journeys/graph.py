"""A journey's definition as a validated graph (pure: no database, no clock).

Pydantic checks each step's shape; `check` then checks the graph as a whole (every link leads to a step, every
step is reachable from the start, no cycle without a wait) and names the step at fault.
"""

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yutang.kit.errors import FieldError, Invalid
from yutang.kit.fields import Id, Int64, Text

MAX_WAIT = timedelta(days=365)  # a longer wait is refused at publish
STEP_KEY = r"^[a-z][a-z0-9_]{0,39}$"
VARIANT_KEY = r"^[a-z][a-z0-9_]{0,19}$"
TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Strict(BaseModel):
    """Unknown keys are refused, so a misspelt option is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Op(StrEnum):
    """How a property filter compares."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    EXISTS = "exists"


class PropertyFilter(Strict):
    """A condition on one property of an event (a dotted path into its properties)."""

    property: Text = Field(min_length=1, max_length=200)
    op: Op = Op.EQ
    value: Text | Int64 | float | bool | None = None


class EventEntry(Strict):
    """Enter when the customer does an event whose properties pass every filter."""

    kind: Literal["event"]
    event: Text = Field(min_length=1, max_length=200)
    filters: list[PropertyFilter] = Field(default_factory=list, max_length=20)


class SegmentEntry(Strict):
    """Enter when the customer enters a segment."""

    kind: Literal["segment"]
    segment_id: Id


class ApiEntry(Strict):
    """Enter only through the API (POST …/enrolments), with entry properties."""

    kind: Literal["api"]


Entry = Annotated[EventEntry | SegmentEntry | ApiEntry, Field(discriminator="kind")]


class Reentry(StrEnum):
    """Whether a customer may enter again once their enrolment ended."""

    NEVER = "never"
    AFTER = "after"  # after `reentry_days` days since their last entry
    ALWAYS = "always"


class ExitEvent(Strict):
    """An event that takes the customer out of the journey at once, whatever step they are at."""

    event: Text = Field(min_length=1, max_length=200)
    filters: list[PropertyFilter] = Field(default_factory=list, max_length=20)


class Goal(Strict):
    """The conversion: the event within `within_days` of entry."""

    event: Text = Field(min_length=1, max_length=200)
    within_days: int = Field(7, ge=1, le=365)
    exit_on_goal: bool = True


class Wait(Strict):
    """Wait a duration, or until a local time of day (in the workspace's zone) `days` days later."""

    kind: Literal["wait"]
    days: int = Field(0, ge=0, le=365)
    hours: int = Field(0, ge=0, le=24 * 365)
    minutes: int = Field(0, ge=0, le=60 * 24 * 365)
    at: str | None = Field(None, description="HH:MM local time; with `days`, that time `days` calendar days later")
    next: str

    @field_validator("at")
    @classmethod
    def _time_of_day(cls, value: str | None) -> str | None:
        if value is not None and not TIME_OF_DAY.match(value):
            raise ValueError("a time of day is HH:MM, from 00:00 to 23:59")
        return value

    @model_validator(mode="after")
    def _some_wait(self) -> "Wait":
        if self.at is None and not (self.days or self.hours or self.minutes):
            raise ValueError("a wait needs a duration or a time of day")
        if self.at is None and self.duration > MAX_WAIT:
            raise ValueError(f"a wait is at most {MAX_WAIT.days} days")
        return self

    @property
    def duration(self) -> timedelta:
        """The wait's length when it is a duration."""
        return timedelta(days=self.days, hours=self.hours, minutes=self.minutes)


class Send(Strict):
    """Send a template on a channel through messaging (consent and quiet hours apply)."""

    kind: Literal["send"]
    channel_id: Id
    template_id: Id
    next: str | None = None


class Task(Strict):
    """Give a staff member a task about the customer (the customer's owner unless `staff_id` is set)."""

    kind: Literal["task"]
    title: Text = Field(min_length=1, max_length=200)
    note: Text | None = Field(None, max_length=1000)
    staff_id: Id | None = None
    due_hours: int = Field(24, ge=0, le=24 * 90)
    next: str | None = None


class TagStep(Strict):
    """Add and remove tags."""

    kind: Literal["tag"]
    add: list[Id] = Field(default_factory=list, max_length=20)
    remove: list[Id] = Field(default_factory=list, max_length=20)
    next: str | None = None

    @model_validator(mode="after")
    def _something(self) -> "TagStep":
        if not self.add and not self.remove:
            raise ValueError("a tag step adds or removes at least one tag")
        return self


class InSegment(Strict):
    """True when the customer is a member of the segment now."""

    kind: Literal["segment"]
    segment_id: Id


class EventHappened(Strict):
    """True when the customer did the event since the last wait began (since entry if there was none)."""

    kind: Literal["event"]
    event: Text = Field(min_length=1, max_length=200)


Condition = Annotated[InSegment | EventHappened, Field(discriminator="kind")]


class Branch(Strict):
    """Go to `yes` when the condition holds, else to `no`."""

    kind: Literal["branch"]
    condition: Condition
    yes: str | None = None
    no: str | None = None


class Variant(Strict):
    """One arm of an experiment: its share (a weight) and the step it leads to; the first is the control."""

    key: str = Field(pattern=VARIANT_KEY)
    weight: int = Field(50, ge=1, le=100)
    next: str | None = None


class Metric(Strict):
    """An event within `within_days` of the exposure (per customer: did it happen)."""

    event: Text = Field(min_length=1, max_length=200)
    within_days: int = Field(7, ge=1, le=90)


class Experiment(Strict):
    """Split customers between variants by a hash of the customer and the salt (the same customer always gets the
    same variant); the primary metric is the journey's goal unless `metric` names an event; guardrails are events
    that must not rise. Results are read once `horizon_days` have passed and every variant has `min_per_variant`
    exposures (a fixed horizon: no peeking)."""

    kind: Literal["experiment"]
    name: Text = Field(min_length=1, max_length=200)
    salt: str | None = Field(None, min_length=1, max_length=64, description="by default journey id and step key")
    variants: list[Variant] = Field(min_length=2, max_length=5)
    metric: Metric | None = None
    guardrails: list[Metric] = Field(default_factory=list, max_length=5)
    min_per_variant: int = Field(100, ge=10, le=10_000_000)
    horizon_days: int = Field(14, ge=1, le=180)
    alpha: float = Field(0.05, gt=0, le=0.2)
    correction: Literal["holm", "fdr_bh"] = "holm"

    @model_validator(mode="after")
    def _distinct(self) -> "Experiment":
        keys = [variant.key for variant in self.variants]
        if len(set(keys)) != len(keys):
            raise ValueError("each variant needs its own key")
        return self


class WaitFor(Strict):
    """Wait until the customer does the event (then `next`), at most `days`/`hours` (then `timeout`)."""

    kind: Literal["wait_for"]
    event: Text = Field(min_length=1, max_length=200)
    days: int = Field(0, ge=0, le=365)
    hours: int = Field(0, ge=0, le=24 * 365)
    next: str | None = None
    timeout: str | None = None

    @model_validator(mode="after")
    def _some_timeout(self) -> "WaitFor":
        if not (self.days or self.hours) or self.limit > MAX_WAIT:
            raise ValueError(f"waiting for an event needs a timeout of at most {MAX_WAIT.days} days")
        return self

    @property
    def limit(self) -> timedelta:
        """The longest wait."""
        return timedelta(days=self.days, hours=self.hours)


class WaitUntil(Strict):
    """Wait until a condition holds (checked every `check_minutes`; then `next`), at most `max_days` (then
    `timeout`)."""

    kind: Literal["wait_until"]
    condition: Condition
    check_minutes: int = Field(60, ge=5, le=24 * 60)
    max_days: int = Field(7, ge=1, le=365)
    next: str | None = None
    timeout: str | None = None


class Exit(Strict):
    """Leave the journey (done)."""

    kind: Literal["exit"]


Step = Annotated[Wait | WaitFor | WaitUntil | Send | Task | TagStep | Branch | Experiment | Exit,
                 Field(discriminator="kind")]


class Definition(Strict):
    """A journey: how customers enter, the steps from `start`, when they leave early and what counts as a goal."""

    entry: Entry
    reentry: Reentry = Reentry.NEVER
    reentry_days: int | None = Field(None, ge=1, le=3650)
    exit_on: list[ExitEvent] = Field(default_factory=list, max_length=20)
    goal: Goal | None = None
    start: str
    steps: dict[Annotated[str, Field(pattern=STEP_KEY)], Step] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _reentry_days(self) -> "Definition":
        if self.reentry is Reentry.AFTER and self.reentry_days is None:
            raise ValueError("re-entry after a number of days needs reentry_days")
        return self


WAITS = (Wait, WaitFor, WaitUntil)  # steps that hold a customer (a loop through one is not a spin)


def links(step: Any) -> dict[str, str | None]:
    """A step's outgoing links by their field name (None: the journey ends there)."""
    if isinstance(step, Branch):
        return {"yes": step.yes, "no": step.no}
    if isinstance(step, Exit):
        return {}
    if isinstance(step, WaitFor | WaitUntil):
        return {"next": step.next, "timeout": step.timeout}
    if isinstance(step, Experiment):
        return {f"variants.{i}.next": variant.next for i, variant in enumerate(step.variants)}
    return {"next": step.next}


def check(definition: Definition, *, field: str = "definition") -> None:
    """Refuse a graph with a dangling link, an unreachable step or a cycle that never waits; names the step."""
    steps = definition.steps
    errors: list[FieldError] = []
    if definition.start not in steps:
        errors.append(FieldError(f"{field}.start", f"no step named {definition.start!r}"))
    for key, step in steps.items():
        for name, target in links(step).items():
            if target is not None and target not in steps:
                errors.append(FieldError(f"{field}.steps.{key}.{name}", f"no step named {target!r}"))
    if errors:
        raise Invalid(errors[0].message, errors)
    reached, todo = set(), [definition.start]
    while todo:
        key = todo.pop()
        if key not in reached:
            reached.add(key)
            todo.extend(t for t in links(steps[key]).values() if t is not None)
    for key in steps:
        if key not in reached:
            errors.append(FieldError(f"{field}.steps.{key}", f"step {key!r} cannot be reached from the start"))
    if errors:
        raise Invalid(errors[0].message, errors)
    for key, step in steps.items():
        if isinstance(step, Experiment) and step.metric is None and definition.goal is None:
            errors.append(FieldError(f"{field}.steps.{key}.metric",
                                     "an experiment needs a metric when the journey has no goal"))
    if errors:
        raise Invalid(errors[0].message, errors)
    cycle = _cycle_without_wait(steps)
    if cycle is not None:
        raise Invalid(f"steps {' → '.join(cycle)} loop without a wait", field=f"{field}.steps.{cycle[0]}")


def _cycle_without_wait(steps: dict[str, Any]) -> list[str] | None:
    """A loop among the steps that are not waits (a customer would spin in it at once), or None."""
    instant = {key: [t for t in links(step).values() if t is not None and not isinstance(steps[t], WAITS)]
               for key, step in steps.items() if not isinstance(step, WAITS)}
    state: dict[str, int] = {}

    def visit(key: str, path: list[str]) -> list[str] | None:
        state[key] = 1
        for target in instant[key]:
            if state.get(target) == 1:
                return path[path.index(target):] + [target] if target in path else [key, target]
            if target not in state and (found := visit(target, path + [target])):
                return found
        state[key] = 2
        return None

    for key in instant:
        if key not in state and (found := visit(key, [key])):
            return found
    return None


def parse(data: dict, *, field: str = "definition") -> Definition:
    """A definition from JSON, shape and graph checked; errors name the field under `field`."""
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        errors = [FieldError(".".join([field, *(str(p) for p in e["loc"])]), e["msg"], kind=e["type"])
                  for e in exc.errors()]
        raise Invalid(errors[0].message, errors) from None
    check(definition, field=field)
    return definition
