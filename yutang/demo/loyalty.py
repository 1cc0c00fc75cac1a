"""Demo loyalty programme: earn rules and three tiers set up before the first orders (so those orders earn points
and lift tiers through the order subscriber), then coupons issued and redeemed, point tasks with proofs waiting
for review and a few corrections — through the loyalty flows the API uses."""

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from yutang.loyalty import coupons, point_tasks, points, rules, tiers
from yutang.loyalty.schemas import (
    Benefit,
    CouponKind,
    CouponRedeemIn,
    CouponTemplateIn,
    EarnRuleIn,
    PointTaskIn,
    ReviewIn,
    RuleKind,
    TierIn,
)
from yutang.workspaces.access import Actor

TIERS = [("银卡会员", 1, 300, 100, [Benefit.FREE_SHIPPING]),
         ("金卡会员", 2, 1500, 120, [Benefit.FREE_SHIPPING, Benefit.BIRTHDAY_GIFT, Benefit.NEW_PRODUCT_TRIALS]),
         ("黑金会员", 3, 4000, 150, [Benefit.FREE_SHIPPING, Benefit.BIRTHDAY_GIFT, Benefit.NEW_PRODUCT_TRIALS,
                                  Benefit.EXCLUSIVE_SERVICE, Benefit.FREE_RETURNS])]
WAVE = 150  # customers a list-based coupon wave reaches


def programme(session: Session, *, actor: Actor) -> dict[str, int]:
    """Earn rules, tiers and coupon templates; the template ids by name."""
    rules.create_rule(session, actor=actor, data=EarnRuleIn(name="消费 1 元得 1 积分", kind=RuleKind.ORDER,
                                                            points_per_yuan=1, excluded_categories=["礼盒"]))
    rules.create_rule(session, actor=actor, data=EarnRuleIn(name="每日签到", kind=RuleKind.EVENT,
                                                            event_name="Signed In", points=5, daily_cap=5))
    rules.create_rule(session, actor=actor, data=EarnRuleIn(name="发表评价", kind=RuleKind.EVENT,
                                                            event_name="Review Posted", points=20, total_cap=200))
    tier_ids = [tiers.create_tier(session, actor=actor, data=TierIn(
        name=name, rank=rank, threshold=threshold, multiplier_pct=multiplier, benefits=benefits)).id
        for name, rank, threshold, multiplier, benefits in TIERS]
    templates = [
        CouponTemplateIn(name="新客立减 20 元", kind=CouponKind.FIXED, value_fen=2000, valid_days=30,
                         per_customer_limit=1),
        CouponTemplateIn(name="满 300 减 50", kind=CouponKind.THRESHOLD, value_fen=5000, threshold_fen=30000,
                         valid_days=60, total_stock=5000),
        CouponTemplateIn(name="金卡专享 9 折", kind=CouponKind.PERCENT, percent_off=10, cap_fen=10000,
                         valid_days=90, tier_ids=tier_ids[1:]),
        CouponTemplateIn(name="沉睡唤醒包邮券", kind=CouponKind.FREE_SHIPPING, valid_days=30),
    ]
    return {data.name: coupons.create_template(session, actor=actor, data=data).id for data in templates}


def activity(session: Session, *, actor: Actor, membership, segment_ids: dict[str, int], templates: dict[str, int],
             people: list[int], store_dir: Path, rng: random.Random) -> None:
    """Coupons to segments (some redeemed), point-task proofs (some reviewed, most waiting) and corrections, by
    members of the high-value segment (and the merged customers)."""
    coupons.bulk_issue(session, actor=actor, template_id=templates["满 300 减 50"], key="demo-高价值复购",
                       segment_id=segment_ids["高价值复购"], membership=membership, reason="高价值复购 人群发券")
    # The newest first-time buyers and a first wave of sleepers: a list each, as an operator picks from a segment.
    for template, segment in (("新客立减 20 元", "新客首购"), ("沉睡唤醒包邮券", "沉睡唤醒")):
        members = coupons.segment_members(session, actor=actor, segment_id=segment_ids[segment], membership=membership)
        coupons.bulk_issue(session, actor=actor, template_id=templates[template], key=f"demo-{segment}",
                           customer_ids=members[-WAVE:], reason=f"{segment} 首批 {WAVE} 人")
    customer_ids = list(dict.fromkeys(coupons.segment_members(
        session, actor=actor, segment_id=segment_ids["高价值复购"], membership=membership) + people))
    redeemed = 0
    for customer_id in customer_ids:
        for coupon in coupons.coupons_of(session, actor=actor, customer_id=customer_id):
            if coupon.status == "issued" and rng.random() < 0.5:
                coupons.redeem(session, actor=actor, coupon_id=coupon.id, data=CouponRedeemIn(
                    order_ref=f"MP-DEMO-{coupon.id:06d}", order_amount_fen=rng.choice([32800, 45600, 59800]),
                    shipping_fen=1000, channel="mini-program"))
                redeemed += 1
        if redeemed >= 12:
            break
    review = point_tasks.create_task(session, actor=actor, data=PointTaskIn(
        name="晒单好评截图", description="在天猫或京东晒单好评，上传截图", points=50, per_customer_limit=1))
    share = point_tasks.create_task(session, actor=actor, data=PointTaskIn(
        name="朋友圈分享春茶", description="分享春茶上新到朋友圈并保留 2 小时，上传截图", points=30,
        per_customer_limit=3))
    submitted = []
    for number, customer_id in enumerate(customer_ids[:12]):
        task = review if number % 2 == 0 else share
        submitted.append(point_tasks.submit(session, actor=actor, task_id=task.id, customer_id=customer_id,
                                            note="已晒单，请审核" if task is review else "已分享",
                                            image=_screenshot(number), store_dir=store_dir))
    # The same picture sent again by someone else: the review queue flags it as a duplicate.
    submitted.append(point_tasks.submit(session, actor=actor, task_id=share.id, customer_id=customer_ids[0],
                                        note="已分享", image=_screenshot(1), store_dir=store_dir))
    for submission in submitted[:3]:
        point_tasks.review(session, actor=actor, submission_id=submission.id, data=ReviewIn(approve=True))
    point_tasks.review(session, actor=actor, submission_id=submitted[3].id,
                       data=ReviewIn(approve=False, reason="截图看不到订单号"))
    for customer_id in customer_ids[:5]:
        points.adjust(session, actor=actor, customer_id=customer_id, points=100, key=f"demo-adjust-{customer_id}",
                      reason="客服补偿：物流延误")


def _screenshot(seed: int) -> bytes:
    """A screenshot-like picture (coloured bars), different for every seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", (360, 640), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(0, 320), rng.randrange(0, 620)
        draw.rectangle([x, y, x + rng.randrange(20, 200), y + rng.randrange(6, 60)],
                       fill=tuple(rng.randrange(0, 255) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
