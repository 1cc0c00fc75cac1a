"""Bulk demo data: a department-store crowd where of those who pass, some ask, some buy and some leave contact.

Written straight into the OLTP store (Core inserts) and the warehouse (Arrow appends) so tens of thousands of
customers seed in seconds; the rows have the same shape the services and the relay would produce.
"""

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from yutang.customers import identities as identity_rules
from yutang.customers.models import ChannelMembership, Customer, CustomerIdentity
from yutang.customers.schemas import IdentityIn, IdentityKind
from yutang.orders.models import Order, OrderLine
from yutang.tags.models import CustomerTag
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse
from yutang.warehouse.schema import EVENTS_ARROW

# The funnel of the department-store example: of those who pass, a share ask, a share buy, a share leave contact.
ASK_SHARE, BUY_SHARE_OF_ASKERS, BUY_SHARE_OF_BROWSERS, CONTACT_SHARE = 0.35, 0.45, 0.06, 0.40
BROWSE_EVENTS = ["Product Viewed", "Article Read", "Coupon Claimed", "Live Stream Watched", "Message Clicked"]
FIRST_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
CITIES = ["上海", "杭州", "北京", "苏州", "深圳", "成都", "南京", "广州"]


@dataclass
class Crowd:
    """What was generated, kept to write the warehouse rows that mirror the OLTP rows."""

    customers: list[dict] = field(default_factory=list)
    identities: list[dict] = field(default_factory=list)
    memberships: list[dict] = field(default_factory=list)
    tags: list[dict] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    events: dict[str, list] = field(default_factory=lambda: {name: [] for name in EVENTS_ARROW.names})
    by_anonymous_id: dict[str, list[int]] = field(default_factory=dict)
    funnel: Counter = field(default_factory=Counter)


