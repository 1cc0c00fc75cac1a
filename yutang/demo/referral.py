"""Demo referral and distribution: a 老带新 programme with a small share tree (two levels of invitees, one flagged
self-referral, rewards issued after the hold) and a small KOC network whose orders post commissions, one partly
refunded, with a payout batch — all through the domains' own flows and the outbox subscriber."""

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from yutang.commissions import service as commissions
from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn, IdentityIn, IdentityKind
from yutang.kit.clock import utcnow
from yutang.orders import service as orders_service
from yutang.orders.schemas import OrderIn
from yutang.referral import service as referral
from yutang.referral.schemas import DistributorStatus, ProgrammeIn
from yutang.storage.engine import unit_of_work
from yutang.workspaces.access import Actor

CHANNEL = "mini-program"
INVITEES = ["林晓", "周宁", "吴桐", "郑好", "孙悦", "钱多多", "冯雪", "陈默"]
KOCS = [("茶话阿青", None), ("品茗小鹿", None), ("小安", 0), ("木子", 0), ("春山", 1)]
BUYERS = ["何田", "吕方", "施然", "张弛", "孔明月", "曹露"]


def _person(session: Session, actor: Actor, name: str, number: int, at: datetime) -> int:
    return customers_service.create(session, actor=actor, data=CustomerIn(
        name=name, first_seen_at=at,
        identities=[IdentityIn(kind=IdentityKind.PHONE, value=f"1391717{number:04d}")])).id


def _order(session: Session, actor: Actor, external_id: str, customer_id: int, at: datetime,
           lines: list[tuple[str, str, int]], refunds: list[int] | None = None) -> int:
    refunds = refunds or [0] * len(lines)
    paid, refunded = sum(a for *_, a in lines), sum(refunds)
    order, _, _ = orders_service.record_order(session, actor=actor, data=OrderIn.model_validate({
        "external_id": external_id, "channel": CHANNEL, "customer_id": customer_id,
        "status": "partially_refunded" if refunded else "paid", "placed_at": at.isoformat(),
        "paid_at": at.isoformat(), "paid_fen": paid, "total_fen": paid, "refunded_fen": refunded,
        "lines": [{"sku": sku, "category": category, "quantity": 1, "unit_price_fen": amount, "refunded_fen": r}
                  for (sku, category, amount), r in zip(lines, refunds, strict=True)]}))
    return order.id


def seed(factory: sessionmaker[Session], catch_up, *, actor: Actor, inviters: list[int]) -> int:
    """Seed both programmes; `catch_up` runs the pipeline (the subscriber posts entries and completes referrals).
    Returns how many customers it created."""
    now = utcnow()
    created = 0
    with unit_of_work(factory) as session:
        programme = referral.create_programme(session, actor=actor, data=ProgrammeIn.model_validate({
            "name": "老带新 · 春茶季", "kind": "referral", "config": {
                "window_days": 14, "hold_days": 7, "tiers": [{"count": 3, "points": 1000}],
                "reward": {"trigger": "first_order", "min_order_fen": 9900, "points": 200}}}))
        codes = [referral.issue_code(session, actor=actor, programme_id=programme.id, customer_id=c).code
                 for c in inviters[:3]]
        invitees = []
        for n, name in enumerate(INVITEES):
            touched = now - timedelta(days=14 - n // 3)
            invitee = _person(session, actor, name, n, touched - timedelta(minutes=5))
            created += 1
            if n < 5:
                code = codes[0] if n < 3 else codes[1]
            else:  # the second level: an invitee invites a friend in turn
                code = referral.issue_code(session, actor=actor, programme_id=programme.id,
                                           customer_id=invitees[n - 5]).code
            referral.touch(session, actor=actor, code=code, customer_id=invitee, at=touched,
                           device="demo-device-7" if n in (2, 7) else None)  # 7 on the phone of 2, who invited them
            invitees.append(invitee)
        for n, invitee in enumerate(invitees[:6]):
            _order(session, actor, f"REF-{n}", invitee, now - timedelta(days=10 - n // 3),
                   [("GT-001", "绿茶", 16800)] if n != 4 else [("BT-001", "红茶", 9800), ("TW-001", "茶具", 8800)])
    catch_up()
    with unit_of_work(factory) as session:
        referral.settle(session, actor=actor, now=now)
    created += _koc(factory, catch_up, actor=actor, now=now)
    return created


def _koc(factory: sessionmaker[Session], catch_up, *, actor: Actor, now: datetime) -> int:
    with unit_of_work(factory) as session:
        programme = referral.create_programme(session, actor=actor, data=ProgrammeIn.model_validate({
            "name": "KOC 分销", "kind": "distribution", "config": {
                "commission_depth": 2, "rates_bp": [1000, 300], "rates_by_category": {"茶具": 1500},
                "after_sales_days": 7, "binding_days": 30}}))
        distributors = []
        for n, (name, parent) in enumerate(KOCS):
            customer = _person(session, actor, name, 100 + n, now - timedelta(days=40))
            row = referral.apply_distributor(session, actor=actor, programme_id=programme.id, customer_id=customer,
                                             parent_code=distributors[parent].code if parent is not None else None)
            referral.set_status(session, actor=actor, distributor_id=row.id, status=DistributorStatus.APPROVED)
            distributors.append(row)
        applicant = _person(session, actor, "新申请的茶友", 120, now - timedelta(days=2))
        referral.apply_distributor(session, actor=actor, programme_id=programme.id, customer_id=applicant)
        buyers = []
        for n, name in enumerate(BUYERS):
            buyer = _person(session, actor, name, 200 + n, now - timedelta(days=30))
            referral.bind(session, actor=actor, code=distributors[n % len(distributors)].code, customer_id=buyer,
                          at=now - timedelta(days=25))
            buyers.append(buyer)
        for n, buyer in enumerate(buyers):
            at = now - timedelta(days=12 if n < 4 else 2)
            _order(session, actor, f"KOC-{n}", buyer, at, [("OT-002", "乌龙茶", 19800), ("TW-002", "茶具", 15900)])
    catch_up()
    with unit_of_work(factory) as session:  # the cup of one order comes back
        _order(session, actor, "KOC-1", buyers[1], now - timedelta(days=12),
               [("OT-002", "乌龙茶", 19800), ("TW-002", "茶具", 15900)], refunds=[0, 15900])
    catch_up()
    with unit_of_work(factory) as session:
        commissions.release_due(session, actor=actor, now=now)
        commissions.create_batch(session, actor=actor, withholding_bp=0)
    return len(KOCS) + 1 + len(BUYERS)
