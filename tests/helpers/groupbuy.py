"""Group-buys made through the service: a published bakery round with two items and a pick-up point."""

from datetime import UTC, date, datetime, timedelta

from yutang.groupbuy import service as groupbuy_service
from yutang.groupbuy.schemas import GroupBuyIn, ItemIn, JoinIn, JoinLineIn, PointIn

# Far ahead of the real clock, so the background cut-off job never closes a test's group-buy under it.
NOW = datetime(2098, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
CUTOFF = NOW + timedelta(hours=10)


def bakery_items(**overrides) -> list[ItemIn]:
    """A loaf with a 定金 and a cake, each with a minimum to go ahead."""
    loaf = {"sku": "LOAF", "name": "吐司", "price_fen": 1500, "deposit_fen": 300, "cost_fen": 600,
            "per_person_limit": 3, "cap": 50, "minimum": 2}
    cake = {"sku": "CAKE", "name": "蛋糕", "price_fen": 8800, "deposit_fen": 1000, "cost_fen": 3000, "minimum": 5}
    return [ItemIn(**(loaf | overrides)), ItemIn(**cake)]


def make_groupbuy(database, actor, *, publish: bool = True, deposit_kind: str = "earnest",
                  items: list[ItemIn] | None = None, cutoff: datetime = CUTOFF,
                  starts: datetime = NOW - timedelta(hours=1)) -> tuple[int, dict[str, int], int]:
    """A group-buy (published unless told), its item ids by SKU, and a pick-up point's id."""
    with database.unit_of_work() as session:
        point = groupbuy_service.create_point(session, actor=actor, data=PointIn(name="幸福里自提点"))
        groupbuy = groupbuy_service.create_groupbuy(session, actor=actor, data=GroupBuyIn(
            title="明日面包接龙", deposit_kind=deposit_kind, starts_at=starts, cutoff_at=cutoff,
            production_date=date(2098, 6, 2), items=items or bakery_items()))
        if publish:
            groupbuy_service.publish(session, actor=actor, groupbuy_id=groupbuy.id, now=NOW)
        out = groupbuy_service.present(session, groupbuy=groupbuy)
        return groupbuy.id, {item.sku: item.id for item in out.items}, point.id


def join(database, actor, groupbuy_id: int, customer_id: int, point_id: int | None, key: str,
         quantities: dict[int, int], at: datetime = NOW, remark: str | None = None):
    """Join through the service: (entry id, created)."""
    with database.unit_of_work() as session:
        entry, created = groupbuy_service.join(session, actor=actor, groupbuy_id=groupbuy_id, now=at, data=JoinIn(
            request_key=key, customer_id=customer_id, point_id=point_id, remark=remark,
            lines=[JoinLineIn(item_id=item_id, quantity=quantity) for item_id, quantity in quantities.items()]))
        return entry.id, created
