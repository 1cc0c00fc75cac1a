"""A small brand worked out by hand for the analytics reports: four customers over two weeks of November 2026."""

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tests.helpers.events import basic, new_source
from tests.helpers.tenants import Tenant
from yutang.channels import service as channels_service
from yutang.channels.schemas import ChannelIn
from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn
from yutang.orders import service as orders_service
from yutang.orders.schemas import OrderIn

# The range the tests ask for (custom, local days) and the week before it.
FIRST, LAST = "2026-11-08", "2026-11-14"


def bj(text: str) -> datetime:
    """A Beijing wall time ('2026-11-09 10:00') as an aware datetime."""
    return datetime.fromisoformat(text.replace(" ", "T") + "+08:00")


@dataclass
class Brand:
    tenant: Tenant
    ids: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)

    def names(self, customer_ids) -> set[str]:
        back = {v: k for k, v in self.ids.items()}
        return {back[i] for i in customer_ids}


def own_event(pipeline, brand: Brand, name: str, who: str, at: str, **properties) -> None:
    """One of Yutang's own events as the relay stores it (source 'yutang'), placed at a past time: loyalty and
    messaging stamp theirs with the wall clock, and these figures are worked out for November."""
    with pipeline.warehouse.transaction() as tx:
        tx.execute("INSERT INTO events (workspace_id, message_id, type, event, customer_id, properties, context, ts, "
                   "received_at, source) VALUES (%(w)s, %(m)s, 'track', %(n)s, %(c)s, %(p)s, '{}', %(t)s, %(t)s, "
                   "'yutang')", {"w": brand.tenant.id, "m": f"yutang:test:{secrets.token_hex(6)}", "n": name,
                                 "c": brand.ids[who], "p": json.dumps({"customer_id": brand.ids[who], **properties}),
                                 "t": bj(at)})


