"""Referral programmes, invite codes, attribution, conversion rewards, the review queue and KOC distribution.

The rules are the pure core's (`core.py`); this module reads and writes the rows around them. Rewards go out
through loyalty (points, coupons) only after the hold; commissions go to the one ledger (`commissions.service`).
"""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yutang.commissions import core as commission_core
from yutang.commissions import service as commissions
from yutang.customers import service as customers_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, FieldError, Invalid, NotFound
from yutang.loyalty import coupons, points
from yutang.orders import service as orders_service
from yutang.referral import core
from yutang.referral.core import RewardState
from yutang.referral.models import (
    Distributor,
    DistributorBinding,
    ReferralAttribution,
    ReferralCode,
    ReferralProgramme,
    ReferralTierAward,
)
from yutang.referral.schemas import ConfigIn, Decision, DistributorStatus, ProgrammeIn, ProgrammeKind
from yutang.storage import dialect, outbox
from yutang.storage.scoped import get_in_workspace
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

SOURCE = "referral"


def refuse_violations(config: dict) -> None:
    """Raise Invalid naming every field and rule a configuration breaks; nothing is written."""
    found = core.check_programme(config)
    if found:
        raise Invalid("the programme breaks " + ", ".join(v.rule for v in found),
                      [FieldError(field=f"config.{v.field}", message=f"{v.rule}: {v.message}") for v in found])


def create_programme(session: Session, *, actor: Actor, data: ProgrammeIn) -> ReferralProgramme:
    """A programme whose rules keep the law (depth ≤ 2, no recruiting reward, no paid entry, conversion only)."""
    actor.require(Permission.MANAGE)
    config = data.config.model_dump(mode="json")
    refuse_violations(config)
    programme = ReferralProgramme(workspace_id=actor.workspace_id, name=data.name, kind=data.kind.value,
                                  config=config)
    session.add(programme)
    session.flush()
    workspaces_service.record(session, actor=actor, action="referral.programme_created",
                              entity_type="referral_programme", entity_id=programme.id, changes={"name": data.name})
    return programme


def get_programme(session: Session, *, actor: Actor, programme_id: int) -> ReferralProgramme:
    """A programme of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, ReferralProgramme, programme_id, workspace_id=actor.workspace_id,
                            what="programme", field="programme_id")


def list_programmes(session: Session, *, actor: Actor) -> list[ReferralProgramme]:
    """The workspace's programmes, newest first."""
    actor.require(Permission.READ)
    return list(session.scalars(select(ReferralProgramme).where(ReferralProgramme.workspace_id == actor.workspace_id)
                                .order_by(ReferralProgramme.id.desc())))


def _config(programme: ReferralProgramme) -> ConfigIn:
    return ConfigIn.model_validate(programme.config)


def _new_code(session: Session, model, workspace_id: int) -> str:
    while True:
        code = secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")
        if session.scalar(select(model.id).where(model.workspace_id == workspace_id, model.code == code)) is None:
            return code


def issue_code(session: Session, *, actor: Actor, programme_id: int, customer_id: int) -> ReferralCode:
    """The participant's invite code in a programme (the same one again if they have it)."""
    actor.require(Permission.WRITE)
    programme = get_programme(session, actor=actor, programme_id=programme_id)
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    customers_service.require_active(customer)
    found = session.scalar(select(ReferralCode).where(ReferralCode.workspace_id == actor.workspace_id,
                                                      ReferralCode.programme_id == programme.id,
                                                      ReferralCode.customer_id == customer.id))
    if found is not None:
        return found
    code = _new_code(session, ReferralCode, actor.workspace_id)
    row = ReferralCode(workspace_id=actor.workspace_id, programme_id=programme.id, customer_id=customer.id, code=code,
                       state=f"rf-{code}")  # a contact-way code's state: ≤ 30 characters, names the inviter
    session.add(row)
    session.flush()
    return row


