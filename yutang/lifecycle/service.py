"""Lifecycle settings, the refresh's audit trail, and reading the scores back (overview, one customer)."""

from dataclasses import asdict
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.kit.errors import Invalid, NotFound
from yutang.lifecycle import core
from yutang.lifecycle.models import LifecycleModel, LifecycleSettings
from yutang.lifecycle.schemas import (
    BgNbdOut,
    ClassCount,
    ComputeOut,
    CustomerScoresOut,
    GammaGammaOut,
    LifecycleSettingsIn,
    LifecycleSettingsOut,
    ModelOut,
    OverviewOut,
    StageCount,
    ValueBucket,
)
from yutang.lifecycle.scoring import Refresh
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

Warehouse = DuckDBWarehouse | PostgresWarehouse
# Value buckets of the overview, in fen: 0, under ¥100, ¥100–500, ¥500–1,000, ¥1,000–5,000, ¥5,000 and more.
BUCKET_EDGES = (0, 1, 10_000, 50_000, 100_000, 500_000)
FIELDS = tuple(LifecycleSettingsIn.model_fields)


def thresholds(session: Session, *, actor: Actor) -> core.Thresholds:
    """The workspace's thresholds (the defaults until someone changes them)."""
    row = session.scalar(select(LifecycleSettings).where(LifecycleSettings.workspace_id == actor.workspace_id))
    if row is None:
        return core.Thresholds()
    return core.Thresholds(**{name: getattr(row, name) for name in FIELDS})


def get_settings(session: Session, *, actor: Actor) -> LifecycleSettingsOut:
    """The settings in force."""
    actor.require(Permission.READ)
    return LifecycleSettingsOut(**asdict(thresholds(session, actor=actor)))


def update_settings(session: Session, *, actor: Actor, data: LifecycleSettingsIn) -> LifecycleSettingsOut:
    """Replace the settings; lapsing thresholds must grow: at risk < dormant < churned."""
    actor.require(Permission.BULK)
    if data.dormant_days <= data.at_risk_days:
        raise Invalid("dormant_days must be more than at_risk_days", field="dormant_days")
    if data.churned_days <= data.dormant_days:
        raise Invalid("churned_days must be more than dormant_days", field="churned_days")
    before = asdict(thresholds(session, actor=actor))
    row = session.scalar(select(LifecycleSettings).where(LifecycleSettings.workspace_id == actor.workspace_id))
    if row is None:
        row = LifecycleSettings(workspace_id=actor.workspace_id)
        session.add(row)
    for name, value in data.model_dump().items():
        setattr(row, name, value)
    session.flush()
    changed = {name: {"from": before[name], "to": value} for name, value in data.model_dump().items()
               if before[name] != value}
    workspaces_service.record(session, actor=actor, action="lifecycle.settings_changed",
                              entity_type="lifecycle_settings", entity_id=row.id, changes=changed)
    return LifecycleSettingsOut(**data.model_dump())


def last_was_backtest(session: Session, *, actor: Actor) -> bool:
    """Whether the stored scores come from an as-of refresh (so the next one records no transitions from them)."""
    return bool(session.scalar(select(LifecycleModel.as_of_requested)
                               .where(LifecycleModel.workspace_id == actor.workspace_id)))


def record_refresh(session: Session, *, actor: Actor, report: Refresh, computed_at: datetime, as_of: date,
                   as_of_requested: bool, purchases: str) -> ComputeOut:
    """Keep the fitted model, audit the refresh and shape its report."""
    row = session.scalar(select(LifecycleModel).where(LifecycleModel.workspace_id == actor.workspace_id))
    if row is None:
        row = LifecycleModel(workspace_id=actor.workspace_id)
        session.add(row)
    row.as_of, row.as_of_requested, row.computed_at, row.purchases = as_of, as_of_requested, computed_at, purchases
    row.buyers, row.parameters, row.error = report.buyers, report.model, report.model_error
    out = ComputeOut(customers=report.customers, transitions=report.transitions, baseline=report.baseline,
                     as_of=as_of, computed_at=computed_at, model=report.model, model_error=report.model_error,
                     seconds=report.seconds)
    workspaces_service.record(session, actor=actor, action="lifecycle.computed", entity_type="workspace",
                              entity_id=actor.workspace_id,
                              changes=out.model_dump(mode="json", include={"customers", "transitions", "baseline",
                                                                           "as_of", "model", "model_error"}))
    return out


