"""Seed a demo tea brand: channels with costs, tag groups, customers across channels, orders with skew."""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from yutang.archive import service as archive_service
from yutang.channels import service as channels_service
from yutang.channels.schemas import ChannelCostIn, ChannelIn
from yutang.customers import service as customers_service
from yutang.customers.schemas import ConsentIn, CustomerIn, IdentityIn, NoteIn
from yutang.demo import crowd
from yutang.kit.clock import utcnow
from yutang.kit.errors import NotFound
from yutang.orders import service as orders_service
from yutang.orders.schemas import OrderIn, OrderLineIn, OrderStatus
from yutang.tags import service as tags_service
from yutang.tags.schemas import TagGroupIn
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse
from yutang.webhooks import service as webhooks_service
from yutang.webhooks.schemas import EndpointIn
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role, system_actor
from yutang.workspaces.schemas import MemberIn, WorkspaceIn

DEMO_SLUG = "demo-tea"
CHANNELS = [
    # code, name, kind, role, share of first touches, monthly cost in yuan
    ("wechat-oa", "公众号 · 鱼塘茶事", "wechat_service_account", "auxiliary", 0.12, 3000),
    ("mini-program", "小程序商城", "mini_program", "primary", 0.18, 5000),
    ("wecom-guides", "企业微信 · 导购", "wecom_staff", "primary", 0.16, 12000),
    ("group-vip", "会员福利群", "customer_group", "auxiliary", 0.04, 0),
    ("store-jingan", "上海静安门店", "store", "auxiliary", 0.12, 20000),
    ("tmall-flagship", "天猫旗舰店", "tmall_shop", "auxiliary", 0.20, 30000),
    ("jd-store", "京东自营店", "jd_shop", "auxiliary", 0.08, 15000),
    ("douyin-shop", "抖音小店", "douyin_shop", "auxiliary", 0.08, 25000),
    ("ads-moments", "朋友圈广告", "paid_ads", "auxiliary", 0.02, 40000),
]
PRODUCTS = [  # sku, name, category, price in fen
    ("GT-001", "明前龙井 100g", "绿茶", 16800), ("GT-002", "碧螺春 100g", "绿茶", 12800),
    ("BT-001", "正山小种 150g", "红茶", 9800), ("BT-002", "滇红金芽 100g", "红茶", 13800),
    ("OT-001", "铁观音 250g", "乌龙茶", 15800), ("OT-002", "大红袍 125g", "乌龙茶", 19800),
    ("PT-001", "普洱熟茶饼 357g", "普洱", 26800), ("TW-001", "汝窑盖碗", "茶具", 8800),
    ("TW-002", "便携旅行茶具", "茶具", 15900), ("GF-001", "新春礼盒", "礼盒", 39800),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"
TAG_GROUPS = [("兴趣偏好", ["绿茶", "红茶", "乌龙茶", "普洱", "茶具"]), ("客户来源", ["门店扫码", "直播间", "老带新"]),
              ("服务标记", ["VIP", "需回访", "投诉过"])]


@dataclass
class DemoResult:
    """What the seeder made: the workspace and a fresh owner key."""

    workspace_id: int
    slug: str
    key: str
    customers: int
    orders: int
    funnel: dict[str, int] = field(default_factory=dict)


def seed(session: Session, *, warehouse: DuckDBWarehouse | PostgresWarehouse, showcase: int = 200,
         visitors: int = 60_000, rng_seed: int = 7) -> DemoResult:
    """Create the demo workspace (or issue a new key if it exists) and fill it.

    `showcase` customers go through the services (notes, consents, merges, full audit); `visitors` walk through
    the department-store funnel in bulk (yutang.demo.crowd), those who leave contact becoming customers.
    """
    try:
        workspace = workspaces_service.find_workspace(session, slug=DEMO_SLUG)
    except NotFound:
        workspace = None
    if workspace is not None:
        owner = next(m for m in workspaces_service.list_members(session, actor=system_actor(workspace.id))
                     if m.role == Role.OWNER)
        actor = system_actor(workspace.id, timezone=workspace.timezone)
        issued = workspaces_service.issue_key(session, actor=actor, member_id=owner.id, name="demo key")
        count = customers_service.count_active(session, actor=actor)
        return DemoResult(workspace.id, DEMO_SLUG, issued.secret, count, 0)
    workspace, issued = workspaces_service.create_workspace(
        session, data=WorkspaceIn(slug=DEMO_SLUG, name="鱼塘茶事 Demo Tea", timezone="Asia/Shanghai", locale="zh_CN"),
        owner_name="品牌负责人")
    actor = Actor(workspace_id=workspace.id, member_id=issued.key.member_id, role=Role.OWNER,
                  api_key_id=issued.key.id, timezone=workspace.timezone)
    rng = random.Random(rng_seed)
    guides = [workspaces_service.add_member(session, actor=actor, data=MemberIn(name=name, role=Role.GUIDE))[0]
              for name in ("导购 小美", "导购 阿杰", "导购 婷婷")]
    workspaces_service.add_member(session, actor=actor, data=MemberIn(name="数据分析师", role=Role.ANALYST))
    channels = _channels(session, actor)
    tags = _tags(session, actor)
    # An example endpoint, off: example.com receives nothing; an integrator points it at their system and turns it on.
    webhooks_service.create_endpoint(session, actor=actor, data=EndpointIn(
        url="https://example.com/yutang/webhooks", description="示例：填入 ERP / 数据平台的接收地址后启用",
        events=["Order Paid", "Points Changed", "Coupon Redeemed", "Segment Entered", "Lifecycle Stage Changed"],
        enabled=False))
    orders = 0
    today = utcnow()
    weights = [share for *_, share, _ in CHANNELS]
    for index in range(showcase):
        code = rng.choices([c[0] for c in CHANNELS], weights=weights)[0]
        seen = today - timedelta(days=rng.randint(0, 540), minutes=rng.randint(0, 1440))
        prefix = rng.choice(["138", "139", "135", "136", "186", "158", "159", "177"])
        identities = [IdentityIn(kind="phone", value=f"{prefix}{rng.randint(0, 99_999_999):08d}")]
        if code in ("wechat-oa", "mini-program", "group-vip"):
            identities.append(IdentityIn(kind="wechat_unionid", value=f"o6_bm{index:06d}{rng.randint(1000, 9999)}"))
        if code == "wecom-guides":
            identities.append(IdentityIn(kind="wecom_external_userid", value=f"wmDemo{index:06d}"))
        if code in ("tmall-flagship", "jd-store", "douyin-shop"):
            identities.append(IdentityIn(kind="marketplace_buyer", namespace=code, value=f"AAH{index:08d}"))
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        customer, _, _ = archive_service.upsert_customer(session, actor=actor, data=CustomerIn(
            name=name, gender=rng.choice(["female", "female", "male", "unknown"]), identities=identities,
            city=rng.choice(["上海", "杭州", "北京", "苏州", "深圳", "成都"]), first_channel=code, first_seen_at=seen,
            source_campaign=rng.choice([None, "双11预热", "新客首单礼", "门店开业"]),
            assigned_member_id=rng.choice(guides).id if code in ("wecom-guides", "store-jingan") else None))
        if rng.random() < 0.7:
            customers_service.record_consent(session, actor=actor, customer_id=customer.id, data=ConsentIn(
                channel=rng.choice(["wechat", "sms", "wecom"]), status="granted", method="小程序授权弹窗",
                occurred_at=seen))
        picked = [t for t in tags if rng.random() < 0.18]
        if picked:
            tags_service.apply(session, actor=actor, customer_ids=[customer.id], add=picked, remove=[], source="demo")
        if rng.random() < 0.05:
            customers_service.add_note(session, actor=actor, customer_id=customer.id,
                                       data=NoteIn(body="喜欢浓香型乌龙，春茶上新时提醒。"))
        orders += _orders(session, actor, rng, customer.id, code, seen, channels)
    funnel = crowd.populate(session, warehouse, workspace_id=workspace.id, channels=channels,
                            tag_ids=[t.id for t in tags], guide_ids=[g.id for g in guides], products=PRODUCTS,
                            passers=visitors, now=today, seed=rng_seed)
    return DemoResult(workspace.id, DEMO_SLUG, issued.secret, showcase + funnel["left contact"],
                      orders + funnel["orders"], dict(funnel))


def _channels(session: Session, actor: Actor) -> dict[str, int]:
    ids = {}
    first_month = date.today().replace(day=1)
    for code, name, kind, role, _, monthly in CHANNELS:
        channel = channels_service.create_channel(session, actor=actor, data=ChannelIn(code=code, name=name, kind=kind,
                                                                                      role=role))
        ids[code] = channel.id
        start = first_month
        for _ in range(6):
            end = start.replace(day=28) + timedelta(days=4)
            end = end - timedelta(days=end.day)
            if monthly:
                channels_service.add_cost(session, actor=actor, channel_id=channel.id, data=ChannelCostIn(
                    period_start=start, period_end=end, amount_fen=monthly * 100, note="月度投放"))
            start = (start - timedelta(days=1)).replace(day=1)
    return ids


def _tags(session: Session, actor: Actor):
    tags = []
    for order, (group, names) in enumerate(TAG_GROUPS):
        tags_service.create_group(session, actor=actor, data=TagGroupIn(name=group, order=order, tags=names))
    for group in tags_service.list_groups(session, actor=actor):
        tags.extend(tags_service.get_tag(session, actor=actor, tag_id=t.id) for t in group.tags)
    return tags


def _orders(session: Session, actor: Actor, rng: random.Random, customer_id: int, code: str, seen, channels) -> int:
    # Few heavy buyers, many one-off or none: a geometric number of orders.
    count = 0
    while rng.random() < (0.55 if count == 0 else 0.45):
        count += 1
    for number in range(count):
        placed = seen + timedelta(days=rng.randint(0, 60) * (number + 1), hours=rng.randint(0, 12))
        if placed > utcnow():
            break
        lines = [OrderLineIn(sku=sku, product_name=name, category=category, quantity=rng.choice([1, 1, 1, 2]),
                             unit_price_fen=price)
                 for sku, name, category, price in rng.sample(PRODUCTS, rng.choice([1, 1, 2, 3]))]
        status = rng.choices([OrderStatus.COMPLETED, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.REFUNDED,
                              OrderStatus.CANCELLED], weights=[70, 8, 8, 4, 4])[0]
        total = sum(line.amount_fen for line in lines)
        channel = code if code in channels and rng.random() < 0.7 else rng.choice(["mini-program", "store-jingan"])
        orders_service.record_order(session, actor=actor, data=OrderIn(
            external_id=f"{channel[:2].upper()}{customer_id:06d}{number:02d}", channel=channel, status=status,
            placed_at=placed, paid_at=None if status is OrderStatus.CANCELLED else placed + timedelta(minutes=3),
            refunded_fen=total if status is OrderStatus.REFUNDED else 0, customer_id=customer_id, lines=lines))
    return count