def find_code(session: Session, *, actor: Actor, code: str) -> ReferralCode:
    """An invite code by its text or its WeCom state."""
    text = code.removeprefix("rf-")
    row = session.scalar(select(ReferralCode).where(ReferralCode.workspace_id == actor.workspace_id,
                                                    ReferralCode.code == text))
    if row is None:
        raise NotFound("no such invite code", field="code")
    return row


def _person(session: Session, customer_id: int, devices: set[str]) -> core.Person:
    identities = customers_service.identities_of(session, customer_ids=[customer_id])[customer_id]
    by_kind = {i.kind: i.lookup for i in identities}
    return core.Person(id=customer_id, phone=by_kind.get("phone"), unionid=by_kind.get("wechat_unionid"),
                       devices=frozenset(devices))


def _ancestors(session: Session, *, workspace_id: int, programme_id: int, customer_id: int) -> frozenset[int]:
    seen: set[int] = set()
    node = customer_id
    while True:
        parent = session.scalar(select(ReferralAttribution.inviter_id).where(
            ReferralAttribution.workspace_id == workspace_id, ReferralAttribution.programme_id == programme_id,
            ReferralAttribution.customer_id == node))
        if parent is None or parent in seen:
            return frozenset(seen)
        seen.add(parent)
        node = parent


def was_customer(session: Session, *, actor: Actor, customer_id: int, before: datetime) -> bool:
    """Whether someone already bought before being invited (then they are not a new customer)."""
    bought = orders_service.purchase_totals_of(session, actor=actor, customer_ids=[customer_id])
    return customer_id in bought and bought[customer_id][1] <= before


def touch(session: Session, *, actor: Actor, code: str, customer_id: int, at: datetime | None = None,
          device: str | None = None) -> ReferralAttribution:
    """Credit an invitee to the code's inviter: the first touch inside the window wins, the invitee is unique,
    an existing customer is refused (nothing written); fraud flags send it to the review queue."""
    actor.require(Permission.WRITE)
    at = at or utcnow()
    row = find_code(session, actor=actor, code=code)
    programme = get_programme(session, actor=actor, programme_id=row.programme_id)
    settings = _config(programme)
    referee = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    customers_service.require_active(referee)
    if was_customer(session, actor=actor, customer_id=referee.id, before=at):
        raise Invalid("this person already was a customer, so inviting them earns no reward", field="customer_id")
    if referee.id == row.customer_id:
        raise Invalid("an inviter cannot invite themselves", field="customer_id")
    existing = session.scalar(dialect.of(session).lock(select(ReferralAttribution).where(
        ReferralAttribution.workspace_id == actor.workspace_id, ReferralAttribution.programme_id == programme.id,
        ReferralAttribution.customer_id == referee.id)))
    if existing is not None:
        touches = [core.Touch(existing.inviter_id, existing.touched_at), core.Touch(row.customer_id, at)]
        winner = core.attribute(touches, converted_at=at, window_days=settings.window_days, referee=referee.id,
                                referee_was_customer=False)
        if winner == existing.inviter_id or existing.state != RewardState.PENDING or existing.converted_at:
            return existing  # first touch inside the window wins; a converted invitee stays with their inviter
        existing.inviter_id, existing.code_id, existing.touched_at = row.customer_id, row.id, at
        existing.updated_at = utcnow()
        attribution = existing
    else:
        attribution = ReferralAttribution(workspace_id=actor.workspace_id, programme_id=programme.id,
                                          customer_id=referee.id, inviter_id=row.customer_id, code_id=row.id,
                                          touched_at=at, device=device, state=RewardState.PENDING.value)
        session.add(attribution)
    recent = session.scalar(select(func.count()).where(
        ReferralAttribution.workspace_id == actor.workspace_id, ReferralAttribution.inviter_id == row.customer_id,
        ReferralAttribution.touched_at >= at - timedelta(days=1), ReferralAttribution.customer_id != referee.id))
    devices = dict(session.execute(select(ReferralAttribution.device, func.count()).where(
        ReferralAttribution.workspace_id == actor.workspace_id, ReferralAttribution.inviter_id == row.customer_id,
        ReferralAttribution.device.is_not(None), ReferralAttribution.customer_id != referee.id)
        .group_by(ReferralAttribution.device)).all())
    inviter_devices = set(session.scalars(select(ReferralAttribution.device).where(
        ReferralAttribution.workspace_id == actor.workspace_id, ReferralAttribution.customer_id == row.customer_id,
        ReferralAttribution.device.is_not(None))))
    context = core.Context(recent_invites=recent, velocity_limit=settings.velocity_limit, referee_devices=devices,
                           cluster_limit=settings.cluster_limit,
                           ancestors=_ancestors(session, workspace_id=actor.workspace_id, programme_id=programme.id,
                                                customer_id=row.customer_id))
    flags = core.fraud_flags(_person(session, row.customer_id, inviter_devices),
                             _person(session, referee.id, {device} if device else set()), context)
    attribution.flags = [{"code": f.code, "reason": f.reason} for f in flags]
    if flags:
        attribution.state = RewardState.FLAGGED.value
    session.flush()
    return attribution