def populate(session: Session, warehouse: DuckDBWarehouse | PostgresWarehouse, *, workspace_id: int,
             channels: dict[str, int], tag_ids: list[int], guide_ids: list[int], products: list[tuple],
             passers: int, now: datetime, seed: int = 11) -> Counter:
    """Generate `passers` visitors; returns the funnel counts (passed, asked, bought, left contact, orders)."""
    rng = random.Random(seed)
    crowd = Crowd()
    pii_key = session.info["pii_key"]
    codes = list(channels)
    for visitor in range(passers):
        code = rng.choice(codes)
        seen = now - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1439))
        anonymous_id = f"anon-{seed}-{visitor}"
        crowd.funnel["passed"] += 1
        _event(crowd, workspace_id, f"demo-{seed}-{visitor}-pass", "Store Passed", None, anonymous_id, seen,
               {"channel": code})
        asked = rng.random() < ASK_SHARE
        if asked:
            crowd.funnel["asked"] += 1
            _event(crowd, workspace_id, f"demo-{seed}-{visitor}-ask", "Product Inquired", None, anonymous_id,
                   seen + timedelta(minutes=rng.randint(1, 30)), {"sku": rng.choice(products)[0]})
        bought = rng.random() < (BUY_SHARE_OF_ASKERS if asked else BUY_SHARE_OF_BROWSERS)
        contact = rng.random() < CONTACT_SHARE or (bought and rng.random() < 0.7)
        if bought:
            crowd.funnel["bought"] += 1
        if not contact:
            continue
        crowd.funnel["left contact"] += 1
        crowd.customers.append({
            "workspace_id": workspace_id, "status": "active",
            "name": _name(rng),
            "gender": rng.choice(["female", "female", "male", "unknown"]), "city": rng.choice(CITIES),
            "first_channel_id": channels[code],
            "source_campaign": rng.choice([None, "双11预热", "新客首单礼", "门店开业"]),
            "first_seen_at": seen, "created_at": seen, "updated_at": seen, "attributes": {},
            "assigned_member_id": rng.choice(guide_ids) if code in ("wecom-guides", "store-jingan") else None,
            "refuses_personalised": rng.random() < 0.03,
            "_visitor": (visitor, code, anonymous_id, bought, seen)})
    ids = _insert_customers(session, crowd.customers)
    for customer_id, row in zip(ids, crowd.customers, strict=True):
        visitor, code, anonymous_id, bought, seen = row.pop("_visitor")
        row["id"] = customer_id
        phone = f"{rng.choice(['138', '139', '135', '186', '158', '159'])}{rng.randint(0, 99_999_999):08d}"
        kinds = [IdentityIn(kind=IdentityKind.PHONE, value=phone), IdentityIn(kind=IdentityKind.ANONYMOUS_ID,
                                                                              value=anonymous_id)]
        if code in ("wechat-oa", "mini-program", "group-vip"):
            kinds.append(IdentityIn(kind=IdentityKind.WECHAT_UNIONID, value=f"o6_{seed}_{visitor}"))
        for identity in kinds:
            value, lookup = identity_rules.normalise(identity, pii_key=pii_key)
            crowd.identities.append({"workspace_id": workspace_id, "customer_id": customer_id,
                                     "kind": identity.kind.value, "namespace": "", "value": value, "lookup": lookup,
                                     "created_at": seen})
        crowd.memberships.append({"workspace_id": workspace_id, "customer_id": customer_id,
                                  "channel_id": channels[code], "joined_at": seen, "created_at": seen})
        # Their anonymous history joins them, as the loader does when a visitor is identified.
        for index in crowd.by_anonymous_id.get(anonymous_id, []):
            crowd.events["customer_id"][index] = customer_id
        _event(crowd, workspace_id, f"demo-{seed}-{visitor}-contact", "Contact Left", customer_id, anonymous_id,
               seen + timedelta(minutes=rng.randint(5, 60)), {"channel": code})
        for tag_id in tag_ids:
            if rng.random() < 0.12:
                crowd.tags.append({"workspace_id": workspace_id, "customer_id": customer_id, "tag_id": tag_id,
                                   "source": "demo", "created_at": seen})
        _browse(crowd, rng, workspace_id, f"demo-{seed}-{visitor}", customer_id, anonymous_id, seen, now, products)
        purchases = 0
        if bought:
            purchases = 1
            while rng.random() < 0.42:  # repeat purchase: few heavy buyers, many one-off
                purchases += 1
        for number in range(purchases):
            placed = seen + timedelta(days=number * rng.randint(7, 90), hours=rng.randint(0, 10))
            if placed > now:
                break
            _order(crowd, rng, workspace_id, customer_id, channels, code, placed, products,
                   f"{seed}{visitor:07d}{number}")
    _insert(session, CustomerIdentity, crowd.identities)
    _insert(session, ChannelMembership, crowd.memberships)
    _insert(session, CustomerTag, crowd.tags)
    order_ids = _insert_orders(session, crowd.orders)
    for line in crowd.lines:
        line["order_id"] = order_ids[line.pop("_order")]
    _insert(session, OrderLine, crowd.lines)
    _mirror(warehouse, crowd, order_ids)
    crowd.funnel["orders"] = len(crowd.orders)
    return crowd.funnel


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(FIRST_NAMES) + (rng.choice(FIRST_NAMES) if rng.random() < 0.6 else "")


def _event(crowd: Crowd, workspace_id: int, message_id: str, name: str, customer_id: int | None,
           anonymous_id: str | None, at: datetime, properties: dict, *, source: str = "demo") -> None:
    columns = crowd.events
    if anonymous_id:
        crowd.by_anonymous_id.setdefault(anonymous_id, []).append(len(columns["message_id"]))
    for key, value in (("workspace_id", workspace_id), ("message_id", message_id), ("type", "track"),
                       ("event", name), ("customer_id", customer_id), ("user_id", None),
                       ("anonymous_id", anonymous_id), ("properties", json.dumps(properties, ensure_ascii=False)),
                       ("context", "{}"), ("ts", at), ("received_at", at), ("source", source)):
        columns[key].append(value)