def model(session: Session, *, actor: Actor) -> ModelOut:
    """The value model of the last refresh, with its units."""
    actor.require(Permission.READ)
    row = session.scalar(select(LifecycleModel).where(LifecycleModel.workspace_id == actor.workspace_id))
    if row is None:
        raise NotFound("no lifecycle refresh yet: POST /v1/lifecycle/compute first")
    fitted = row.parameters or {}
    return ModelOut(as_of=row.as_of, as_of_requested=row.as_of_requested, computed_at=row.computed_at,
                    purchases=row.purchases, buyers=row.buyers, fitted_on=fitted.get("fitted_on"),
                    bgnbd=BgNbdOut(**fitted["bgnbd"]) if fitted else None,
                    gamma_gamma=GammaGammaOut(**fitted["gamma_gamma"]) if fitted else None, error=row.error)


def overview(warehouse: Warehouse, *, actor: Actor) -> OverviewOut:
    """Customers per stage and per RFM class and the value distribution, over the workspace's active customers."""
    actor.require(Permission.READ)
    scored = ("FROM customer_scores s JOIN customers c ON c.id = s.customer_id AND c.status = 'active' "
              "WHERE s.workspace_id = %(w)s")
    params = {"w": actor.workspace_id}
    stages = dict(warehouse.query(f"SELECT s.lifecycle_stage, count(*) {scored} GROUP BY 1", params))
    classes = {name: (count, int(total)) for name, count, total in warehouse.query(
        f"SELECT s.rfm_class, count(*), COALESCE(sum(s.historic_value_fen), 0) {scored} GROUP BY 1", params)}
    (customers, computed_at, historic, predicted), = warehouse.query(
        f"SELECT count(*), max(s.computed_at), COALESCE(sum(s.historic_value_fen), 0), "
        f"COALESCE(sum(s.predicted_value_fen), 0) {scored}", params)
    bucket = " ".join(f"WHEN {{v}} >= {edge} THEN {index}" for index, edge in reversed(list(enumerate(BUCKET_EDGES))))
    historic_buckets = dict(warehouse.query(
        f"SELECT CASE {bucket.format(v='s.historic_value_fen')} END, count(*) {scored} GROUP BY 1", params))
    predicted_buckets = dict(warehouse.query(
        f"SELECT CASE {bucket.format(v='s.predicted_value_fen')} END, count(*) {scored} "
        "AND s.predicted_value_fen IS NOT NULL GROUP BY 1", params))
    edges = list(BUCKET_EDGES) + [None]
    return OverviewOut(
        computed_at=computed_at, customers=customers,
        stages=[StageCount(stage=stage, customers=stages.get(stage, 0)) for stage in core.STAGES],
        rfm_classes=[ClassCount(rfm_class=name, customers=classes.get(name, (0, 0))[0],
                                historic_value_fen=classes.get(name, (0, 0))[1]) for name in core.RFM_CLASSES],
        unscored=classes.get(None, (0, 0))[0], historic_value_fen=int(historic), predicted_value_fen=int(predicted),
        value_buckets=[ValueBucket(min_fen=edges[i], max_fen=edges[i + 1], historic=historic_buckets.get(i, 0),
                                   predicted=predicted_buckets.get(i, 0)) for i in range(len(BUCKET_EDGES))])


def scores_of(warehouse: Warehouse, *, actor: Actor, customer_id: int) -> CustomerScoresOut | None:
    """A customer's stage, RFM and value as of the last refresh (None before the first one reached them)."""
    actor.require(Permission.READ)
    rows = warehouse.query("SELECT lifecycle_stage, rfm_r, rfm_f, rfm_m, rfm_class, historic_value_fen, "
                           "predicted_value_fen, computed_at FROM customer_scores "
                           "WHERE workspace_id = %(w)s AND customer_id = %(c)s",
                           {"w": actor.workspace_id, "c": customer_id})
    if not rows:
        return None
    names = ("lifecycle_stage", "rfm_r", "rfm_f", "rfm_m", "rfm_class", "historic_value_fen", "predicted_value_fen",
             "computed_at")
    return CustomerScoresOut(**dict(zip(names, rows[0], strict=True)))


def stages_of(warehouse: Warehouse, *, actor: Actor, customer_ids: list[int]) -> dict[int, str]:
    """Each customer's lifecycle stage as of the last refresh (those not scored yet are left out)."""
    actor.require(Permission.READ)
    if not customer_ids:
        return {}
    ids = ", ".join(str(int(cid)) for cid in customer_ids)  # ints only: safe to inline, any backend
    rows = warehouse.query(f"SELECT customer_id, lifecycle_stage FROM customer_scores "
                           f"WHERE workspace_id = %(w)s AND customer_id IN ({ids})", {"w": actor.workspace_id})
    return {customer_id: stage for customer_id, stage in rows}