def get_attribution(session: Session, *, actor: Actor, attribution_id: int) -> ReferralAttribution:
    """A referral of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, ReferralAttribution, attribution_id, workspace_id=actor.workspace_id,
                            what="referral", field="attribution_id")


def list_attributions(session: Session, *, actor: Actor, programme_id: int | None = None,
                      state: str | None = None, limit: int = 500) -> list[ReferralAttribution]:
    """Referrals, newest first (state=flagged is the review queue)."""
    actor.require(Permission.READ)
    query = select(ReferralAttribution).where(ReferralAttribution.workspace_id == actor.workspace_id)
    if programme_id is not None:
        query = query.where(ReferralAttribution.programme_id == programme_id)
    if state:
        query = query.where(ReferralAttribution.state == state)
    return list(session.scalars(query.order_by(ReferralAttribution.id.desc()).limit(limit)))


def _approve(session: Session, *, actor: Actor, attribution: ReferralAttribution, settings: ConfigIn,
             at: datetime) -> None:
    attribution.state = RewardState.APPROVED.value
    attribution.converted_at = attribution.converted_at or at
    attribution.hold_until = at + timedelta(days=settings.hold_days)
    attribution.updated_at = utcnow()
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.REFERRAL_COMPLETED, entity_id=attribution.id,
                payload={"programme_id": attribution.programme_id, "attribution_id": attribution.id,
                         "customer_id": attribution.inviter_id, "referee_id": attribution.customer_id,
                         "occurred_at": at.isoformat()})


def convert(session: Session, *, actor: Actor, customer_id: int, order_id: int | None, paid_fen: int | None,
            at: datetime) -> list[ReferralAttribution]:
    """An invitee converted (a paid order, or still a friend after N days): pending referrals whose rule it meets
    are approved (Referral Completed), held until the refund window closes."""
    made = []
    for attribution in session.scalars(select(ReferralAttribution).where(
            ReferralAttribution.workspace_id == actor.workspace_id, ReferralAttribution.customer_id == customer_id,
            ReferralAttribution.state.in_([RewardState.PENDING.value, RewardState.FLAGGED.value]),
            ReferralAttribution.converted_at.is_(None))):
        programme = session.get(ReferralProgramme, attribution.programme_id)
        settings = _config(programme)
        if at > attribution.touched_at + timedelta(days=settings.window_days) and order_id is not None:
            continue  # converted after the attribution window
        facts = core.Conversion(first_paid_fen=paid_fen, added_at=attribution.touched_at,
                                still_friend=order_id is None)
        if not core.reward_earned(settings.reward.model_dump(), facts, now=at):
            continue
        attribution.order_id = order_id
        attribution.converted_at = at
        if attribution.state == RewardState.PENDING:
            _approve(session, actor=actor, attribution=attribution, settings=settings, at=at)
        made.append(attribution)
    session.flush()
    return made


def void_for(session: Session, *, actor: Actor, customer_id: int, reason: str, order_id: int | None = None) -> int:
    """Void the rewards still held for an invitee (a refund of the converting order, or a deleted friendship:
    `delete_invalid`); an issued reward stays issued."""
    query = select(ReferralAttribution).where(
        ReferralAttribution.workspace_id == actor.workspace_id, ReferralAttribution.customer_id == customer_id,
        ReferralAttribution.state.in_([RewardState.PENDING.value, RewardState.APPROVED.value,
                                       RewardState.FLAGGED.value]))
    if order_id is not None:
        query = query.where(ReferralAttribution.order_id == order_id)
    count = 0
    for attribution in session.scalars(query):
        attribution.state = RewardState.VOIDED.value
        attribution.reason = reason
        attribution.updated_at = utcnow()
        count += 1
    session.flush()
    return count


def review(session: Session, *, actor: Actor, attribution_id: int, decision: Decision,
           reason: str = "") -> ReferralAttribution:
    """Approve or void a flagged referral from the review queue."""
    actor.require(Permission.MANAGE)
    attribution = get_attribution(session, actor=actor, attribution_id=attribution_id)
    if attribution.state != RewardState.FLAGGED:
        raise Conflict(f"only a flagged referral is reviewed; this one is {attribution.state}", field="attribution_id")
    if decision is Decision.VOID:
        attribution.state = RewardState.VOIDED.value
        attribution.reason = reason or "voided in review"
    elif attribution.converted_at is None:
        attribution.state = RewardState.PENDING.value  # cleared; it still needs its conversion
    else:
        programme = session.get(ReferralProgramme, attribution.programme_id)
        _approve(session, actor=actor, attribution=attribution, settings=_config(programme),
                 at=attribution.converted_at)
    attribution.updated_at = utcnow()
    workspaces_service.record(session, actor=actor, action=f"referral.{decision.value}", entity_type="referral",
                              entity_id=attribution.id, changes={"reason": reason})
    session.flush()
    return attribution


def _give(session: Session, *, actor: Actor, customer_id: int, points_: int, template_id: int | None, key: str,
          reason: str) -> dict:
    given = {}
    if points_ > 0:
        entry, _ = points.earn(session, actor=actor, customer_id=customer_id, points=points_, key=f"{key}:points",
                               reason=reason, source_type="referral", source_ref=key)
        given["points_entry_id"] = entry.id
    if template_id is not None:
        coupon, _ = coupons.issue(session, actor=actor, template_id=template_id, customer_id=customer_id,
                                  key=f"{key}:coupon", reason=reason)
        given["coupon_id"] = coupon.id
    return given


def settle(session: Session, *, actor: Actor, now: datetime | None = None) -> int:
    """Issue, through loyalty, every approved reward whose hold is over, then the tiers inviters reached."""
    now = now or utcnow()
    for attribution in list(session.scalars(select(ReferralAttribution).where(
            ReferralAttribution.workspace_id == actor.workspace_id,
            ReferralAttribution.state == RewardState.PENDING.value, ReferralAttribution.converted_at.is_(None)))):
        settings = _config(session.get(ReferralProgramme, attribution.programme_id))
        if settings.reward.trigger != core.Trigger.STILL_FRIEND:
            continue
        still = any(m.left_at is None for m in customers_service.memberships_of(
            session, customer_id=attribution.customer_id))
        facts = core.Conversion(added_at=attribution.touched_at, still_friend=still)
        if core.reward_earned(settings.reward.model_dump(), facts, now=now):
            attribution.converted_at = now
            _approve(session, actor=actor, attribution=attribution, settings=settings, at=now)
    issued = 0
    inviters: set[tuple[int, int]] = set()
    for attribution in session.scalars(select(ReferralAttribution).where(
            ReferralAttribution.workspace_id == actor.workspace_id,
            ReferralAttribution.state == RewardState.APPROVED.value, ReferralAttribution.hold_until <= now)
            .order_by(ReferralAttribution.id)):
        settings = _config(session.get(ReferralProgramme, attribution.programme_id))
        attribution.reward = _give(session, actor=actor, customer_id=attribution.inviter_id,
                                   points_=settings.reward.points, template_id=settings.reward.coupon_template_id,
                                   key=f"referral:{attribution.id}", reason="referral reward")
        attribution.state = RewardState.ISSUED.value
        attribution.updated_at = now
        inviters.add((attribution.programme_id, attribution.inviter_id))
        issued += 1
    for programme_id, inviter_id in sorted(inviters):
        settings = _config(session.get(ReferralProgramme, programme_id))
        valid = session.scalar(select(func.count()).where(
            ReferralAttribution.workspace_id == actor.workspace_id, ReferralAttribution.programme_id == programme_id,
            ReferralAttribution.inviter_id == inviter_id, ReferralAttribution.state == RewardState.ISSUED.value))
        done = set(session.scalars(select(ReferralTierAward.count).where(
            ReferralTierAward.workspace_id == actor.workspace_id, ReferralTierAward.programme_id == programme_id,
            ReferralTierAward.customer_id == inviter_id)))
        for tier in core.tiers_reached([t.model_dump() for t in settings.tiers], valid=valid, issued=done):
            given = _give(session, actor=actor, customer_id=inviter_id, points_=tier["points"],
                          template_id=tier["coupon_template_id"],
                          key=f"referral-tier:{programme_id}:{inviter_id}:{tier['count']}",
                          reason=f"referral tier {tier['count']}")
            session.add(ReferralTierAward(workspace_id=actor.workspace_id, programme_id=programme_id,
                                          customer_id=inviter_id, count=tier["count"], reward=given))
    session.flush()
    return issued


def tree(session: Session, *, actor: Actor, programme_id: int) -> tuple[list[ReferralAttribution], core.TreeFigures]:
    """A programme's invite tree and its figures (K-factor, cycle time, cost per valid invitee, flag rate)."""
    programme = get_programme(session, actor=actor, programme_id=programme_id)
    settings = _config(programme)
    rows = list(session.scalars(select(ReferralAttribution).where(
        ReferralAttribution.workspace_id == actor.workspace_id, ReferralAttribution.programme_id == programme.id)
        .order_by(ReferralAttribution.touched_at, ReferralAttribution.id)))
    seeds = set(session.scalars(select(ReferralCode.customer_id).where(
        ReferralCode.workspace_id == actor.workspace_id, ReferralCode.programme_id == programme.id)))
    edges = [core.Edge(r.inviter_id, r.customer_id, r.touched_at,
                       valid=r.state in (RewardState.APPROVED, RewardState.ISSUED),
                       flagged=bool(r.flags), cost_fen=settings.reward.points if r.state == RewardState.ISSUED else 0)
             for r in rows]
    return rows, core.tree_figures(edges, seeds=seeds)