def seed_analytics(database, pipeline, client, api, tenant: Tenant) -> Brand:
    """Customers A–E, their orders, events, tiers, points, messages and inbox threads (expected figures in
    tests/test_analytics.py, worked out there)."""
    actor, brand = tenant.actor, Brand(tenant)
    with database.unit_of_work() as session:
        for code, name, kind in (("mp", "小程序商城", "mini_program"), ("tmall", "天猫旗舰店", "tmall_shop")):
            brand.channels[code] = channels_service.create_channel(
                session, actor=actor, data=ChannelIn(code=code, name=name, kind=kind)).id
        for who, seen, channel in (("A", "2026-11-02 10:00", "mp"), ("B", "2026-11-09 09:00", "mp"),
                                   ("C", "2026-11-08 00:05", "tmall"), ("D", "2026-10-01 12:00", None),
                                   ("E", "2026-11-20 12:00", None)):
            customer, _ = customers_service.resolve_or_create(session, actor=actor, data=CustomerIn(
                name=who, first_channel=channel, first_seen_at=bj(seen),
                identities=[{"kind": "app_user_id", "value": f"{tenant.slug}-{who}"}]))
            brand.ids[who] = customer.id
        orders = [("A", "2026-11-03 12:00", "mp", 10_000, "completed", 0),
                  ("A", "2026-11-09 10:00", "mp", 20_000, "completed", 0),
                  ("A", "2026-11-09 15:00", "mp", 5_000, "completed", 0),
                  ("A", "2026-11-12 10:00", "tmall", 30_000, "completed", 0),
                  ("B", "2026-11-10 10:00", "mp", 8_000, "paid", 0),
                  ("B", "2026-11-10 18:00", "mp", 2_000, "paid", 0),
                  ("C", "2026-11-11 10:00", "tmall", 12_000, "refunded", 12_000),
                  ("C", "2026-11-13 10:00", "tmall", 6_000, "partially_refunded", 1_000),
                  ("D", "2026-11-05 10:00", "tmall", 7_000, "completed", 0),
                  ("D", "2026-11-06 10:00", "tmall", 3_000, "completed", 0),
                  ("D", "2026-11-14 23:30", "mp", 1_000, "completed", 0),
                  ("D", "2026-11-15 00:30", "tmall", 99_900, "completed", 0),
                  ("E", "2026-11-21 10:00", "mp", 4_000, "pending", 0)]
        for n, (who, at, channel, fen, status, refunded) in enumerate(orders):
            orders_service.record_order(session, actor=actor, data=OrderIn(
                external_id=f"O{n}", channel=channel, status=status, customer_id=brand.ids[who],
                placed_at=bj(at), paid_at=bj(at) if status != "pending" else None, refunded_fen=refunded,
                lines=[{"sku": "LJ", "quantity": 1, "unit_price_fen": fen}]))
    key = new_source(api)
    batch = [{"type": "track", "event": "Product Viewed", "userId": f"{tenant.slug}-{who}",
              "messageId": secrets.token_hex(8), "timestamp": bj(at).isoformat()}
             for who, at in (("A", "2026-11-14 20:00"), ("A", "2026-11-03 09:00"), ("B", "2026-11-09 12:00"),
                             ("C", "2026-11-08 00:10"), ("D", "2026-11-07 23:50"))]
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(key)).status_code == 200
    pipeline.catch_up()
    for who, at, to in (("A", "2026-11-03 10:00", 11), ("A", "2026-11-12 10:00", 12), ("B", "2026-11-10 11:00", 11),
                        ("D", "2026-11-04 10:00", 11), ("D", "2026-11-09 10:00", None)):
        own_event(pipeline, brand, "Tier Changed", who, at, to_tier_id=to,
                  tier_name={11: "银卡", 12: "金卡"}.get(to))
    for who, at, balance in (("A", "2026-11-03 10:00", 100), ("A", "2026-11-12 10:00", 350),
                             ("B", "2026-11-10 11:00", 50), ("B", "2026-11-13 11:00", 0),
                             ("C", "2026-11-16 11:00", 999), ("D", "2026-11-05 10:00", 70)):
        own_event(pipeline, brand, "Points Changed", who, at, balance_after=balance)
    for name, who, at in (("Message Sent", "A", "2026-11-09 09:00"), ("Message Sent", "B", "2026-11-09 09:00"),
                          ("Message Sent", "C", "2026-11-10 09:00"), ("Message Sent", "D", "2026-11-02 09:00"),
                          ("Message Read", "A", "2026-11-09 09:30"), ("Message Clicked", "A", "2026-11-09 09:31"),
                          ("Message Clicked", "B", "2026-11-11 09:00")):
        own_event(pipeline, brand, name, who, at, purpose="marketing")
    for name, who, thread, at in (("Message Received", "A", 1, "2026-11-09 10:00"),
                                  ("Message Received", "A", 1, "2026-11-09 10:05"),
                                  ("Message Queued", "A", 1, "2026-11-09 10:20"),
                                  ("Message Received", "A", 1, "2026-11-13 09:00"),
                                  ("Message Received", "B", 2, "2026-11-10 08:00"),
                                  ("Message Queued", "B", 2, "2026-11-10 09:00"),
                                  ("Message Received", "D", 3, "2026-11-06 10:00"),
                                  ("Message Queued", "D", 3, "2026-11-06 10:30")):
        own_event(pipeline, brand, name, who, at, purpose="reply", thread_id=thread)
    return brand


