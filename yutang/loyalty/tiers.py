"""Member tiers: reached on points earned or spend in a rolling window (never the balance), upgraded at once,
downgraded only at the period end after a grace period; history and benefits."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, NotFound
from yutang.loyalty import config, ledger
from yutang.loyalty.models import CustomerTier, PointsEntry, Tier, TierChange
from yutang.loyalty.schemas import CustomerTierOut, EntryKind, TierChangeOut, TierIn, TierOut
from yutang.orders import service as orders_service
from yutang.storage import outbox
from yutang.storage.scoped import get_in_workspace
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission, system_actor


def create_tier(session: Session, *, actor: Actor, data: TierIn) -> Tier:
    """Add a tier; ranks are unique in a workspace."""
    actor.require(Permission.ADMIN)
    if session.scalar(select(Tier.id).where(Tier.workspace_id == actor.workspace_id, Tier.rank == data.rank)):
        raise Conflict(f"a tier with rank {data.rank} exists", field="rank")
    tier = Tier(workspace_id=actor.workspace_id, **data.model_dump(mode="json"))
    session.add(tier)
    session.flush()
    workspaces_service.record(session, actor=actor, action="tier.created", entity_type="tier", entity_id=tier.id,
                              changes=data.model_dump(mode="json"))
    return tier


def update_tier(session: Session, *, actor: Actor, tier_id: int, data: TierIn) -> Tier:
    """Replace a tier's definition."""
    actor.require(Permission.ADMIN)
    tier = get_in_workspace(session, Tier, tier_id, workspace_id=actor.workspace_id, what="tier", field="tier_id")
    clash = session.scalar(select(Tier.id).where(Tier.workspace_id == actor.workspace_id, Tier.rank == data.rank,
                                                 Tier.id != tier.id))
    if clash:
        raise Conflict(f"a tier with rank {data.rank} exists", field="rank")
    for name, value in data.model_dump(mode="json").items():
        setattr(tier, name, value)
    workspaces_service.record(session, actor=actor, action="tier.updated", entity_type="tier", entity_id=tier.id,
                              changes=data.model_dump(mode="json"))
    return tier


def list_tiers(session: Session, *, actor: Actor) -> list[Tier]:
    """The workspace's tiers, lowest first."""
    actor.require(Permission.READ)
    return list(session.scalars(select(Tier).where(Tier.workspace_id == actor.workspace_id).order_by(Tier.rank)))


def window_start(now: datetime, *, months: int, zone: str) -> datetime:
    """Start of the rolling window: the same local day `months` earlier, at local midnight."""
    local = now.astimezone(ZoneInfo(zone)).date()
    start = ledger.add_months(local, -months)
    return datetime.combine(start, datetime.min.time(), tzinfo=ZoneInfo(zone))


def basis(session: Session, *, actor: Actor) -> str:
    """What tier thresholds count: 'earned' (points) or 'spend' (fen)."""
    actor.require(Permission.READ)
    return config.settings_of(session, workspace_id=actor.workspace_id).tier_basis


def qualifying(session: Session, *, actor: Actor, customer_id: int, now: datetime | None = None) -> int:
    """Points earned (net of reversals) or spend in fen (net of refunds) in the rolling window."""
    settings = config.settings_of(session, workspace_id=actor.workspace_id)
    since = window_start(now or utcnow(), months=settings.tier_window_months, zone=actor.timezone)
    if settings.tier_basis == "spend":
        orders = orders_service.list_orders(session, actor=actor, customer_id=customer_id, limit=100_000)
        return sum(o.paid_fen - o.refunded_fen for o in orders
                   if orders_service.is_paid(o.status) and o.paid_at >= since)
    total = session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.workspace_id == actor.workspace_id, PointsEntry.customer_id == customer_id,
        PointsEntry.kind.in_([EntryKind.EARN.value, EntryKind.REVERSE.value]), PointsEntry.occurred_at >= since))
    return int(total or 0)


