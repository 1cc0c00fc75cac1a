"""Coupons: templates, issuing (one, in bulk, as a reward) within stock and per-customer limits, redeeming against
an order exactly once, expiry and per-template statistics.

Issuing locks the template row (stock and limits are checked under it); redeeming locks the coupon row, so of
two concurrent redemptions one wins and the other sees the coupon redeemed and gets a 409.
"""

import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.loyalty import points, tiers
from yutang.loyalty.errors import CouponNotApplicable, CouponUnavailable
from yutang.loyalty.models import Coupon, CouponTemplate
from yutang.loyalty.schemas import BulkIssueOut, CouponKind, CouponRedeemIn, CouponTemplateIn, TemplateStats
from yutang.segments import service as segments_service
from yutang.segments.membership import Membership
from yutang.storage import outbox
from yutang.storage.scoped import get_in_workspace
from yutang.storage.topics import Topic
from yutang.tags import service as tags_service
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud and typed


def create_template(session: Session, *, actor: Actor, data: CouponTemplateIn) -> CouponTemplate:
    """Add a coupon template."""
    actor.require(Permission.BULK)
    template = CouponTemplate(workspace_id=actor.workspace_id, issued_count=0, **data.model_dump())
    session.add(template)
    session.flush()
    workspaces_service.record(session, actor=actor, action="coupon_template.created", entity_type="coupon_template",
                              entity_id=template.id, changes=data.model_dump(mode="json"))
    return template


def update_template(session: Session, *, actor: Actor, template_id: int, data: CouponTemplateIn) -> CouponTemplate:
    """Replace a template's definition (coupons already issued keep their dates)."""
    actor.require(Permission.BULK)
    template = _template(session, actor, template_id, lock=True)
    if data.total_stock is not None and data.total_stock < template.issued_count:
        raise Invalid(f"{template.issued_count} coupons are already issued", field="total_stock")
    for name, value in data.model_dump().items():
        setattr(template, name, value)
    workspaces_service.record(session, actor=actor, action="coupon_template.updated", entity_type="coupon_template",
                              entity_id=template.id, changes=data.model_dump(mode="json"))
    return template


def _template(session: Session, actor: Actor, template_id: int, *, lock: bool = False) -> CouponTemplate:
    query = select(CouponTemplate).where(CouponTemplate.id == template_id,
                                         CouponTemplate.workspace_id == actor.workspace_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    template = session.scalar(query)
    if template is None:
        raise NotFound("no such coupon template", field="template_id")
    return template


def get_template(session: Session, *, actor: Actor, template_id: int) -> CouponTemplate:
    """One template of the workspace."""
    actor.require(Permission.READ)
    return _template(session, actor, template_id)


def list_templates(session: Session, *, actor: Actor) -> list[CouponTemplate]:
    """The workspace's templates, newest first."""
    actor.require(Permission.READ)
    return list(session.scalars(select(CouponTemplate).where(CouponTemplate.workspace_id == actor.workspace_id)
                                .order_by(CouponTemplate.id.desc())))


def _expiry(template: CouponTemplate, *, now: datetime, zone: str) -> datetime | None:
    ends = [template.valid_until] if template.valid_until else []
    if template.valid_days:
        # N days from issue means through the end of the Nth local day.
        last = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=template.valid_days)
        ends.append(datetime.combine(last, time(), tzinfo=ZoneInfo(zone)))
    return min(ends) if ends else None


def _find_issued(session: Session, workspace_id: int, key: str) -> Coupon | None:
    return session.scalar(select(Coupon).where(Coupon.workspace_id == workspace_id, Coupon.issue_key == key))


