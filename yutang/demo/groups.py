"""The demo brand's customer groups: a lively one, a dying one, a silent one, and a group QR code with joins."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.groups import service as groups_service
from yutang.groups.schemas import ActivityIn, GroupCodeIn
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
    return new
