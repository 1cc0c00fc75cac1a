"""Analytics' public face: the dashboard, the customers behind a figure, funnels, retention and repurchase,
cross-sell rules and category fit, pond health, saved reports.

Every figure is computed in the warehouse; the OLTP store is read only for the names of channels."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from yutang.analytics import acquisition, categoryfit, crosssell, drill, funnels, health, holdout, reports, retention
from yutang.analytics import dashboard as dashboard_figures
from yutang.analytics.periods import Window, resolve
from yutang.analytics.schemas import (
    AcquisitionOut,
    CapInForce,
    CategoryFitIn,
    CategoryFitOut,
    Cell,
    CrossSellIn,
    CrossSellOut,
    CrossSellSegmentIn,
    DashboardOut,
    DrillOut,
    FunnelCustomersIn,
    FunnelIn,
    FunnelOut,
    Headline,
    HealthCell,
    HoldoutOut,
    Metric,
    PondHealthIn,
    PondHealthOut,
    RepurchaseIn,
    RepurchaseOut,
    RetentionCell,
    RetentionIn,
    RetentionOut,
    SavedReportIn,
    SavedReportOut,
    SavedReportPatch,
    TouchKindHealth,
)
from yutang.analytics.sql import Warehouse
from yutang.channels import service as channels_service
from yutang.kit.clock import utcnow
from yutang.kit.pagination import encode_cursor
from yutang.messaging import broadcasts as messaging_broadcasts
from yutang.messaging import service as messaging_service
from yutang.workspaces.access import Actor, Need, Permission


def window(*, actor: Actor, period: str, start: date | None, end: date | None, now: datetime | None = None) -> Window:
    """The range a request names, in the workspace's zone."""
    return resolve(period, start=start, end=end, timezone=actor.timezone, now=now or utcnow())


def channel_names(session: Session, *, actor: Actor) -> dict[int, tuple[str, str]]:
    """Channel id -> (name, traffic domain), for the breakdowns."""
    return {c.id: (c.name, c.domain) for c in channels_service.list_channels(session, actor=actor)}


def dashboard(session: Session, warehouse: Warehouse, *, actor: Actor, period: str = "7d", start: date | None = None,
              end: date | None = None, now: datetime | None = None) -> DashboardOut:
    """Every figure of the home dashboard for a range and the period before it."""
    actor.require(Permission.READ)
    now = now or utcnow()
    chosen = window(actor=actor, period=period, start=start, end=end, now=now)
    return dashboard_figures.compute(warehouse, workspace_id=actor.workspace_id, window=chosen, period=period,
                                     channels=channel_names(session, actor=actor), now=now)


def _filters(query: Metric) -> drill.Filters:
    return drill.Filters(channel_id=query.channel_id, tier_id=query.tier_id)


def customers_behind(warehouse: Warehouse, *, actor: Actor, query: Metric, after_id: int | None = None,
                     limit: int = 50, now: datetime | None = None) -> DrillOut:
    """The customers a figure counts, by id, keyset-paged."""
    actor.require_need(Need.READ_POOL)
    chosen = window(actor=actor, period=query.period, start=query.start, end=query.end, now=now)
    filters = _filters(query)
    return _drill(warehouse, query.metric, chosen.first, chosen.last, drill.ids_sql(query.metric, filters),
                  drill.params(actor.workspace_id, chosen, filters), after_id=after_id, limit=limit)


def ids_behind(warehouse: Warehouse, *, actor: Actor, query: Metric, now: datetime | None = None) -> list[int]:
    """Every customer id a figure counts."""
    actor.require_need(Need.READ_POOL)
    chosen = window(actor=actor, period=query.period, start=query.start, end=query.end, now=now)
    return drill.all_ids(warehouse, metric=query.metric, workspace_id=actor.workspace_id, window=chosen,
                         filters=_filters(query))


def funnel(session: Session, warehouse: Warehouse, *, actor: Actor, data: FunnelIn,
           now: datetime | None = None) -> FunnelOut:
    """A funnel's counts, conversions, drop-offs and median times per step (and per breakdown value)."""
    actor.require(Permission.READ)
    chosen = window(actor=actor, period=data.period, start=data.start, end=data.end, now=now)
    return funnels.compute(warehouse, data, workspace_id=actor.workspace_id, window=chosen,
                           channels=channel_names(session, actor=actor))