def _browse(crowd, rng, workspace_id, prefix, customer_id, anonymous_id, since, now, products) -> None:
    for number in range(int(rng.paretovariate(1.6) * 3)):
        at = since + timedelta(hours=rng.randint(1, max(1, int((now - since).total_seconds() // 3600))))
        sku, name, category, _ = rng.choice(products)
        _event(crowd, workspace_id, f"{prefix}-b{number}", rng.choice(BROWSE_EVENTS), customer_id, anonymous_id, at,
               {"sku": sku, "product": name, "category": category})


# What a tea brand's buyers put beside a category, and how often: the cross-sell report finds these pairs.
COMPANIONS = {"绿茶": ("茶具", 0.45), "普洱": ("茶具", 0.35), "礼盒": ("红茶", 0.4), "乌龙茶": ("普洱", 0.25)}


def _basket(rng, products) -> list[tuple]:
    """One to three distinct products, the first one's companion category among them as often as COMPANIONS says."""
    first = rng.choice(products)
    picked = [first]
    companion, share = COMPANIONS.get(first[2], (None, 0.0))
    if companion and rng.random() < share:
        picked.append(rng.choice([p for p in products if p[2] == companion]))
    size = max(len(picked), rng.choice([1, 1, 1, 2, 3]))
    while len(picked) < size:
        extra = rng.choice(products)
        if extra not in picked:
            picked.append(extra)
    return picked


def _order(crowd, rng, workspace_id, customer_id, channels, code, placed, products, external_id) -> None:
    channel = code if code in ("mini-program", "store-jingan", "tmall-flagship", "jd-store", "douyin-shop") \
        else rng.choice(["mini-program", "store-jingan"])
    picked = _basket(rng, products)
    total = 0
    for number, (sku, name, category, price) in enumerate(picked, start=1):
        quantity = rng.choice([1, 1, 1, 2])
        total += quantity * price
        crowd.lines.append({"workspace_id": workspace_id, "_order": len(crowd.orders), "line_no": number, "sku": sku,
                            "product_name": name, "category": category, "quantity": quantity,
                            "unit_price_fen": price, "amount_fen": quantity * price, "refunded_fen": 0,
                            "created_at": placed})
    refunded = total if rng.random() < 0.04 else 0
    crowd.orders.append({"workspace_id": workspace_id, "external_id": f"DM{external_id}",
                         "channel_id": channels[channel], "customer_id": customer_id,
                         "status": "refunded" if refunded else "completed", "currency": "CNY", "total_fen": total,
                         "paid_fen": total, "refunded_fen": refunded, "placed_at": placed,
                         "paid_at": placed + timedelta(minutes=2), "source_status": None, "raw": {},
                         "content_hash": f"demo-{external_id}", "created_at": placed, "updated_at": placed})
    _event(crowd, workspace_id, f"demo-order-{external_id}", "Order Completed", customer_id, None, placed,
           {"total_fen": total, "channel": channel})
    # What the relay records for every paid order (yutang.warehouse.replica), so the two kinds of rows agree.
    _event(crowd, workspace_id, f"yutang:demo-order-{external_id}", "Order Paid", customer_id, None,
           placed + timedelta(minutes=2),
           {"total_fen": total, "paid_fen": total, "refunded_fen": refunded}, source="yutang")


def _insert_customers(session: Session, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    clean = [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]
    result = session.execute(insert(Customer).returning(Customer.id, sort_by_parameter_order=True), clean)
    return [row[0] for row in result]


def _insert_orders(session: Session, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    result = session.execute(insert(Order).returning(Order.id, sort_by_parameter_order=True), rows)
    return [row[0] for row in result]


def _insert(session: Session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), 5000):
        session.execute(insert(model), rows[start:start + 5000])


def _mirror(warehouse, crowd: Crowd, order_ids: list[int]) -> None:
    """Write the warehouse rows the relay would have written for these OLTP rows, plus the events."""
    def table(rows: list[dict], columns: list[str]) -> pa.Table:
        return pa.table({name: [row.get(name) for row in rows] for name in columns})

    customers = [{**row, "updated_at": row["first_seen_at"]} for row in crowd.customers]
    orders = [{**row, "id": order_id} for row, order_id in zip(crowd.orders, order_ids, strict=True)]
    with warehouse.transaction() as tx:
        warehouse.append_arrow(tx, "customers", table(customers, [
            "workspace_id", "id", "status", "gender", "province", "city", "first_channel_id", "source_campaign",
            "refuses_personalised", "assigned_member_id", "first_seen_at", "updated_at"]))
        warehouse.append_arrow(tx, "identities", table(crowd.identities,
                                                       ["workspace_id", "customer_id", "kind", "namespace"]))
        warehouse.append_arrow(tx, "memberships", table(crowd.memberships,
                                                        ["workspace_id", "customer_id", "channel_id", "joined_at"]))
        warehouse.append_arrow(tx, "customer_tags", table([{**t, "added_at": t["created_at"]} for t in crowd.tags],
                                                          ["workspace_id", "customer_id", "tag_id", "added_at"]))
        warehouse.append_arrow(tx, "orders", table(orders, [
            "workspace_id", "id", "customer_id", "channel_id", "external_id", "status", "total_fen", "paid_fen",
            "refunded_fen", "placed_at", "paid_at"]))
        warehouse.append_arrow(tx, "order_lines", table(crowd.lines, [
            "workspace_id", "order_id", "line_no", "sku", "category", "quantity", "amount_fen"]))
        warehouse.append_arrow(tx, "events", pa.table(crowd.events, schema=EVENTS_ARROW))


def touch_history(session: Session, warehouse: DuckDBWarehouse | PostgresWarehouse, *, workspace_id: int,
                  config_id: int, now: datetime, weeks: int = 10, seed: int = 13) -> int:
    """Past weekly marketing SMS to the crowd (the warehouse events the relay would have written) and the
    unfollows that followed, more often the more messages a customer got that week (pond health's curve).
    Returns how many messages."""
    rng = random.Random(seed)
    table = ChannelMembership.__table__
    open_ = session.execute(select(table.c.customer_id, table.c.channel_id, table.c.joined_at)
                            .where(table.c.workspace_id == workspace_id, table.c.left_at.is_(None))).all()
    crowd, left, sent = Crowd(), {}, 0
    monday = (now - timedelta(days=14 + now.weekday())).replace(hour=2, minute=0, second=0, microsecond=0)
    for week in range(weeks):
        start = monday - timedelta(weeks=weeks - week)
        for customer_id, channel_id, joined_at in open_:
            if (customer_id, channel_id) in left or _aware(joined_at) >= start or rng.random() > 0.3:
                continue
            touches = rng.choices((1, 2, 3, 4, 5), weights=(50, 25, 12, 8, 5))[0]
            for n in range(touches):
                at = start + timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 12))
                _event(crowd, workspace_id, f"yutang:demo-history:{week}:{customer_id}:{channel_id}:{n}",
                       "Message Sent", customer_id, None, at,
                       {"customer_id": customer_id, "channel_config_id": config_id, "purpose": "marketing",
                        "status": "sent"}, source="yutang")
                sent += 1
            if rng.random() < 0.005 + 0.01 * touches ** 2:
                left[(customer_id, channel_id)] = start + timedelta(days=rng.randint(1, 13), hours=rng.randint(0, 23))
    if left:  # one executemany: a statement per row cost seconds on a loaded machine
        session.connection().execute(
            update(table).where(table.c.customer_id == bindparam("c"), table.c.channel_id == bindparam("ch"))
            .values(left_at=bindparam("at")),
            [{"c": c, "ch": ch, "at": at} for (c, ch), at in left.items()])
    with warehouse.transaction() as tx:
        warehouse.append_arrow(tx, "events", pa.table(crowd.events, schema=EVENTS_ARROW))
        rows = [f"({int(c)}, {int(ch)}, CAST('{at.isoformat()}' AS TIMESTAMPTZ))" for (c, ch), at in left.items()]
        for start in range(0, len(rows), 1000):
            values = ", ".join(rows[start:start + 1000])
            tx.execute(f"UPDATE memberships SET left_at = v.left_at FROM (VALUES {values}) "
                       "AS v(customer_id, channel_id, left_at) WHERE memberships.customer_id = v.customer_id "
                       "AND memberships.channel_id = v.channel_id")
    return sent


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
