"""Earn rules: points per yuan of paid orders (tier multipliers, category exclusions) and per event (with daily
and total caps in the workspace's time zone); refunds take back what their order earned, pro rata."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict
from yutang.loyalty import ledger, points, tiers
from yutang.loyalty.models import EarnRule, PointsEntry
from yutang.loyalty.schemas import EarnRuleIn, EntryKind, RuleKind
from yutang.storage.scoped import get_in_workspace
from yutang.storage.topics import Topic
from yutang.warehouse.replica import Change
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission, system_actor


def create_rule(session: Session, *, actor: Actor, data: EarnRuleIn) -> EarnRule:
    """Add an earn rule."""
    actor.require(Permission.ADMIN)
    rule = EarnRule(workspace_id=actor.workspace_id, updated_at=utcnow(), **data.model_dump(mode="json"))
    session.add(rule)
    session.flush()
    workspaces_service.record(session, actor=actor, action="earn_rule.created", entity_type="earn_rule",
                              entity_id=rule.id, changes=data.model_dump(mode="json"))
    return rule


def update_rule(session: Session, *, actor: Actor, rule_id: int, data: EarnRuleIn) -> EarnRule:
    """Replace an earn rule (points already earned stay)."""
    actor.require(Permission.ADMIN)
    rule = get_rule(session, actor=actor, rule_id=rule_id)
    for name, value in data.model_dump(mode="json").items():
        setattr(rule, name, value)
    rule.updated_at = utcnow()
    workspaces_service.record(session, actor=actor, action="earn_rule.updated", entity_type="earn_rule",
                              entity_id=rule.id, changes=data.model_dump(mode="json"))
    return rule


def get_rule(session: Session, *, actor: Actor, rule_id: int) -> EarnRule:
    """One rule of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, EarnRule, rule_id, workspace_id=actor.workspace_id, what="earn rule",
                            field="rule_id")


def list_rules(session: Session, *, actor: Actor) -> list[EarnRule]:
    """The workspace's rules."""
    actor.require(Permission.READ)
    return list(session.scalars(select(EarnRule).where(EarnRule.workspace_id == actor.workspace_id)
                                .order_by(EarnRule.id)))


def _active(session: Session, workspace_id: int, kind: RuleKind) -> list[EarnRule]:
    return list(session.scalars(select(EarnRule).where(EarnRule.workspace_id == workspace_id,
                                                       EarnRule.kind == kind.value, EarnRule.active.is_(True))
                                .order_by(EarnRule.id)))


def order_points(rule: EarnRule, payload: dict, *, multiplier_pct: int) -> int:
    """Points an order earns under a rule: paid yuan on eligible lines × rate × tier multiplier, rounded down."""
    lines = payload.get("lines") or []
    excluded = set(rule.excluded_categories or [])
    total = sum(line["amount_fen"] for line in lines)
    eligible = sum(line["amount_fen"] for line in lines if line.get("category") not in excluded)
    # Discounts spread over the lines: the eligible share of what was actually paid.
    paid = payload["paid_fen"] if not total else payload["paid_fen"] * eligible // total
    return paid * rule.points_per_yuan * multiplier_pct // (100 * 100)


def _actor(session: Session, workspace_id: int) -> Actor:
    zone = workspaces_service.get_workspace(session, workspace_id=workspace_id).timezone
    return system_actor(workspace_id, timezone=zone)


def on_order_paid(session: Session, *, workspace_id: int, payload: dict) -> list[PointsEntry]:
    """Award each active order rule's points for a paid order (key order:<id>:earn:<rule>)."""
    if not payload.get("customer_id"):
        return []
    rules = _active(session, workspace_id, RuleKind.ORDER)
    if not rules:
        return []
    actor = _actor(session, workspace_id)
    try:
        customer_id = points.resolve_customer(session, actor=actor, customer_id=payload["customer_id"])
    except Conflict:  # erased since the order was paid: nothing to award
        return []
    multiplier = tiers.multiplier_pct(session, workspace_id=workspace_id, customer_id=customer_id)
    paid_at = datetime.fromisoformat(payload["paid_at"]) if payload.get("paid_at") else None
    made = []
    for rule in rules:
        amount = order_points(rule, payload, multiplier_pct=multiplier)
        if amount > 0:
            entry, created = points.earn(session, actor=actor, customer_id=customer_id, points=amount,
                                         key=f"order:{payload['id']}:earn:{rule.id}", reason=rule.name,
                                         source_type="order", source_ref=str(payload["id"]), rule_id=rule.id,
                                         occurred_at=paid_at)
            if created:
                made.append(entry)
    if made:
        tiers.evaluate(session, actor=actor, customer_id=customer_id)
    return made


