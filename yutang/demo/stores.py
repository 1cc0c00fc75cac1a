"""The demo brand's stores: two regions, staff behind the guides, owners, channel codes and a planned hand-over."""

import random

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
    StaffIn,
    StoreIn,
    StorePatch,
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
    stores_service.add_staff(session, actor=actor, data=StaffIn(name="阿芳", member_id=south.id, wecom_userid="guide4",
                                                                store_id=stores["sz-mixc"].id))
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
    if stores_service.owned_by(session, actor=actor, member_id=guides[1].id):
        stores_service.start_handover(session, actor=actor, data=HandoverIn(
            config_id=config.id, from_staff_id=staff[1].id, to_staff_id=staff[0].id,
            message="阿杰调往新店，之后由小美继续为您服务", send=False))
    return config.id

