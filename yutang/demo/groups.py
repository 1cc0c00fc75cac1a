"""The demo brand's customer groups: a lively one, a dying one, a silent one, a group QR code with joins, and the
script library with a month of the guides' uses."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.groups import service as groups_service
from yutang.groups.schemas import ActivityIn, FolderIn, GroupCodeIn, MaterialIn, UseIn
from yutang.stores import service as stores_service
from yutang.workspaces.access import Actor

CODE_STATE = "jingan-group-door"
# name, owner, members, notice, talk: (messages a day, share of members speaking) for days 1–7 and 8–30 ago
GROUPS = (
    ("静安茶友会", "guide1", 28, "每周三晚八点茶课直播，群内专享试饮券", ((40, 0.45), (35, 0.4))),
    ("徐汇新品尝鲜群", "guide3", 18, "新品上市第一时间通知", ((1, 0.06), (18, 0.3))),
    ("双11老客群", "guide1", 12, None, ((0, 0.0), (0, 0.0))),
)


def _externals(session: Session, actor: Actor, guides: list) -> list[str]:
    """WeCom ids of the customers the demo guides own, so group members are known customers."""
    owned = [c for member in guides for c in stores_service.owned_by(session, actor=actor, member_id=member.id)]
    return sorted(customers_service.identity_values(session, customer_ids=owned,
                                                    kind="wecom_external_userid").values())


def seed(session: Session, *, actor: Actor, guides: list, config_id: int, rng: random.Random, today: datetime) -> int:
    """Three groups of different health, their members (some through the group code) and 30 days of talk; returns
    how many members were new customers (when the guides own too few WeCom contacts)."""
    known = _externals(session, actor, guides)
    new = 0
    epoch = int(today.timestamp())
    made = []
    for index, (name, owner, size, notice, talk) in enumerate(GROUPS):
        members = []
        for n in range(size):
            userid = known.pop() if known else f"wmGroup{index}{n:03d}"
            new += userid.startswith("wmGroup")
            through_code = index == 0 and n % 3 == 0
            members.append({"userid": userid, "type": 2, "join_time": epoch - rng.randint(1, 75) * 86_400,
                            "join_scene": 3 if through_code else rng.choice([1, 2]),
                            **({"state": CODE_STATE} if through_code else {})})
        chat = {"chat_id": f"wrDemo{index}", "name": name, "owner": owner, "notice": notice or "",
                "create_time": epoch - 90 * 86_400, "admin_list": [],
                "member_list": [{"userid": owner, "type": 1, "join_time": epoch - 90 * 86_400, "join_scene": 1},
                                *members]}
        group = groups_service.record_chat(session, actor=actor, config_id=config_id, chat=chat)
        made.append(group)
        userids = [m["userid"] for m in members]
        local: date = today.astimezone(ZoneInfo(actor.timezone)).date()
        for days_ago in range(1, 31):
            messages, share = talk[0] if days_ago <= 7 else talk[1]
            if not messages or (days_ago <= 7 and messages == 1 and days_ago != 5):  # dying: one word this week
                continue
            speakers = rng.sample(userids, max(1, round(len(userids) * share * rng.uniform(0.5, 1.0))))
            groups_service.record_activity(session, actor=actor, group_id=group.id, data=ActivityIn(
                day=local - timedelta(days=days_ago), messages=max(1, int(messages * rng.uniform(0.6, 1.3))),
                speakers=speakers))
    groups_service.create_code(session, actor=actor, data=GroupCodeIn(
        config_id=config_id, name="静安门口 · 入群海报", state=CODE_STATE, group_ids=[made[0].id, made[1].id],
        auto_create_room=True, room_base_name="静安茶友会", adopt_config_id=f"{rng.getrandbits(128):032x}",
        adopt_qr_url="https://wework.qpic.cn/wwpic/demo-group-door/0"))
    seed_library(session, actor=actor, guides=guides, groups=made, rng=rng, today=today)
    return new


# folder, kind, title, content
LIBRARY = (
    ("开场话术", "text", "新客问候", {"text": "您好～我是静安店的茶艺师，之后新茶上市、茶课活动都会第一时间告诉您。"}),
    ("开场话术", "text", "到店感谢", {"text": "谢谢您今天来店里品茶！喝着喜欢的话，随时找我留一份。"}),
    ("复购话术", "text", "龙井快喝完了", {"text": "您上次带走的明前龙井差不多喝完了吧？今年的新茶到了，给您留一罐？"}),
    ("复购话术", "product", "明前龙井 250g", {"url": "https://shop.example/longjing-250", "price_fen": 29800,
                                           "image_url": "https://img.example/longjing.png"}),
    ("活动素材", "link", "周三茶课报名", {"url": "https://shop.example/tea-class",
                                       "text": "本周三晚八点茶课直播，点此报名"}),
    ("活动素材", "miniprogram", "会员中心", {"appid": "wx8a1b2c3d4e5f6a7b", "page": "pages/member/index"}),
    ("朋友圈文案", "text", "春茶上新", {"text": "今年第一批明前龙井到店，豆香清亮，欢迎来店试饮。"}),
    ("朋友圈文案", "image", "春茶海报", {"image_url": "https://img.example/spring-poster.png"}),
)


def seed_library(session: Session, *, actor: Actor, guides: list, groups: list, rng: random.Random,
                 today: datetime) -> None:
    """The script library in four folders, and a month of the guides' uses of it with their customers and groups."""
    folders = {}
    for position, name in enumerate(dict.fromkeys(row[0] for row in LIBRARY)):
        folders[name] = groups_service.create_folder(session, actor=actor, data=FolderIn(name=name,
                                                                                          position=position))
    materials = [groups_service.create_material(session, actor=actor, data=MaterialIn(
        folder_id=folders[folder].id, kind=kind, title=title, tags=[folder[:2]], **content))
        for folder, kind, title, content in LIBRARY]
    sendable = [m for m in materials if m.kind in ("text", "link", "product")]
    for member in guides:
        staff = stores_service.staff_of_member(session, workspace_id=actor.workspace_id, member_id=member.id)
        owned = stores_service.owned_by(session, actor=actor, member_id=member.id)
        if staff is None or not owned:
            continue
        for _ in range(min(24, len(owned))):
            groups_service.record_uses(session, actor=actor, material_id=rng.choice(sendable).id,
                                       at=today - timedelta(days=rng.randint(1, 28), hours=rng.randint(0, 10)),
                                       data=UseIn(staff_id=staff.id, customer_ids=[rng.choice(owned)],
                                                  channel="workbench"))
    for group in groups[:2]:
        groups_service.record_uses(session, actor=actor, material_id=sendable[-1].id,
                                   at=today - timedelta(days=rng.randint(2, 20)),
                                   data=UseIn(staff_id=group.owner_staff_id, group_ids=[group.id],
                                              channel="group_send"))