def _target(tiers: list[Tier], value: int) -> Tier | None:
    reached = [tier for tier in tiers if tier.threshold <= value]
    return reached[-1] if reached else None


def _period_end(now: datetime, settings) -> datetime:
    return now + timedelta(days=round(settings.tier_window_months * 30.44))


def _change(session: Session, *, actor: Actor, holding: CustomerTier, to: Tier | None, value: int, reason: str,
            now: datetime) -> None:
    before = holding.tier_id
    holding.tier_id = to.id if to else None
    holding.since = now
    session.add(TierChange(workspace_id=actor.workspace_id, customer_id=holding.customer_id, from_tier_id=before,
                           to_tier_id=holding.tier_id, qualifying=value, reason=reason))
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.TIER_CHANGED, entity_id=holding.customer_id,
                payload={"customer_id": holding.customer_id, "from_tier_id": before, "to_tier_id": holding.tier_id,
                         "tier_name": to.name if to else None, "qualifying": value, "reason": reason})


def evaluate(session: Session, *, actor: Actor, customer_id: int, now: datetime | None = None) -> Tier | None:
    """Upgrade at once when the window's figure reaches a higher tier (never downgrades); returns the tier held."""
    tiers = list_tiers(session, actor=actor)
    if not tiers:
        return None
    now = now or utcnow()
    settings = config.settings_of(session, workspace_id=actor.workspace_id)
    holding = session.scalar(select(CustomerTier).where(CustomerTier.workspace_id == actor.workspace_id,
                                                        CustomerTier.customer_id == customer_id).with_for_update())
    value = qualifying(session, actor=actor, customer_id=customer_id, now=now)
    target = _target(tiers, value)
    rank = {tier.id: tier.rank for tier in tiers}
    if holding is None:
        if target is None:
            return None
        holding = CustomerTier(workspace_id=actor.workspace_id, customer_id=customer_id, tier_id=None, since=now,
                               review_at=_period_end(now, settings))
        session.add(holding)
    if target is not None and target.rank > rank.get(holding.tier_id, 0):
        _change(session, actor=actor, holding=holding, to=target, value=value, reason="upgrade", now=now)
        holding.review_at = _period_end(now, settings)
    session.flush()
    return next((tier for tier in tiers if tier.id == holding.tier_id), None)


def review_due(session: Session, *, workspace_id: int, now: datetime, limit: int = 500) -> tuple[int, int]:
    """At period end plus the grace period, move customers to the tier their window now earns (up or down);
    returns (reviewed, changed)."""
    settings = config.settings_of(session, workspace_id=workspace_id)
    cutoff = now - timedelta(days=settings.tier_grace_days)
    due = list(session.scalars(select(CustomerTier).where(CustomerTier.workspace_id == workspace_id,
                                                          CustomerTier.review_at <= cutoff)
                               .order_by(CustomerTier.id).limit(limit).with_for_update()))
    if not due:
        return 0, 0
    zone = workspaces_service.get_workspace(session, workspace_id=workspace_id).timezone
    actor = system_actor(workspace_id, timezone=zone)
    tiers = list_tiers(session, actor=actor)
    changed = 0
    for holding in due:
        value = qualifying(session, actor=actor, customer_id=holding.customer_id, now=now)
        target = _target(tiers, value)
        if (target.id if target else None) != holding.tier_id:
            old_rank = next((t.rank for t in tiers if t.id == holding.tier_id), 0)
            reason = "downgrade" if (target.rank if target else 0) < old_rank else "upgrade"
            _change(session, actor=actor, holding=holding, to=target, value=value, reason=reason, now=now)
            changed += 1
        holding.review_at = _period_end(now, settings)
    session.flush()
    return len(due), changed


def due_workspaces(session: Session, *, now: datetime) -> list[int]:
    """Workspaces with tier holdings past their review date (the job then applies each one's grace period)."""
    return list(session.scalars(select(CustomerTier.workspace_id).where(CustomerTier.review_at <= now).distinct()))


