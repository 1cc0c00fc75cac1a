"""Seed a demo tea brand: channels with costs, tag groups, customers across channels, orders with skew."""

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from yutang.archive import service as archive_service
from yutang.channels import service as channels_service
from yutang.channels.schemas import ChannelCostIn, ChannelIn
from yutang.customers import service as customers_service
from yutang.customers.schemas import ConsentIn, CustomerIn, IdentityIn, NoteIn
from yutang.demo import crowd, merges, sinks
from yutang.demo import groupbuy as demo_groupbuy
from yutang.demo import groups as demo_groups
from yutang.demo import journeys as demo_journeys
from yutang.demo import lifecycle as demo_lifecycle
from yutang.demo import loyalty as demo_loyalty
from yutang.demo import messaging as demo_messaging
from yutang.demo import referral as demo_referral
from yutang.demo import segments as demo_segments
from yutang.demo import stores as demo_stores
from yutang.kit.clock import utcnow
from yutang.kit.errors import NotFound
from yutang.orders import service as orders_service
from yutang.orders.schemas import OrderIn, OrderLineIn, OrderStatus
from yutang.runtime.database import Database
from yutang.runtime.pipeline import Pipeline
from yutang.tags import service as tags_service
from yutang.tags.schemas import TagGroupIn
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse
from yutang.webhooks import service as webhooks_service
from yutang.webhooks.schemas import EndpointIn
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role, system_actor
from yutang.workspaces.schemas import MemberIn, WorkspaceIn

DEMO_SLUG = "demo-tea"
DEMO_KEY_NAMES = ("owner key", "demo key")  # the keys the demo printed (the first run's is the workspace's own)
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
    created: bool = False
    timings: dict[str, float] = field(default_factory=dict)  # seconds per part, in the order seeded
    actor: Actor | None = None
    people: list[merges.Person] = field(default_factory=list)
    coupon_templates: dict[str, int] = field(default_factory=dict)
    green_tea_tag_id: int = 0
    store_channel_id: int = 0
    picked: list[int] = field(default_factory=list)
    owner_id: int | None = None


@contextmanager
def timed(timings: dict[str, float], part: str) -> Iterator[None]:
    """Add the seconds the block takes to timings[part]."""
    started = time.monotonic()
    try:
        yield
    finally:
        timings[part] = timings.get(part, 0.0) + time.monotonic() - started


def seed_brand(database: Database, pipeline: Pipeline, *, sinks: sinks.Sinks, showcase: int = 200,
               visitors: int = 60_000, rng_seed: int = 7, slug: str = DEMO_SLUG) -> DemoResult:
    """Seed the whole demo brand on the first run, each domain's part through its own flows; on a later run issue a
    new key and point the messaging channels at this run's sinks."""
    timings: dict[str, float] = {}
    with database.unit_of_work() as session:
        result = seed(session, warehouse=pipeline.warehouse, showcase=showcase, visitors=visitors,
                      rng_seed=rng_seed, timings=timings, slug=slug)
    result.timings = timings
    if not result.created:
        with timed(timings, "messaging"), database.unit_of_work() as session:
            demo_messaging.configure(session, actor=system_actor(result.workspace_id), sinks=sinks)
        return result
    factory, actor, rng = database.factory, result.actor, random.Random(rng_seed)
    with timed(timings, "warehouse catch-up"):
        pipeline.catch_up()
    with timed(timings, "lifecycle"):
        demo_lifecycle.seed(factory, pipeline.warehouse, actor=actor)
    with timed(timings, "segments"):
        segment_ids = demo_segments.seed(factory, pipeline.segments, actor=actor,
                                         green_tea_tag_id=result.green_tea_tag_id,
                                         store_channel_id=result.store_channel_id, picked=result.picked)
    with timed(timings, "loyalty"), database.unit_of_work() as session:
        demo_loyalty.activity(session, actor=actor, membership=pipeline.segments, segment_ids=segment_ids,
                              templates=result.coupon_templates, people=[p.customer_id for p in result.people],
                              store_dir=database.settings.data_dir, rng=rng)
    with timed(timings, "messaging"):
        demo_messaging.seed(factory, pipeline, actor=actor, sinks=sinks, segment_ids=segment_ids,
                            people=result.people, rng=rng)
    with timed(timings, "message history"), database.unit_of_work() as session:
        sms = demo_messaging.configure(session, actor=actor, sinks=sinks)[demo_messaging.SMS]
        crowd.touch_history(session, pipeline.warehouse, workspace_id=result.workspace_id, config_id=sms,
                            now=utcnow())
    with timed(timings, "journeys"):
        members = {name: [cid for cid, _ in pipeline.segments.members(segment_id=segment_ids[name], after_id=None,
                                                                       limit=60)]
                   for name in ("新客首购", "沉睡唤醒")}
        demo_journeys.seed(factory, actor=actor, sms_channel_id=sms, sleepers_segment_id=segment_ids["沉睡唤醒"],
                           welcome_ids=members["新客首购"] or [p.customer_id for p in result.people],
                           win_back_ids=members["沉睡唤醒"],
                           in_segment=lambda s, c: pipeline.segments.is_member(segment_id=s, customer_id=c))
        with factory() as session:
            tested = list(session.scalars(customers_service.visible_ids(actor).limit(1000)))
        demo_journeys.experiment(factory, pipeline.warehouse, actor=actor, customer_ids=tested,
                                 in_segment=lambda s, c: pipeline.segments.is_member(segment_id=s, customer_id=c))
    with timed(timings, "referral"):
        result.customers += demo_referral.seed(factory, pipeline.catch_up, actor=actor,
                                               inviters=[p.customer_id for p in result.people])
    with timed(timings, "warehouse catch-up"):
        pipeline.catch_up()
    return result