def _funnel_ids(warehouse: Warehouse, actor: Actor, data: FunnelCustomersIn,
                now: datetime | None) -> tuple[Window, str, dict]:
    actor.require_need(Need.READ_POOL)
    chosen = window(actor=actor, period=data.period, start=data.start, end=data.end, now=now)
    sql, p = funnels.customers_sql(data, step=data.step, outcome=data.outcome, workspace_id=actor.workspace_id,
                                   window=chosen, dialect=warehouse.dialect)
    return chosen, sql, p


def funnel_customers(warehouse: Warehouse, *, actor: Actor, data: FunnelCustomersIn, after_id: int | None = None,
                     limit: int = 50, now: datetime | None = None) -> DrillOut:
    """The customers who reached a funnel step, or dropped before it, by id, keyset-paged."""
    chosen, sql, p = _funnel_ids(warehouse, actor, data, now)
    return _drill(warehouse, f"funnel:{data.outcome}:{data.step}", chosen.first, chosen.last, sql, p,
                  after_id=after_id, limit=limit)


def funnel_ids(warehouse: Warehouse, *, actor: Actor, data: FunnelCustomersIn,
               now: datetime | None = None) -> list[int]:
    """Every customer id who reached a funnel step, or dropped before it."""
    _, sql, p = _funnel_ids(warehouse, actor, data, now)
    return [row[0] for row in warehouse.query(f"{sql} ORDER BY 1", p)]


def retention_grid(warehouse: Warehouse, *, actor: Actor, data: RetentionIn,
                   now: datetime | None = None) -> RetentionOut:
    """Cohorts by first event or first purchase in the range, and their returns per later day, week or month."""
    actor.require(Permission.READ)
    now = now or utcnow()
    chosen = window(actor=actor, period=data.period, start=data.start, end=data.end, now=now)
    return retention.grid(warehouse, data, workspace_id=actor.workspace_id, window=chosen,
                          today=now.astimezone(ZoneInfo(actor.timezone)).date())


def repurchase(warehouse: Warehouse, *, actor: Actor, data: RepurchaseIn, now: datetime | None = None) -> RepurchaseOut:
    """New buyers in the range, the share who bought again within N days, and the days to the second purchase."""
    actor.require(Permission.READ)
    chosen = window(actor=actor, period=data.period, start=data.start, end=data.end, now=now)
    return retention.repurchase(warehouse, data, workspace_id=actor.workspace_id, window=chosen)


def holdout_revenue(session: Session, warehouse: Warehouse, *, actor: Actor, period: str = "30d",
                    start: date | None = None, end: date | None = None, now: datetime | None = None) -> HoldoutOut:
    """Marketing's incremental revenue over the range against the global holdout in force."""
    actor.require(Permission.READ)
    chosen = window(actor=actor, period=period, start=start, end=end, now=now)
    share = messaging_broadcasts.get_pressure(session, actor=actor).holdout_bp
    return holdout.compute(warehouse, workspace_id=actor.workspace_id, window=chosen, share_bp=share)


def acquisition_by_channel(session: Session, warehouse: Warehouse, *, actor: Actor, period: str = "30d",
                           start: date | None = None, end: date | None = None,
                           now: datetime | None = None) -> AcquisitionOut:
    """CAC, ROI, payback month and LTV : CAC per channel for the customers first seen in the range."""
    actor.require(Permission.READ)
    chosen = window(actor=actor, period=period, start=start, end=end, now=now)
    named = channel_names(session, actor=actor)
    entries = [(c.channel_id, c.period_start, c.period_end, c.amount_fen) for channel_id in named
               for c in channels_service.list_costs(session, actor=actor, channel_id=channel_id)]
    return acquisition.compute(warehouse, workspace_id=actor.workspace_id, window=chosen,
                               costs=acquisition.prorated(entries, chosen), channels=named)