def multiplier_pct(session: Session, *, workspace_id: int, customer_id: int) -> int:
    """The points multiplier (percent) of the customer's tier; 100 without one."""
    value = session.scalar(select(Tier.multiplier_pct).join(CustomerTier, CustomerTier.tier_id == Tier.id)
                           .where(CustomerTier.workspace_id == workspace_id, CustomerTier.customer_id == customer_id))
    return value or 100


def tier_id_of(session: Session, *, workspace_id: int, customer_id: int) -> int | None:
    """The id of the tier a customer holds, if any."""
    return session.scalar(select(CustomerTier.tier_id).where(CustomerTier.workspace_id == workspace_id,
                                                              CustomerTier.customer_id == customer_id))


def tier_names_of(session: Session, *, actor: Actor, customer_ids: list[int]) -> dict[int, str]:
    """The name of the tier each of these customers holds (those without one are left out)."""
    found: dict[int, str] = {}
    for start in range(0, len(customer_ids), 1000):
        rows = session.execute(
            select(CustomerTier.customer_id, Tier.name).join(Tier, Tier.id == CustomerTier.tier_id)
            .where(CustomerTier.workspace_id == actor.workspace_id,
                   CustomerTier.customer_id.in_(customer_ids[start:start + 1000])))
        found.update({customer_id: name for customer_id, name in rows})
    return found


def customer_tier(session: Session, *, actor: Actor, customer_id: int) -> CustomerTierOut:
    """A customer's tier with benefits, qualifying figure and history."""
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    holding = session.scalar(select(CustomerTier).where(CustomerTier.workspace_id == actor.workspace_id,
                                                        CustomerTier.customer_id == customer.id))
    tier = session.get(Tier, holding.tier_id) if holding and holding.tier_id else None
    history = session.scalars(select(TierChange).where(TierChange.customer_id == customer.id)
                              .order_by(TierChange.id.desc()))
    return CustomerTierOut(customer_id=customer.id, tier=TierOut.model_validate(tier) if tier else None,
                           since=holding.since if holding else None, review_at=holding.review_at if holding else None,
                           qualifying=qualifying(session, actor=actor, customer_id=customer.id),
                           history=[TierChangeOut.model_validate(change) for change in history])


def get_tier(session: Session, *, actor: Actor, tier_id: int) -> Tier:
    """One tier of the workspace."""
    actor.require(Permission.READ)
    tier = session.get(Tier, tier_id)
    if tier is None or tier.workspace_id != actor.workspace_id:
        raise NotFound("no such tier", field="tier_id")
    return tier


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Merges keep the higher of the two tiers and both histories."""
    loser = session.scalar(select(CustomerTier).where(CustomerTier.customer_id == from_id))
    moved = session.execute(update(TierChange).where(TierChange.customer_id == from_id)
                            .values(customer_id=to_id)).rowcount or 0
    if loser is None:
        return moved
    winner = session.scalar(select(CustomerTier).where(CustomerTier.customer_id == to_id))
    rank = {t.id: t.rank for t in session.scalars(select(Tier).where(Tier.workspace_id == loser.workspace_id))}
    if winner is None:
        loser.customer_id = to_id
    else:
        if rank.get(loser.tier_id, 0) > rank.get(winner.tier_id, 0):
            winner.tier_id, winner.since, winner.review_at = loser.tier_id, loser.since, loser.review_at
        session.execute(delete(CustomerTier).where(CustomerTier.id == loser.id))
    session.flush()
    return moved


def export(session: Session, *, customer_id: int) -> dict:
    """A customer's tier and history for a data-subject export."""
    holding = session.scalar(select(CustomerTier).where(CustomerTier.customer_id == customer_id))
    changes = session.scalars(select(TierChange).where(TierChange.customer_id == customer_id).order_by(TierChange.id))
    return {"tier_id": holding.tier_id if holding else None,
            "history": [{"from": c.from_tier_id, "to": c.to_tier_id, "reason": c.reason,
                         "at": c.created_at.isoformat()} for c in changes]}