def _why_not(session: Session, actor: Actor, template: CouponTemplate, customer_id: int, now: datetime) -> str | None:
    if not template.active:
        return "inactive"
    if template.valid_until and template.valid_until <= now:
        return "ended"
    if template.total_stock is not None and template.issued_count >= template.total_stock:
        return "out_of_stock"
    if template.tier_ids and tiers.tier_id_of(session, workspace_id=actor.workspace_id,
                                              customer_id=customer_id) not in template.tier_ids:
        return "tier"
    held = session.scalar(select(func.count()).select_from(Coupon).where(Coupon.template_id == template.id,
                                                                        Coupon.customer_id == customer_id))
    if held >= template.per_customer_limit:
        return "limit"
    return None


REASONS = {"inactive": "the template is inactive", "ended": "the template's validity has ended",
           "out_of_stock": "the template is out of stock", "tier": "the coupon is for other tiers",
           "limit": "the customer already holds as many as allowed"}


def _issue_locked(session: Session, actor: Actor, template: CouponTemplate, customer_id: int, key: str,
                  reason: str, now: datetime) -> Coupon:
    coupon = Coupon(workspace_id=actor.workspace_id, template_id=template.id, customer_id=customer_id,
                    code="".join(secrets.choice(CODE_ALPHABET) for _ in range(12)), issue_key=key, status="issued",
                    valid_from=max(now, template.valid_from) if template.valid_from else now,
                    expires_at=_expiry(template, now=now, zone=actor.timezone), reason=reason)
    session.add(coupon)
    template.issued_count += 1
    session.flush()
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.COUPON_ISSUED, entity_id=coupon.id,
                payload={"coupon_id": coupon.id, "template_id": template.id, "customer_id": customer_id,
                         "kind": template.kind, "reason": reason,
                         "expires_at": coupon.expires_at.isoformat() if coupon.expires_at else None})
    return coupon


def issue(session: Session, *, actor: Actor, template_id: int, customer_id: int, key: str, reason: str = "",
          now: datetime | None = None) -> tuple[Coupon, bool]:
    """Issue one coupon (to a customer, or as a reward); the same key again returns the first coupon."""
    actor.require(Permission.WRITE)
    existing = _find_issued(session, actor.workspace_id, key)
    if existing is not None:
        return existing, False
    customer_id = points.resolve_customer(session, actor=actor, customer_id=customer_id)
    template = _template(session, actor, template_id, lock=True)
    existing = _find_issued(session, actor.workspace_id, key)  # issued while we waited for the lock
    if existing is not None:
        return existing, False
    now = now or utcnow()
    why = _why_not(session, actor, template, customer_id, now)
    if why is not None:
        raise CouponUnavailable(f"cannot issue: {REASONS[why]}", field="template_id")
    return _issue_locked(session, actor, template, customer_id, key, reason, now), True


def segment_members(session: Session, *, actor: Actor, segment_id: int, membership: Membership | None
                    ) -> list[int]:
    """Everyone in a segment now: a static segment's list, or a dynamic one's materialised membership."""
    segment = segments_service.get(session, actor=actor, segment_id=segment_id)
    if segment.kind == segments_service.STATIC:
        def page(after: int | None) -> list[int]:
            return segments_service.static_members(session, segment=segment, after_id=after, limit=MEMBER_PAGE)
    elif membership is None:
        raise Invalid("this segment's membership lives in the warehouse, which is not open here",
                      field="segment_id")
    else:
        def page(after: int | None) -> list[int]:
            return [cid for cid, _ in membership.members(segment_id=segment.id, after_id=after, limit=MEMBER_PAGE)]
    members, after = [], None
    while batch := page(after):  # keyset pages, ascending ids
        members.extend(batch)
        after = batch[-1]
        if len(batch) < MEMBER_PAGE:
            break
    return members


MEMBER_PAGE = 10_000


