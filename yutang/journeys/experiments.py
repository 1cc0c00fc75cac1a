"""Experiments inside journeys: assigning a customer a variant at an experiment step (an exposure, logged once per
enrolment and step), recording the events they measure, and reading the results at a fixed horizon."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.journeys import core, stats
from yutang.journeys.definitions import definition_of, get
from yutang.journeys.graph import Experiment, Metric
from yutang.journeys.models import JourneyEnrolment, JourneyExposure, JourneyVersion
from yutang.journeys.schemas import ExperimentResults, MetricResult, VariantResult
from yutang.kit.errors import Invalid, NotFound
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.workspaces.access import Actor, Permission

MIN_LIFT = 0.001  # smaller lifts need more exposures than any workspace has
PRIMARY = "goal"  # the primary metric's name when it is the journey's goal


def salt_of(journey_id: int, key: str, step: Experiment) -> str:
    """The experiment's salt: its own, else the journey and step (stable across versions)."""
    return step.salt or f"journey:{journey_id}:{key}"


def expose(session: Session, *, enrolment: JourneyEnrolment, key: str, step: Experiment, now: datetime) -> str | None:
    """Assign the customer a variant and log the exposure (once per enrolment and step); the step it leads to."""
    variant = core.assign(salt_of(enrolment.journey_id, key, step), enrolment.customer_id, step.variants)
    try:
        with session.begin_nested():
            session.add(JourneyExposure(workspace_id=enrolment.workspace_id, journey_id=enrolment.journey_id,
                                        enrolment_id=enrolment.id, customer_id=enrolment.customer_id, step=key,
                                        variant=variant.key, exposed_at=now, metrics={}))
            session.flush()
    except IntegrityError:  # the same enrolment passing the step again: same variant, no second exposure
        return variant.next
    outbox.emit(session, workspace_id=enrolment.workspace_id, topic=Topic.EXPERIMENT_EXPOSURE,
                entity_id=enrolment.customer_id, payload={
                    "journey_id": enrolment.journey_id, "enrolment_id": enrolment.id,
                    "customer_id": enrolment.customer_id, "experiment": key, "variant": variant.key,
                    "occurred_at": now.isoformat()})
    return variant.next


def _metrics(step: Experiment) -> list[Metric]:
    return [*([step.metric] if step.metric else []), *step.guardrails]


def on_event(session: Session, *, customer_id: int, event: str, at: datetime,
             journeys: list[tuple[int, list[tuple[str, Experiment]]]]) -> None:
    """Record an event's first time within its window on the customer's exposures to experiments measuring it."""
    windows = {(journey_id, key): max((m.within_days for m in _metrics(step) if m.event == event), default=0)
               for journey_id, found in journeys for key, step in found}
    windows = {where: days for where, days in windows.items() if days}
    if not windows:
        return
    for exposure in session.scalars(select(JourneyExposure).where(
            JourneyExposure.customer_id == customer_id,
            JourneyExposure.journey_id.in_({journey_id for journey_id, _ in windows}))):
        days = windows.get((exposure.journey_id, exposure.step))
        if days and event not in exposure.metrics and exposure.exposed_at <= at <= \
                exposure.exposed_at + timedelta(days=days):
            exposure.metrics = {**exposure.metrics, event: at.isoformat()}


def live_experiments(version: JourneyVersion) -> list[tuple[str, Experiment]]:
    """A version's experiment steps by key."""
    return [(key, step) for key, step in definition_of(version).steps.items() if isinstance(step, Experiment)]


def _find(session: Session, journey_id: int, key: str) -> tuple[Experiment, bool]:
    """The newest version's experiment step of that key, and whether the journey has a goal."""
    for version in session.scalars(select(JourneyVersion).where(JourneyVersion.journey_id == journey_id)
                                   .order_by(JourneyVersion.number.desc())):
        definition = definition_of(version)
        step = definition.steps.get(key)
        if isinstance(step, Experiment):
            return step, definition.goal is not None
    raise NotFound(f"the journey has no experiment step {key!r}", field="step")


def _counts(session: Session, actor: Actor, journey_id: int, key: str, metrics: list[Metric],
            primary_is_goal: bool) -> tuple[dict[str, dict[str, int]], datetime | None]:
    """Per variant: exposures and hits per metric name; and the first exposure's time."""
    query = select(JourneyExposure.variant, JourneyExposure.metrics, JourneyEnrolment.goal_at,
                   JourneyExposure.exposed_at).join(JourneyEnrolment,
                                                    JourneyEnrolment.id == JourneyExposure.enrolment_id) \
        .where(JourneyExposure.journey_id == journey_id, JourneyExposure.step == key)
    if actor.sees_own_customers_only:
        query = query.where(JourneyExposure.customer_id.in_(customers_service.visible_ids(actor)))
    found: dict[str, dict[str, int]] = {}
    first = None
    for variant, hits, goal_at, exposed_at in session.execute(query):
        row = found.setdefault(variant, {"n": 0})
        row["n"] += 1
        first = exposed_at if first is None or exposed_at < first else first
        if primary_is_goal and goal_at is not None and goal_at >= exposed_at:
            row[PRIMARY] = row.get(PRIMARY, 0) + 1
        for metric in metrics:
            if metric.event in (hits or {}):
                row[metric.event] = row.get(metric.event, 0) + 1
    return found, first