# Distribution (分销).

def apply_distributor(session: Session, *, actor: Actor, programme_id: int, customer_id: int,
                      parent_code: str | None = None) -> Distributor:
    """A customer applies to distribute (no fee, no purchase needed); an operator approves them."""
    actor.require(Permission.WRITE)
    programme = get_programme(session, actor=actor, programme_id=programme_id)
    if programme.kind != ProgrammeKind.DISTRIBUTION:
        raise Invalid("distributors join a distribution programme", field="programme_id")
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    customers_service.require_active(customer)
    if session.scalar(select(Distributor.id).where(Distributor.workspace_id == actor.workspace_id,
                                                   Distributor.customer_id == customer.id)) is not None:
        raise Conflict("this customer is a distributor already", field="customer_id")
    parent = find_distributor(session, actor=actor, code=parent_code) if parent_code else None
    row = Distributor(workspace_id=actor.workspace_id, programme_id=programme.id, customer_id=customer.id,
                      code=_new_code(session, Distributor, actor.workspace_id), status="applied",
                      parent_id=parent.id if parent else None)
    session.add(row)
    session.flush()
    return row


def find_distributor(session: Session, *, actor: Actor, code: str) -> Distributor:
    """A distributor by code."""
    row = session.scalar(select(Distributor).where(Distributor.workspace_id == actor.workspace_id,
                                                   Distributor.code == code))
    if row is None:
        raise NotFound("no such distributor code", field="code")
    return row