def seed_funnel(database, pipeline, client, api, tenant: Tenant) -> Brand:
    """Customers P–V viewing tea, adding to cart and paying (expected funnels in tests/test_analytics_funnels.py)."""
    actor, brand = tenant.actor, Brand(tenant)
    with database.unit_of_work() as session:
        for code, name, kind in (("mp", "小程序商城", "mini_program"), ("tmall", "天猫旗舰店", "tmall_shop")):
            brand.channels[code] = channels_service.create_channel(
                session, actor=actor, data=ChannelIn(code=code, name=name, kind=kind)).id
        for who, channel in (("P", "mp"), ("Q", "mp"), ("R", "tmall"), ("S", "tmall"), ("T", "mp"), ("U", "mp"),
                             ("V", None)):
            customer, _ = customers_service.resolve_or_create(session, actor=actor, data=CustomerIn(
                name=who, first_channel=channel, first_seen_at=bj("2026-11-01 09:00"),
                identities=[{"kind": "app_user_id", "value": f"{tenant.slug}-{who}"}]))
            brand.ids[who] = customer.id
        for n, (who, at) in enumerate((("P", "2026-11-09 10:30"), ("Q", "2026-11-10 11:00"),
                                       ("R", "2026-11-14 10:00"))):
            orders_service.record_order(session, actor=actor, data=OrderIn(
                external_id=f"F{n}", channel="mp", status="paid", customer_id=brand.ids[who], placed_at=bj(at),
                paid_at=bj(at), lines=[{"sku": "LJ", "quantity": 1, "unit_price_fen": 5_000}]))
    view = "Product Viewed"
    plan = [("P", view, "2026-11-09 10:00", {"category": "tea", "utm": "a"}),
            ("P", "Product Added", "2026-11-09 10:05", {"qty": 2, "gift": True}),
            ("Q", view, "2026-11-10 10:00", {"category": "tea", "utm": "a"}),
            ("Q", "Products Searched", "2026-11-10 10:02", {}),
            ("Q", "Product Added", "2026-11-10 10:10", {"qty": 1, "gift": False}),
            ("R", view, "2026-11-11 10:00", {"category": "tea", "utm": "b"}),
            ("R", "Product Added", "2026-11-11 11:00", {}),
            ("S", view, "2026-11-12 09:00", {"category": "coffee"}),
            ("S", view, "2026-11-12 10:00", {"category": "tea"}),
            ("T", "Product Added", "2026-11-09 11:00", {}),
            ("U", view, "2026-11-07 23:00", {"category": "tea"}),
            ("U", "Product Added", "2026-11-08 10:00", {}),
            ("V", "Product Added", "2026-11-13 08:00", {}),
            ("V", view, "2026-11-13 09:00", {"category": "tea"}),
            ("V", "Product Added", "2026-11-16 10:00", {})]
    key = new_source(api)
    batch = [{"type": "track", "event": event, "userId": f"{tenant.slug}-{who}", "properties": props,
              "messageId": secrets.token_hex(8), "timestamp": bj(at).isoformat()} for who, event, at, props in plan]
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(key)).status_code == 200
    pipeline.catch_up()
    return brand


def seed_pond(database, pipeline, client, api, tenant: Tenant, *, monday: date) -> tuple[Brand, int]:
    """Customers A–K around the week starting `monday` (a local Monday) for pond health; returns the brand and the
    messaging channel's id (expected figures in tests/test_analytics_health.py, worked out there).

    Active before the week (an event in the 30 days before it): A–G. A, B, H get one marketing broadcast; C three
    marketing single sends; K one service message. B goes quiet, C withdraws consent, H leaves the channel;
    untouched E goes quiet and J leaves within the 7 days after the week."""
    def on(days: int, hm: str = "10:00") -> str:
        return f"{monday + timedelta(days=days)} {hm}"

    actor, brand = tenant.actor, Brand(tenant)
    config = api.post("/v1/messaging/channels", json={"kind": "null", "name": "测试通道"}).json()["id"]
    with database.unit_of_work() as session:
        channels_service.create_channel(session, actor=actor, data=ChannelIn(code="oa", name="服务号",
                                                                             kind="wechat_service_account"))
        for who in "ABCDEFGHIJK":
            customer, _ = customers_service.resolve_or_create(session, actor=actor, data=CustomerIn(
                name=who, first_seen_at=bj(on(-46, "09:00")),
                identities=[{"kind": "app_user_id", "value": f"{tenant.slug}-{who}"}]))
            brand.ids[who] = customer.id
        for who in "HJ":
            customers_service.record_membership(session, actor=actor, customer_id=brand.ids[who], channel_code="oa",
                                                joined=True, at=bj(on(-46, "09:00")))
        # H leaves inside the week; J after it but inside the 7 days.
        for who, at in (("H", on(5)), ("J", on(9))):
            customers_service.record_membership(session, actor=actor, customer_id=brand.ids[who], channel_code="oa",
                                                joined=False, at=bj(at))
    key = new_source(api)
    batch = [{"type": "track", "event": "Page Viewed", "userId": f"{tenant.slug}-{who}",
              "messageId": secrets.token_hex(8), "timestamp": bj(at).isoformat()}
             for who, at in [*((w, on(-15)) for w in "ABCDEFG"), *((w, on(11)) for w in "ACDFG"),
                             ("I", on(-37)),  # before the 30 days: I was not active
                             ("B", on(15))]]  # after the watch: B still counts as gone quiet
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(key)).status_code == 200
    pipeline.catch_up()
    sends = [("A", "marketing", on(1)), ("B", "marketing", on(1)), ("H", "marketing", on(1)),
             ("C", "marketing", on(1, "11:00")), ("C", "marketing", on(2, "11:00")), ("C", "marketing", on(3, "11:00")),
             ("K", "service", on(2, "09:00")),
             ("D", "marketing", on(7))]  # the Monday after: outside the week, D stays untouched
    for n, (who, purpose, at) in enumerate(sends):
        common = {"message_id": 1000 + n, "channel_config_id": config, "purpose": purpose}
        if who in ("A", "B", "H"):
            own_event(pipeline, brand, "Message Queued", who, on(1, "09:59"), broadcast_id=7, **common)
        own_event(pipeline, brand, "Message Sent", who, at, **common)
    own_event(pipeline, brand, "Consent Changed", "C", on(4, "08:00"), channel="sms", status="withdrawn")
    own_event(pipeline, brand, "Consent Changed", "F", on(4, "08:00"), channel="sms", status="granted")
    return brand, config