def pond_health(session: Session, warehouse: Warehouse, *, actor: Actor, data: PondHealthIn,
                now: datetime | None = None) -> PondHealthOut:
    """Harm (left, withdrew, went quiet) after each kind of touch and by marketing messages a week, against matched
    untouched customers; the weekly cap the curve suggests beside the caps in force."""
    actor.require(Permission.READ)
    weeks = health.weeks_of(data, timezone=actor.timezone, now=now or utcnow())
    tallies = health.tally(warehouse, workspace_id=actor.workspace_id, weeks=weeks)
    configs = {c.id: c for c in messaging_service.list_channels(session, actor=actor)}
    kinds = []
    for (cfg, purpose, origin), t in tallies.kinds.items():
        config = configs.get(cfg)
        kinds.append(TouchKindHealth(channel_config_id=cfg, channel_name=config.name if config else None,
                                     channel_kind=config.kind if config else None, purpose=purpose, origin=origin,
                                     **t.against(tallies.untouched)))
    kinds.sort(key=lambda k: (-k.customers, k.channel_config_id or 0, k.purpose, k.origin))
    points = health.curve(tallies)
    cap, evidence = health.suggest(points, threshold_pp=data.threshold_pp)
    caps = [CapInForce(name=c.name, limit=c.limit, window_days=c.window_days, channel_kind=c.channel_kind,
                       per_week=round(c.limit * 7 / c.window_days, 2))
            for c in messaging_broadcasts.get_pressure(session, actor=actor).caps]
    return PondHealthOut(first_day=weeks[0].start_day, last_day=weeks[-1].start_day + timedelta(days=6),
                         days_after=data.days_after, untouched=health.untouched_harm(tallies), kinds=kinds,
                         fatigue=points, suggested_weekly_cap=cap, evidence_up_to=evidence,
                         threshold_pp=data.threshold_pp, caps_in_force=caps)


def save_report(session: Session, *, actor: Actor, data: SavedReportIn) -> SavedReportOut:
    """Save a report's settings under a name (pinned to the overview or not)."""
    return reports.present(reports.save(session, actor=actor, data=data))


def saved_reports(session: Session, *, actor: Actor, pinned: bool | None = None) -> list[SavedReportOut]:
    """The workspace's saved reports."""
    return [reports.present(r) for r in reports.listed(session, actor=actor, pinned=pinned)]


def saved_report(session: Session, *, actor: Actor, report_id: int) -> SavedReportOut:
    """One saved report."""
    return reports.present(reports.get(session, actor=actor, report_id=report_id))


def update_report(session: Session, *, actor: Actor, report_id: int, data: SavedReportPatch) -> SavedReportOut:
    """Rename a saved report, or pin / unpin it."""
    return reports.present(reports.update(session, actor=actor, report_id=report_id, data=data))


def delete_report(session: Session, *, actor: Actor, report_id: int) -> None:
    """Forget a saved report."""
    reports.delete(session, actor=actor, report_id=report_id)


def headline(session: Session, warehouse: Warehouse, *, actor: Actor, report: SavedReportOut,
             now: datetime | None = None) -> Headline:
    """A saved report's headline figure, computed now: a funnel's conversion from first to last step, a grid's
    first-period return rate, a repurchase rate, the CAC over every channel, pond health's suggested weekly cap."""
    data = reports.params_of(report.kind, report.params)
    if report.kind == "funnel":
        steps = funnel(session, warehouse, actor=actor, data=data, now=now).steps
        return Headline(report=report, figure=steps[-1].conversion_from_first, unit="rate", label="conversion")
    if report.kind == "retention":
        overall = retention_grid(warehouse, actor=actor, data=data, now=now).overall
        return Headline(report=report, figure=overall[0] if overall else None, unit="rate",
                        label="first_period_rate")
    if report.kind == "repurchase":
        return Headline(report=report, figure=repurchase(warehouse, actor=actor, data=data, now=now).rate,
                        unit="rate", label="repurchase_rate")
    if report.kind == "acquisition":
        channels = acquisition_by_channel(session, warehouse, actor=actor, period=data.period, start=data.start,
                                          end=data.end, now=now).channels
        cost, customers = sum(c.cost_fen for c in channels), sum(c.new_customers for c in channels)
        return Headline(report=report, figure=cost // customers if customers and cost else None, unit="fen",
                        label="cac_fen")
    cap = pond_health(session, warehouse, actor=actor, data=data, now=now).suggested_weekly_cap
    return Headline(report=report, figure=cap, unit="count", label="suggested_weekly_cap")