def bulk_issue(session: Session, *, actor: Actor, template_id: int, key: str, customer_ids: list[int] | None = None,
               tag_id: int | None = None, segment_id: int | None = None, membership: Membership | None = None,
               reason: str = "") -> BulkIssueOut:
    """Issue to many customers (a list, everyone with a tag, or a segment's members): one per customer per key
    (`<key>:<customer>`, so repeating the call issues nothing twice); the rest counted."""
    actor.require(Permission.BULK)
    if tag_id is not None:
        tags_service.get_tag(session, actor=actor, tag_id=tag_id)
        customer_ids = list(session.scalars(tags_service.customers_with(actor, tag_ids=[tag_id])))
    if segment_id is not None:
        customer_ids = segment_members(session, actor=actor, segment_id=segment_id, membership=membership)
    template = _template(session, actor, template_id, lock=True)
    now = utcnow()
    issued, already, skipped = 0, 0, {}
    for customer_id in sorted(set(customer_ids or [])):
        per_key = f"{key}:{customer_id}"
        if _find_issued(session, actor.workspace_id, per_key) is not None:
            already += 1
            continue
        try:
            resolved = points.resolve_customer(session, actor=actor, customer_id=customer_id)
        except (NotFound, Conflict):
            skipped["unknown_or_inactive_customer"] = skipped.get("unknown_or_inactive_customer", 0) + 1
            continue
        why = _why_not(session, actor, template, resolved, now)
        if why is not None:
            skipped[why] = skipped.get(why, 0) + 1
            continue
        _issue_locked(session, actor, template, resolved, per_key, reason, now)
        issued += 1
    workspaces_service.record(session, actor=actor, action="coupon.bulk_issued", entity_type="coupon_template",
                              entity_id=template.id, changes={"issued": issued, "already": already,
                                                              "skipped": skipped, "tag_id": tag_id,
                                                              "segment_id": segment_id})
    return BulkIssueOut(issued=issued, already=already, skipped=skipped)


def discount_for(template: CouponTemplate, data: CouponRedeemIn) -> int:
    """The discount in fen a template gives an order (gift coupons give goods, not money)."""
    amount = data.order_amount_fen
    if template.kind in (CouponKind.FIXED, CouponKind.THRESHOLD):
        return min(template.value_fen, amount)
    if template.kind == CouponKind.PERCENT:
        off = amount * template.percent_off // 100
        return min(off, template.cap_fen) if template.cap_fen else off
    if template.kind == CouponKind.FREE_SHIPPING:
        return data.shipping_fen
    return 0