def seed_baskets(database, pipeline, client, api, tenant: Tenant) -> Brand:
    """Customers A–F buying tea, teaware and snacks, writing and being tracked (expected rules and quadrants in
    tests/test_analytics_crosssell.py)."""
    actor, brand = tenant.actor, Brand(tenant)
    with database.unit_of_work() as session:
        brand.channels["mp"] = channels_service.create_channel(
            session, actor=actor, data=ChannelIn(code="mp", name="小程序商城", kind="mini_program")).id
        for who in "ABCDE":
            customer, _ = customers_service.resolve_or_create(session, actor=actor, data=CustomerIn(
                name=who, first_channel="mp", first_seen_at=bj("2026-10-01 09:00"),
                identities=[{"kind": "app_user_id", "value": f"{tenant.slug}-{who}"}]))
            brand.ids[who] = customer.id
        tea, teaware, snacks = ("T1", "tea"), ("W1", "teaware"), ("S1", "snacks")
        orders = [("O1", "A", "2026-11-08 10:00", "completed", 0, [tea, teaware]),
                  ("O2", "A", "2026-11-12 10:00", "completed", 0, [tea]),
                  ("O3", "B", "2026-11-09 10:00", "paid", 0, [("T2", "tea"), teaware, snacks]),
                  ("O4", "C", "2026-11-10 10:00", "shipped", 0, [tea, snacks]),
                  ("O5", "D", "2026-11-11 10:00", "completed", 0, [("W2", "teaware")]),
                  ("O6", "E", "2026-11-11 11:00", "refunded", 3_000, [snacks]),
                  ("O7", "D", "2026-11-01 10:00", "completed", 0, [tea]),
                  ("O8", "C", "2026-11-12 10:00", "pending", 0, [teaware]),
                  ("O9", "B", "2026-11-13 10:00", "completed", 0, [snacks]),
                  ("O10", "C", "2026-11-11 09:00", "partially_refunded", 1_000, [snacks, ("S1", None)])]
        for external, who, at, status, refunded, lines in orders:
            orders_service.record_order(session, actor=actor, data=OrderIn(
                external_id=external, channel="mp", status=status, customer_id=brand.ids[who], placed_at=bj(at),
                paid_at=bj(at) if status != "pending" else None, refunded_fen=refunded,
                lines=[{"sku": sku, "category": category, "quantity": 1, "unit_price_fen": 3_000}
                       for sku, category in lines]))
    key = new_source(api)
    batch = [{"type": "track", "event": "Product Viewed", "userId": f"{tenant.slug}-{who}",
              "messageId": secrets.token_hex(8), "timestamp": bj(at).isoformat()}
             for who, at in (("A", "2026-11-08 09:00"), ("A", "2026-11-10 09:00"), ("A", "2026-11-14 22:00"),
                             ("A", "2026-11-20 09:00"), ("B", "2026-11-09 09:00"), ("D", "2026-11-11 09:00"),
                             ("D", "2026-11-12 09:00"))]
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(key)).status_code == 200
    pipeline.catch_up()
    for name, who, at, purpose in (("Message Received", "A", "2026-11-09 10:00", "reply"),
                                   ("Message Queued", "A", "2026-11-09 10:05", "reply"),
                                   ("Message Received", "C", "2026-11-10 11:00", "reply"),
                                   ("Message Received", "C", "2026-11-10 11:01", "reply"),
                                   ("Message Queued", "C", "2026-11-10 11:30", "reply"),
                                   ("Message Queued", "B", "2026-11-10 11:30", "marketing"),
                                   ("Message Received", "B", "2026-11-07 23:00", "reply")):
        own_event(pipeline, brand, name, who, at, purpose=purpose, thread_id=1)
    return brand