def pinned_headlines(session: Session, warehouse: Warehouse, *, actor: Actor,
                     now: datetime | None = None) -> list[Headline]:
    """Every pinned report's headline figure, for the overview."""
    return [headline(session, warehouse, actor=actor, report=r, now=now)
            for r in saved_reports(session, actor=actor, pinned=True)]
def cross_sell(warehouse: Warehouse, *, actor: Actor, data: CrossSellIn, now: datetime | None = None) -> CrossSellOut:
    """Association rules A → B between categories or SKUs bought together, highest lift first."""
    actor.require(Permission.READ)
    chosen = window(actor=actor, period=data.period, start=data.start, end=data.end, now=now)
    return crosssell.compute(warehouse, data, workspace_id=actor.workspace_id, window=chosen)


def cross_sell_ids(warehouse: Warehouse, *, actor: Actor, data: CrossSellSegmentIn,
                   now: datetime | None = None) -> list[int]:
    """Every customer id who bought A in the range and has never bought B."""
    actor.require_need(Need.READ_POOL)
    chosen = window(actor=actor, period=data.period, start=data.start, end=data.end, now=now)
    sql, p = crosssell.customers_sql(level=data.level, antecedent=data.antecedent, consequent=data.consequent,
                                     workspace_id=actor.workspace_id, window=chosen)
    return [row[0] for row in warehouse.query(f"{sql} ORDER BY 1", p)]


def category_fit(warehouse: Warehouse, *, actor: Actor, data: CategoryFitIn,
                 now: datetime | None = None) -> CategoryFitOut:
    """Each category's purchase frequency against its buyers' interaction, in seed 000's four quadrants."""
    actor.require(Permission.READ)
    chosen = window(actor=actor, period=data.period, start=data.start, end=data.end, now=now)
    return categoryfit.compute(warehouse, data, workspace_id=actor.workspace_id, window=chosen)


def _cell(warehouse: Warehouse, actor: Actor, cell, now: datetime | None) -> tuple[date, date, str, dict]:
    """The days a report cell covers and a SELECT of its customer ids."""
    actor.require_need(Need.READ_POOL)
    now = now or utcnow()
    if isinstance(cell, HealthCell):
        weeks = health.weeks_of(cell, timezone=actor.timezone, now=now)
        p: dict = {}
        sql = health.cell_sql(workspace_id=actor.workspace_id, weeks=weeks, touches=cell.touches, harm=cell.harm, p=p)
        return weeks[0].start_day, weeks[-1].start_day + timedelta(days=6), sql, p
    chosen = window(actor=actor, period=cell.period, start=cell.start, end=cell.end, now=now)
    p = {"w": actor.workspace_id, "s": chosen.start, "e": chosen.end, "zone": chosen.timezone}
    if isinstance(cell, RetentionCell):
        sql = retention.cell_sql(cell, cohort=cell.cohort_start, k=cell.k, p=p)
    else:
        p["k"] = cell.category
        sql = categoryfit.cell_sql(outcome=cell.outcome)
    return chosen.first, chosen.last, sql, p


def cell_customers(warehouse: Warehouse, *, actor: Actor, cell: Cell, after_id: int | None = None, limit: int = 50,
                   now: datetime | None = None) -> DrillOut:
    """The customers behind a report's cell (a retention cohort or return, a fatigue point, a category's buyers),
    by id, keyset-paged."""
    first, last, sql, p = _cell(warehouse, actor, cell, now)
    return _drill(warehouse, cell.report, first, last, sql, p, after_id=after_id, limit=limit)


def _drill(warehouse: Warehouse, metric: str, first: date, last: date, sql: str, p: dict, *, after_id: int | None,
           limit: int) -> DrillOut:
    """A page of the customers a SELECT of ids names, with the cursor to the next."""
    total, items = drill.page_of(warehouse, sql, p, after_id=after_id, limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return DrillOut(metric=metric, first_day=first, last_day=last, total=total, items=items,
                    next_cursor=encode_cursor(items[-1].customer_id) if more else None)


def cell_ids(warehouse: Warehouse, *, actor: Actor, cell: Cell, now: datetime | None = None) -> list[int]:
    """Every customer id behind a report's cell."""
    _, _, sql, p = _cell(warehouse, actor, cell, now)
    return [row[0] for row in warehouse.query(f"{sql} ORDER BY 1", p)]