def get_distributor(session: Session, *, actor: Actor, distributor_id: int) -> Distributor:
    """A distributor of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Distributor, distributor_id, workspace_id=actor.workspace_id,
                            what="distributor", field="distributor_id")


def list_distributors(session: Session, *, actor: Actor) -> list[Distributor]:
    """The workspace's distributors."""
    actor.require(Permission.READ)
    return list(session.scalars(select(Distributor).where(Distributor.workspace_id == actor.workspace_id)
                                .order_by(Distributor.id)))


def set_status(session: Session, *, actor: Actor, distributor_id: int, status: DistributorStatus) -> Distributor:
    """Approve or suspend a distributor."""
    actor.require(Permission.MANAGE)
    row = get_distributor(session, actor=actor, distributor_id=distributor_id)
    row.status = status.value
    row.updated_at = utcnow()
    workspaces_service.record(session, actor=actor, action=f"distributor.{status.value}", entity_type="distributor",
                              entity_id=row.id, changes={"status": status.value})
    session.flush()
    return row


def bind(session: Session, *, actor: Actor, code: str, customer_id: int,
         at: datetime | None = None) -> DistributorBinding:
    """Bind a customer to a distributor through their link or code; a binding in force is protected (no
    snatching) until it expires."""
    actor.require(Permission.WRITE)
    at = at or utcnow()
    distributor = find_distributor(session, actor=actor, code=code)
    if distributor.status != "approved":
        raise Invalid("this distributor is not approved", field="code")
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    settings = _config(session.get(ReferralProgramme, distributor.programme_id))
    found = session.scalar(dialect.of(session).lock(select(DistributorBinding).where(
        DistributorBinding.workspace_id == actor.workspace_id, DistributorBinding.customer_id == customer.id)))
    expires = at + timedelta(days=settings.binding_days)
    if found is None:
        found = DistributorBinding(workspace_id=actor.workspace_id, customer_id=customer.id,
                                   distributor_id=distributor.id, bound_at=at, expires_at=expires)
        session.add(found)
    elif found.expires_at <= at or found.distributor_id == distributor.id:
        found.distributor_id, found.bound_at, found.expires_at = distributor.id, at, expires
    session.flush()
    return found


