"""The demo brand's stores: two regions, staff behind the guides, owners, channel codes and a planned hand-over."""

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.messaging import service as messaging_service
from yutang.messaging import wecom
from yutang.messaging.schemas import ChannelConfigIn
from yutang.stores import service as stores_service
from yutang.stores.schemas import (
    CodeIn,
    HandoverIn,
    OwnershipReason,
    OwnershipSettingsIn,
    PersonaIn,
    StaffIn,
    StoreIn,
    StorePatch,
    TargetIn,
    TaskIn,
    TaskKind,
)
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Role
from yutang.workspaces.schemas import MemberIn

STORES = (  # code, name, address, latitude, longitude, region, adopted channel
    ("sh-jingan", "上海静安门店", "上海市静安区南京西路1515号", 31.2243, 121.4468, "华东", "store-jingan"),
    ("sh-xuhui", "上海徐汇门店", "上海市徐汇区虹桥路1号", 31.1946, 121.4365, "华东", None),
    ("sz-mixc", "深圳万象城门店", "深圳市罗湖区宝安南路1881号", 22.5405, 114.1115, "华南", None),
)


def seed(session: Session, *, actor: Actor, guides: list, rng: random.Random) -> int:
    """Stores, staff (the demo guides, a store manager, a region manager), owners, codes and one hand-over; returns
    the WeCom configuration's id."""
    stores_service.put_settings(session, actor=actor, data=OwnershipSettingsIn(rule="first_add_wins",
                                                                             protection_days=30))
    stores = {}
    for code, name, address, lat, lng, region, channel in STORES:
        stores[code] = stores_service.create_store(session, actor=actor, data=StoreIn(
            code=code, name=name, address=address, latitude=lat, longitude=lng, region=region,
            opening_hours="10:00-22:00", channel=channel))
    manager, _ = workspaces_service.add_member(session, actor=actor, data=MemberIn(name="店长 王静",
                                                                                  role=Role.STORE_MANAGER))
    region, _ = workspaces_service.add_member(session, actor=actor, data=MemberIn(name="区域经理 陈涛",
                                                                                 role=Role.REGION_MANAGER))
    south, _ = workspaces_service.add_member(session, actor=actor, data=MemberIn(name="导购 阿芳", role=Role.GUIDE))
    stores_service.update_store(session, actor=actor, store_id=stores["sh-jingan"].id,
                                data=StorePatch(manager_member_id=manager.id))
    homes = ("sh-jingan", "sh-jingan", "sh-xuhui")
    staff = []
    for index, (member, home) in enumerate(zip(guides, homes, strict=True)):
        staff.append(stores_service.add_staff(session, actor=actor, data=StaffIn(
            name=member.name.removeprefix("导购 "), member_id=member.id, wecom_userid=f"guide{index + 1}",
            store_id=stores[home].id)))
    stores_service.add_staff(session, actor=actor, data=StaffIn(name="王静", member_id=manager.id,
                                                                wecom_userid="manager1",
                                                                store_id=stores["sh-jingan"].id))
    stores_service.add_staff(session, actor=actor, data=StaffIn(name="陈涛", member_id=region.id,
                                                                wecom_userid="region1", region="华东"))
    fang = stores_service.add_staff(session, actor=actor, data=StaffIn(
        name="阿芳", member_id=south.id, wecom_userid="guide4", store_id=stores["sz-mixc"].id))
    for member, record in zip(guides, staff, strict=True):
        for customer_id in stores_service.owned_by(session, actor=actor, member_id=member.id):
            stores_service.move(session, actor=actor, customer_id=customer_id, member_id=member.id,
                                store_id=record.store_id, reason=OwnershipReason.FIRST_ADD)
    config = messaging_service.create_channel(session, actor=actor, data=ChannelConfigIn(
        kind="wecom", name="企业微信 · 门店活码", settings={"corp_id": "wwdemo0000000001"},
        secrets={"corp_secret": "demo-secret-not-used"}))
    codes = (
        ("jingan-door", "静安门店 · 门口海报", "store", stores["sh-jingan"].id, None, [staff[0].id], False,
         "欢迎来到鱼塘茶事静安店，小美为您服务～"),
        ("double11-warmup", "双11预热 · 轮值导购", "campaign", stores["sh-jingan"].id, "双11预热",
         [staff[0].id, staff[1].id], True, "双11预热专享：回复“茶”领取试饮券"),
        ("xuhui-tingting", "徐汇门店 · 婷婷", "guide", stores["sh-xuhui"].id, None, [staff[2].id], False, None),
    )
    for code, name, kind, store_id, campaign, staff_ids, multi, welcome in codes:
        way = f"{rng.getrandbits(128):032x}"
        stores_service.create_code(session, actor=actor, data=CodeIn(
            code=code, name=name, kind=kind, config_id=config.id, store_id=store_id, campaign=campaign,
            staff_ids=staff_ids, multi=multi, welcome_text=welcome, adopt_config_id=way,
            adopt_qr_url=f"https://wework.qpic.cn/wwpic/{way}/0"))
    for member, record in zip(guides, staff, strict=True):
        owned = stores_service.owned_by(session, actor=actor, member_id=member.id)
        externals = customers_service.identity_values(session, customer_ids=owned, kind="wecom_external_userid")
        for customer_id, external in externals.items():
            wecom.record_follow(session, actor=actor, config_id=config.id, customer_id=customer_id,
                                external_userid=external, staff_userid=record.wecom_userid)
    # The centralised mode: 小鱼, one face for the Shenzhen store's customers, run by 阿芳 and the store manager.
    stores_service.create_persona(session, actor=actor, data=PersonaIn(
        name="小鱼 · 鱼塘茶事", avatar_url="https://static.yutang.example/avatars/xiaoyu.png", wecom_alias="xiaoyu",
        external_position="茶饮顾问", external_profile={"external_corp_name": "鱼塘茶事"}, staff_ids=[fang.id]))
    _tasks(session, actor, [*staff, fang])
    _kpis(session, actor, [*staff, fang], rng)
    if stores_service.owned_by(session, actor=actor, member_id=guides[1].id):
        stores_service.start_handover(session, actor=actor, data=HandoverIn(
            config_id=config.id, from_staff_id=staff[1].id, to_staff_id=staff[0].id,
            message="阿杰调往新店，之后由小美继续为您服务", send=False))
    return config.id