def on_order_refunded(session: Session, *, workspace_id: int, payload: dict) -> list[PointsEntry]:
    """Take back, pro rata to the refunded share, what the order earned (even if spent)."""
    earned = list(session.scalars(select(PointsEntry).where(
        PointsEntry.workspace_id == workspace_id, PointsEntry.source_type == "order",
        PointsEntry.source_ref == str(payload["id"]), PointsEntry.kind == EntryKind.EARN.value)
        .order_by(PointsEntry.id)))
    if not earned:
        return []
    actor = _actor(session, workspace_id)
    made = []
    for entry in earned:
        target = ledger.pro_rata(entry.points, refunded_fen=payload["refunded_fen"], paid_fen=payload["paid_fen"])
        due = target - points.reversed_total(session, entry_id=entry.id)
        if due > 0:
            reversal, created = points.reverse(
                session, actor=actor, entry_id=entry.id, points=due,
                key=f"order:{payload['id']}:refund:{payload['refunded_fen']}:{entry.id}",
                reason=f"refund of {payload['refunded_fen']} fen", source_type="order", source_ref=str(payload["id"]))
            if created and reversal is not None:
                made.append(reversal)
    return made


def handle_order_change(session: Session, change: Change) -> None:
    """Outbox subscriber for order.paid and order.refunded."""
    if change.topic == Topic.ORDER_PAID:
        on_order_paid(session, workspace_id=change.workspace_id, payload=change.payload)
    elif change.topic == Topic.ORDER_REFUNDED:
        on_order_refunded(session, workspace_id=change.workspace_id, payload=change.payload)


def day_window(at: datetime, zone: str) -> tuple[datetime, datetime]:
    """The local calendar day containing `at`, as UTC-comparable bounds."""
    day = at.astimezone(ZoneInfo(zone)).date()
    start = datetime.combine(day, time(), tzinfo=ZoneInfo(zone))
    return start, start + timedelta(days=1)


def event_rules(session: Session) -> dict[int, list[EarnRule]]:
    """Active event rules of every workspace."""
    found: dict[int, list[EarnRule]] = {}
    for rule in session.scalars(select(EarnRule).where(EarnRule.kind == RuleKind.EVENT.value,
                                                       EarnRule.active.is_(True)).order_by(EarnRule.id)):
        found.setdefault(rule.workspace_id, []).append(rule)
    return found


def on_event(session: Session, *, actor: Actor, rule: EarnRule, customer_id: int, message_id: str,
             at: datetime) -> PointsEntry | None:
    """Award an event rule's points for one event, within the daily cap (workspace day) and total cap."""
    key = f"event:{message_id}:{rule.id}"
    if points.find_entry(session, workspace_id=actor.workspace_id, key=key) is not None:
        return None
    customer_id = points.resolve_customer(session, actor=actor, customer_id=customer_id)
    points.lock_account(session, actor=actor, customer_id=customer_id)  # caps are read under the account lock
    mine = select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.workspace_id == actor.workspace_id, PointsEntry.customer_id == customer_id,
        PointsEntry.rule_id == rule.id)
    amount = rule.points
    if rule.daily_cap:
        start, end = day_window(at, actor.timezone)
        today = session.scalar(mine.where(PointsEntry.occurred_at >= start, PointsEntry.occurred_at < end))
        amount = min(amount, rule.daily_cap - today)
    if rule.total_cap:
        amount = min(amount, rule.total_cap - session.scalar(mine))
    if amount <= 0:
        return None
    entry, created = points.earn(session, actor=actor, customer_id=customer_id, points=amount, key=key,
                                 reason=rule.name, source_type="event", source_ref=message_id, rule_id=rule.id,
                                 occurred_at=at)
    if not created:
        return None
    tiers.evaluate(session, actor=actor, customer_id=customer_id)
    return entry