def _chain(session: Session, *, workspace_id: int, customer_id: int, at: datetime) -> list[Distributor]:
    """Who earns on a customer's order: the distributor bound then (or the customer, for a self-purchase rebate),
    then that distributor's approved parent."""
    own = session.scalar(select(Distributor).where(Distributor.workspace_id == workspace_id,
                                                   Distributor.customer_id == customer_id,
                                                   Distributor.status == "approved"))
    if own is not None and _config(session.get(ReferralProgramme, own.programme_id)).self_rebate:
        first = own
    else:
        binding = session.scalar(select(DistributorBinding).where(
            DistributorBinding.workspace_id == workspace_id, DistributorBinding.customer_id == customer_id,
            DistributorBinding.bound_at <= at, DistributorBinding.expires_at > at))
        first = session.get(Distributor, binding.distributor_id) if binding else None
    if first is None or first.status != "approved":
        return []
    chain = [first]
    parent = session.get(Distributor, first.parent_id) if first.parent_id else None
    if parent is not None and parent.status == "approved":
        chain.append(parent)
    return chain


def _lines(session: Session, *, order) -> list[commission_core.Line]:
    (shown,) = orders_service.present(session, orders=[order])
    return [commission_core.Line(line.line_no, line.sku, line.category, line.amount_fen, line.refunded_fen)
            for line in shown.lines]


