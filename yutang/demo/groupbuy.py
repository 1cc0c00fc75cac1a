"""Demo group-buys: a bakery's daily 接龙 for two weeks (joined, cut off, picked up, a few no-shows) and tomorrow's
round open now, all through the group-buy flows, so the live list, pick lists, plan and forecast have history."""

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from yutang.groupbuy import service as groupbuy_service
from yutang.groupbuy.schemas import EndingIn, GroupBuyIn, ItemIn, JoinIn, JoinLineIn, LeaderIn, PointIn
from yutang.kit.errors import Conflict
from yutang.workspaces.access import Actor

DAYS = 14
# Weekends sell more: buyers per weekday (about half for loaves, half for croissants), Monday first.
DEMAND = ((6, 4), (6, 4), (7, 5), (7, 5), (9, 7), (12, 10), (11, 9))


def _items() -> list[ItemIn]:
    return [ItemIn(sku="BREAD-LOAF", name="北海道吐司", price_fen=1800, deposit_fen=300, cost_fen=700,
                   per_person_limit=3, cap=60, minimum=5),
            ItemIn(sku="BREAD-CROISSANT", name="黄油可颂", price_fen=1200, deposit_fen=200, cost_fen=450,
                   per_person_limit=4, cap=40, minimum=4)]


def seed(session: Session, *, actor: Actor, customer_ids: list[int], rng: random.Random, today: datetime) -> int:
    """Two weeks of daily rounds and an open one for tomorrow; returns how many entries were made."""
    zone = ZoneInfo(actor.timezone)
    leader = groupbuy_service.create_leader(session, actor=actor, data=LeaderIn(name="张阿姨", commission_bp=800))
    points = [groupbuy_service.create_point(session, actor=actor, data=PointIn(name="静安店自提",
                                                                               address="南京西路 1266 号")),
              groupbuy_service.create_point(session, actor=actor, data=PointIn(name="幸福里团长点",
                                                                               leader_id=leader.id))]
    local_today = today.astimezone(zone).date()
    made = 0
    for back in range(DAYS, -1, -1):
        production = local_today + timedelta(days=1 - back)
        eve = production - timedelta(days=1)
        open_now = back == 0
        starts = datetime.combine(eve, time(8), zone)
        cutoff = datetime.combine(eve, time(20), zone)
        if open_now:  # tomorrow's round: open now, whatever the hour
            starts, cutoff = today - timedelta(hours=2), max(cutoff, today + timedelta(hours=4))
        groupbuy = groupbuy_service.create_groupbuy(session, actor=actor, data=GroupBuyIn(
            title=f"{production.month}月{production.day}日 面包接龙", deposit_kind="earnest", starts_at=starts,
            cutoff_at=cutoff, production_date=production, items=_items()))
        groupbuy_service.publish(session, actor=actor, groupbuy_id=groupbuy.id, now=starts)
        items = [item.id for item in groupbuy_service.present(session, groupbuy=groupbuy).items]
        joined_at = today - timedelta(hours=1) if open_now else starts + timedelta(hours=4)
        loaves, croissants = DEMAND[production.weekday()]
        buyers = rng.sample(customer_ids, min(len(customer_ids), loaves + croissants))
        for n, customer_id in enumerate(buyers):
            wanted = [item for k, item in enumerate(items) if n % 2 == k or rng.random() < 0.3]
            try:
                groupbuy_service.join(session, actor=actor, groupbuy_id=groupbuy.id, now=joined_at, data=JoinIn(
                    request_key=f"demo-{groupbuy.id}-{n}", customer_id=customer_id, point_id=rng.choice(points).id,
                    lines=[JoinLineIn(item_id=item, quantity=rng.randint(1, 3)) for item in wanted]))
                made += 1
            except Conflict:
                continue  # a merged or limited buyer
        if open_now:
            continue
        groupbuy_service.cut_off(session, actor=actor, groupbuy_id=groupbuy.id, now=cutoff)
        _hand_over(session, actor, groupbuy.id, rng, datetime.combine(production, time(9), zone))
    return made


def _hand_over(session: Session, actor: Actor, groupbuy_id: int, rng: random.Random, at: datetime) -> None:
    """Most buyers collect; about one in twelve does not (their 定金 is forfeited)."""
    entries = groupbuy_service.present_entries(session, entries=groupbuy_service.list_entries(
        session, actor=actor, groupbuy_id=groupbuy_id, limit=500))
    for entry in entries:
        confirmed = [line for line in entry.lines if line.status == "confirmed"]
        if not confirmed:
            continue
        if rng.random() < 1 / 12:
            for line in confirmed:
                groupbuy_service.end_line(session, actor=actor, groupbuy_id=groupbuy_id, data=EndingIn(
                    entry_id=entry.id, item_id=line.item_id, ending="buyer_walked_away"))
        else:
            groupbuy_service.verify(session, actor=actor, groupbuy_id=groupbuy_id, code=entry.code, now=at)