def get_coupon(session: Session, *, actor: Actor, coupon_id: int) -> Coupon:
    """One coupon of the workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, Coupon, coupon_id, workspace_id=actor.workspace_id, what="coupon",
                            field="coupon_id")


def redeem(session: Session, *, actor: Actor, coupon_id: int, data: CouponRedeemIn,
           now: datetime | None = None) -> tuple[Coupon, bool]:
    """Redeem against an order exactly once: the same order again returns the first result; another order, an
    expired or not yet valid coupon gets a 409; an order below the threshold or outside the channels a 422."""
    actor.require(Permission.WRITE)
    coupon = session.scalar(select(Coupon).where(Coupon.id == coupon_id, Coupon.workspace_id == actor.workspace_id)
                            .with_for_update().execution_options(populate_existing=True))
    if coupon is None:
        raise NotFound("no such coupon", field="coupon_id")
    if coupon.status == "redeemed":
        if coupon.order_ref == data.order_ref:
            return coupon, False
        raise CouponUnavailable(f"coupon already redeemed for order {coupon.order_ref}", field="coupon_id")
    now = now or utcnow()
    if coupon.status == "expired" or (coupon.expires_at and coupon.expires_at <= now):
        raise CouponUnavailable("coupon has expired", field="coupon_id")
    if coupon.valid_from > now:
        raise CouponUnavailable("coupon is not valid yet", field="coupon_id")
    template = session.get(CouponTemplate, coupon.template_id)
    if template.channels and data.channel not in template.channels:
        raise CouponNotApplicable(f"coupon is valid only in channels {', '.join(template.channels)}",
                                  field="channel")
    if data.order_amount_fen < template.threshold_fen:
        raise CouponNotApplicable(f"order must reach {template.threshold_fen} fen", field="order_amount_fen")
    coupon.status, coupon.redeemed_at, coupon.order_ref = "redeemed", now, data.order_ref
    coupon.order_amount_fen, coupon.discount_fen = data.order_amount_fen, discount_for(template, data)
    session.flush()
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.COUPON_REDEEMED, entity_id=coupon.id,
                payload={"coupon_id": coupon.id, "template_id": template.id, "customer_id": coupon.customer_id,
                         "order_ref": data.order_ref, "order_amount_fen": data.order_amount_fen,
                         "discount_fen": coupon.discount_fen, "channel": data.channel})
    return coupon, True


def expire_due(session: Session, *, now: datetime, limit: int = 1000) -> int:
    """Mark issued coupons past their end as expired (the nightly job); returns how many."""
    due = list(session.scalars(select(Coupon).where(Coupon.status == "issued", Coupon.expires_at <= now)
                               .order_by(Coupon.id).limit(limit).with_for_update()))
    for coupon in due:
        coupon.status = "expired"
        outbox.emit(session, workspace_id=coupon.workspace_id, topic=Topic.COUPON_EXPIRED, entity_id=coupon.id,
                    payload={"coupon_id": coupon.id, "template_id": coupon.template_id,
                             "customer_id": coupon.customer_id})
    session.flush()
    return len(due)


def stats(session: Session, *, actor: Actor, template_ids: list[int]) -> dict[int, TemplateStats]:
    """Issued, redeemed, expired, redemption rate and GMV of orders that used each template's coupons."""
    actor.require(Permission.READ)
    redeemed = Coupon.status == "redeemed"
    rows = session.execute(
        select(Coupon.template_id, func.count(),
               func.sum(case((redeemed, 1), else_=0)), func.sum(case((Coupon.status == "expired", 1), else_=0)),
               func.coalesce(func.sum(case((redeemed, Coupon.order_amount_fen), else_=0)), 0),
               func.coalesce(func.sum(case((redeemed, Coupon.discount_fen), else_=0)), 0))
        .where(Coupon.workspace_id == actor.workspace_id, Coupon.template_id.in_(template_ids))
        .group_by(Coupon.template_id))
    out = {tid: TemplateStats(template_id=tid, issued=0, redeemed=0, expired=0, redemption_rate=0.0, gmv_fen=0,
                              discount_fen=0) for tid in template_ids}
    for tid, issued, used, expired, gmv, discount in rows:
        out[tid] = TemplateStats(template_id=tid, issued=issued, redeemed=int(used or 0), expired=int(expired or 0),
                                 redemption_rate=round(int(used or 0) / issued, 4) if issued else 0.0,
                                 gmv_fen=int(gmv), discount_fen=int(discount))
    return out


def coupons_of(session: Session, *, actor: Actor, customer_id: int) -> list[Coupon]:
    """A customer's coupons, newest first."""
    customer_id = points.visible_customer(session, actor=actor, customer_id=customer_id)
    return list(session.scalars(select(Coupon).where(Coupon.workspace_id == actor.workspace_id,
                                                     Coupon.customer_id == customer_id).order_by(Coupon.id.desc())))


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """A merged customer's coupons go to the winner."""
    return session.execute(update(Coupon).where(Coupon.customer_id == from_id)
                           .values(customer_id=to_id)).rowcount or 0


def export(session: Session, *, customer_id: int) -> list[dict]:
    """A customer's coupons for a data-subject export."""
    return [{"id": c.id, "template_id": c.template_id, "code": c.code, "status": c.status,
             "expires_at": c.expires_at.isoformat() if c.expires_at else None, "order_ref": c.order_ref}
            for c in session.scalars(select(Coupon).where(Coupon.customer_id == customer_id).order_by(Coupon.id))]