def commission_order(session: Session, *, actor: Actor, order_id: int) -> list:
    """Post an order's commissions to the ledger for the chain of distributors bound to its buyer; refused for
    an order that was not paid (a cancelled one)."""
    order = orders_service.get_order(session, actor=actor, order_id=order_id)
    if not orders_service.is_paid(order.status):
        raise Invalid(f"a commission is paid on a paid order only; this one is {order.status}", field="order_id")
    if order.customer_id is None:
        return []
    chain = _chain(session, workspace_id=actor.workspace_id, customer_id=order.customer_id, at=order.paid_at)
    if not chain:
        return []
    settings = _config(session.get(ReferralProgramme, chain[0].programme_id))
    rates = [commission_core.Rates(default_bp=rate,
                                   by_sku=tuple(settings.rates_by_sku.items()) if level == 0 else (),
                                   by_category=tuple(settings.rates_by_category.items()) if level == 0 else ())
             for level, rate in enumerate(settings.rates_bp)]
    return commissions.post_order(
        session, actor=actor, source=SOURCE, order_id=order.id, status=order.status, paid_fen=order.paid_fen,
        refunded_fen=order.refunded_fen, lines=_lines(session, order=order),
        chain=[commissions.Beneficiary("distributor", d.id) for d in chain], rates=rates,
        depth=settings.commission_depth, cap_bp=settings.cap_bp, paid_at=order.paid_at,
        after_sales_days=settings.after_sales_days, customer_id=order.customer_id)


def refund_order(session: Session, *, actor: Actor, order_id: int) -> list:
    """Reverse the ledger entries an order's refunds touch (exactly) and void referral rewards it earned."""
    order = orders_service.get_order(session, actor=actor, order_id=order_id)
    reversals = commissions.reverse_for_refund(session, actor=actor, order_id=order.id,
                                               refunded_fen=order.refunded_fen, lines=_lines(session, order=order),
                                               customer_id=order.customer_id)
    if order.customer_id is not None:
        void_for(session, actor=actor, customer_id=order.customer_id, order_id=order.id, reason="refunded")
    return reversals


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: the loser's codes, referrals, tier awards, distributor row and binding go to the winner; where the
    winner holds the same one already (a code in the programme, a referral, a binding), the winner's is kept."""
    moved = 0
    unique = {ReferralCode: ("programme_id",), ReferralAttribution: ("programme_id",),
              ReferralTierAward: ("programme_id", "count"), Distributor: (), DistributorBinding: ()}
    for model, keys in unique.items():
        for row in list(session.scalars(select(model).where(model.customer_id == from_id))):
            clash = select(model.id).where(model.workspace_id == row.workspace_id, model.customer_id == to_id,
                                           *[getattr(model, k) == getattr(row, k) for k in keys])
            if session.scalar(clash) is not None:
                session.delete(row)
            else:
                row.customer_id = to_id
                moved += 1
        session.flush()
    for row in session.scalars(select(ReferralAttribution).where(ReferralAttribution.inviter_id == from_id)):
        row.inviter_id = to_id
        moved += 1
    session.flush()
    return moved


def export(session: Session, *, customer_id: int) -> dict:
    """What referral holds on a customer."""
    def rows(model, column):
        return [{c.name: getattr(r, c.name) for c in model.__table__.columns}
                for r in session.scalars(select(model).where(column == customer_id))]
    return {"codes": rows(ReferralCode, ReferralCode.customer_id),
            "invited": rows(ReferralAttribution, ReferralAttribution.inviter_id),
            "invited_by": rows(ReferralAttribution, ReferralAttribution.customer_id),
            "distributor": rows(Distributor, Distributor.customer_id),
            "binding": rows(DistributorBinding, DistributorBinding.customer_id)}


def erase(session: Session, *, customer_id: int) -> None:
    """Drop the device ids recorded with the customer's referrals."""
    for row in session.scalars(select(ReferralAttribution).where(ReferralAttribution.customer_id == customer_id)):
        row.device = None