def _tasks(session: Session, actor: Actor, staff: list) -> None:
    """Each guide's follow-ups: one due later today, one overdue, one next week, one done on time, one done late."""
    zone = ZoneInfo(actor.timezone)
    today = stores_service.today(actor)

    def at(days: int, hour: int) -> datetime:
        return datetime.combine(today + timedelta(days=days), time(hour), tzinfo=zone)

    for record in staff:
        owned = stores_service.owned_by(session, actor=actor, member_id=record.member_id) or [None]
        plan = (("回访上周到店的客户，问问新茶口感", TaskKind.FOLLOW_UP, at(0, 23), False),
                ("电话确认周六品鉴会到店", TaskKind.CALL, at(-1, 18), False),
                ("上门送春茶礼盒", TaskKind.VISIT, at(6, 15), False),
                ("生日祝福并送券", TaskKind.FOLLOW_UP, at(1, 12), True),
                ("双11预热提醒", TaskKind.FOLLOW_UP, at(-2, 20), True))
        for index, (title, kind, due, done) in enumerate(plan):
            task, _ = stores_service.create_task(session, actor=actor, data=TaskIn(
                staff_id=record.id, customer_id=owned[index % len(owned)], kind=kind, title=title, due_at=due,
                remind_at=None if done else due - timedelta(hours=2), source_key=f"demo-{record.id}-{index}"))
            if done:  # done now: the one due tomorrow on time, the one due two days ago late
                stores_service.complete_task(session, actor=actor, task_id=task.id)


def _kpis(session: Session, actor: Actor, staff: list, rng: random.Random, days: int = 60) -> None:
    """Sixty days of WeCom contact statistics per guide, as the daily fetch keeps them, and this month's targets."""
    today = stores_service.today(actor)
    rows = []
    for rank, record in enumerate(staff):
        pace = 1.0 - rank * 0.15
        for back in range(1, days + 1):
            chats = max(0, round(rng.gauss(18 * pace, 5)))
            rows.append((record.id, today - timedelta(days=back), {
                "new_contact_cnt": max(0, round(rng.gauss(3 * pace, 1.5))), "new_apply_cnt": rng.randint(0, 4),
                "negative_feedback_cnt": int(rng.random() < 0.15), "chat_cnt": chats,
                "message_cnt": chats * rng.randint(3, 8),
                "reply_percentage": round(rng.uniform(70, 99), 1) if chats else None,
                "avg_reply_time": rng.randint(1, 25) if chats else None}))
    stores_service.store_behavior(session, actor=actor, days=rows)
    for record in staff:
        stores_service.put_target(session, actor=actor, data=TargetIn(
            staff_id=record.id, month=today.strftime("%Y-%m"), new_adds=rng.choice((60, 80, 100)),
            gmv_fen=rng.choice((3_000_000, 5_000_000, 8_000_000))))