def seed(session: Session, *, warehouse: DuckDBWarehouse | PostgresWarehouse, showcase: int = 200,
         visitors: int = 60_000, rng_seed: int = 7, timings: dict[str, float] | None = None,
         slug: str = DEMO_SLUG) -> DemoResult:
    """Create the demo workspace (or, if it exists, replace the owner's demo key) and fill it.

    `showcase` customers go through the services (notes, consents, merges, full audit); `visitors` walk through
    the department-store funnel in bulk (yutang.demo.crowd), those who leave contact becoming customers.
    """
    timings = {} if timings is None else timings
    try:
        workspace = workspaces_service.find_workspace(session, slug=slug)
    except NotFound:
        workspace = None
    if workspace is not None:
        owner = next(m for m in workspaces_service.list_members(session, actor=system_actor(workspace.id))
                     if m.role == Role.OWNER)
        actor = system_actor(workspace.id, timezone=workspace.timezone)
        # Each run prints a fresh owner key: the ones printed before stop working rather than piling up.
        for key in workspaces_service.list_keys(session, actor=actor):
            if key.member_id == owner.id and key.name in DEMO_KEY_NAMES and key.revoked_at is None:
                workspaces_service.revoke_key(session, actor=actor, key_id=key.id)
        issued = workspaces_service.issue_key(session, actor=actor, member_id=owner.id, name="demo key")
        count = customers_service.count_active(session, actor=actor)
        return DemoResult(workspace.id, slug, issued.secret, count, 0, owner_id=owner.id)
    started = time.monotonic()
    workspace, issued = workspaces_service.create_workspace(
        session, data=WorkspaceIn(slug=slug, name="鱼塘茶事 Demo Tea", timezone="Asia/Shanghai", locale="zh_CN"),
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
    with timed(timings, "loyalty programme"):
        coupon_templates = demo_loyalty.programme(session, actor=actor)
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
    timings["showcase customers"] = time.monotonic() - started - timings["loyalty programme"]
    with timed(timings, "OneID merges"):
        people = merges.seed(session, actor=actor, rng=rng, products=PRODUCTS)
    with timed(timings, "crowd"):
        funnel = crowd.populate(session, warehouse, workspace_id=workspace.id, channels=channels,
                                tag_ids=[t.id for t in tags], guide_ids=[g.id for g in guides], products=PRODUCTS,
                                passers=visitors, now=today, seed=rng_seed)
    with timed(timings, "stores"):
        wecom_config = demo_stores.seed(session, actor=actor, guides=guides, rng=rng)
    with timed(timings, "groups"):
        joined = demo_groups.seed(session, actor=actor, guides=guides, config_id=wecom_config, rng=rng, today=today)
    with timed(timings, "groupbuy"):
        demo_groupbuy.seed(session, actor=actor, customer_ids=[p.customer_id for p in people], rng=rng, today=today)
    return DemoResult(workspace.id, slug, issued.secret, showcase + len(people) + funnel["left contact"] + joined,
                      orders + len(people) + funnel["orders"], dict(funnel), created=True, actor=actor, people=people,
                      coupon_templates=coupon_templates, green_tea_tag_id=next(t.id for t in tags if t.name == "绿茶"),
                      store_channel_id=channels["store-jingan"], picked=[p.customer_id for p in people],
                      owner_id=issued.key.member_id)


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