def results(session: Session, *, actor: Actor, journey_id: int, key: str, now: datetime) -> ExperimentResults:
    """An experiment's results: exposures per variant against the plan (the SRM alarm), each metric per variant
    against the control (two-proportion z, corrected across the primary metric × variants), and whether and when
    the result can be read."""
    actor.require(Permission.READ)
    journey = get(session, actor=actor, journey_id=journey_id)
    step, has_goal = _find(session, journey.id, key)
    primary_is_goal = step.metric is None and has_goal
    counted, first = _counts(session, actor, journey.id, key, _metrics(step), primary_is_goal)
    observed = [counted.get(v.key, {}).get("n", 0) for v in step.variants]
    srm = stats.srm_p(observed, [v.weight for v in step.variants])
    window = max([m.within_days for m in _metrics(step)] or [0])
    if primary_is_goal:
        window = max(window, goal_window(session, journey.id))
    readable_at = first + timedelta(days=step.horizon_days + window) if first is not None else None
    waiting_for = []
    if readable_at is None or now < readable_at:
        waiting_for.append("horizon")
    if min(observed) < step.min_per_variant:
        waiting_for.append("sample")
    if srm < stats.SRM_ALPHA:
        waiting_for.append("sample_ratio_mismatch")
    names = [(PRIMARY if primary_is_goal else step.metric.event, True)] + [(g.event, False) for g in step.guardrails]
    control = step.variants[0]
    metrics, primary_ps = [], []
    for name, primary in names:
        base = counted.get(control.key, {})
        for variant in step.variants:
            row = counted.get(variant.key, {})
            n, hits = row.get("n", 0), row.get(name, 0)
            tested = stats.compare(hits, n, base.get(name, 0), base.get("n", 0), alpha=step.alpha) \
                if variant is not control else None
            metrics.append(MetricResult(metric=name, primary=primary, variant=variant.key, exposures=n, hits=hits,
                                        rate=hits / n if n else None, difference=tested and tested.difference,
                                        low=tested and tested.low, high=tested and tested.high,
                                        p=tested and tested.p, enough=stats.enough(hits, n)))
            if tested is not None and primary:
                primary_ps.append((len(metrics) - 1, tested.p))
    for (index, _), (rejected, adjusted) in zip(primary_ps, stats.adjust([p for _, p in primary_ps],
                                                                         alpha=step.alpha, method=step.correction),
                                                strict=True):
        metrics[index].adjusted_p, metrics[index].significant = adjusted, rejected
    for result in metrics:  # guardrails: each on its own, a worse rate at alpha is a warning
        if not result.primary and result.p is not None:
            result.significant = result.p < step.alpha
    return ExperimentResults(
        journey_id=journey.id, step=key, name=step.name, control=control.key, correction=step.correction,
        alpha=step.alpha, horizon_days=step.horizon_days, min_per_variant=step.min_per_variant,
        variants=[VariantResult(variant=v.key, weight=v.weight, exposures=n,
                                share=n / sum(observed) if sum(observed) else None)
                  for v, n in zip(step.variants, observed, strict=True)],
        srm_p=srm, srm_alarm=srm < stats.SRM_ALPHA, first_exposure_at=first, readable_at=readable_at,
        readable=not waiting_for, waiting_for=waiting_for, metrics=metrics)


def goal_window(session: Session, journey_id: int) -> int:
    """The newest version's goal window in days (0 without a goal)."""
    version = session.scalar(select(JourneyVersion).where(JourneyVersion.journey_id == journey_id)
                             .order_by(JourneyVersion.number.desc()).limit(1))
    goal = definition_of(version).goal if version is not None else None
    return goal.within_days if goal else 0


def sample_size(*, baseline: float, lift: float, alpha: float, power: float, variants: int) -> dict:
    """How many exposures each variant needs, and in all, to detect `lift` from `baseline`."""
    if not 0 < baseline < 1:
        raise Invalid("the baseline rate is between 0 and 1", field="baseline")
    if not 0 < baseline + lift < 1:
        raise Invalid("baseline plus lift must stay between 0 and 1", field="lift")
    if abs(lift) < MIN_LIFT:
        raise Invalid(f"the lift must be at least {MIN_LIFT} either way", field="lift")
    per = stats.sample_size(baseline, lift, alpha=alpha, power=power)
    if per is None:
        raise Invalid("no sample size reaches that power for this lift", field="lift")
    return {"per_variant": per, "total": per * variants}


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: the loser's exposures become the winner's (their variants stay as logged)."""
    return session.execute(update(JourneyExposure).where(JourneyExposure.customer_id == from_id)
                           .values(customer_id=to_id)).rowcount or 0


def export(session: Session, *, customer_id: int) -> list[dict]:
    """A customer's experiment exposures for their data export."""
    return [{"journey_id": e.journey_id, "experiment": e.step, "variant": e.variant,
             "exposed_at": e.exposed_at.isoformat(), "events": e.metrics}
            for e in session.scalars(select(JourneyExposure).where(JourneyExposure.customer_id == customer_id)
                                     .order_by(JourneyExposure.id))]


def erase(session: Session, *, customer_id: int) -> None:
    """Erasure: the customer's exposures go (results then count without them)."""
    session.execute(delete(JourneyExposure).where(JourneyExposure.customer_id == customer_id))
