"""Demo OneID merges: shoppers first known on two touchpoints (a Tmall buyer, a mini-program member) who are
joined into one customer when the Tmall buyer binds the same phone, with the merge kept in their archive."""

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from yutang.archive import service as archive_service
from yutang.customers import service as customers_service
from yutang.customers.schemas import ConsentIn, CustomerIn, IdentityIn
from yutang.kit.clock import utcnow
from yutang.orders import service as orders_service
from yutang.orders.schemas import OrderIn, OrderLineIn, OrderStatus
from yutang.workspaces.access import Actor

PEOPLE = [("林晓雯", "female", "杭州"), ("陈子豪", "male", "上海"), ("周佳怡", "female", "苏州"),
          ("王海峰", "male", "北京"), ("赵若兰", "female", "上海"), ("孙一鸣", "male", "深圳")]


@dataclass
class Person:
    """A merged demo customer and the contact details the messaging part writes to."""

    customer_id: int
    name: str
    phone: str
    email: str


def seed(session: Session, *, actor: Actor, rng: random.Random, products: list[tuple]) -> list[Person]:
    """Two touchpoints each, then the link that merges them (OneID), through the same upsert the API uses."""
    people = []
    now = utcnow()
    for index, (name, gender, city) in enumerate(PEOPLE):
        phone = f"139{index:02d}{rng.randint(0, 999_999):06d}"
        email = f"member{index + 1}@demo-tea.example"
        buyer = IdentityIn(kind="marketplace_buyer", namespace="tmall-flagship", value=f"tb_demo_{index:04d}")
        first_seen = now - timedelta(days=300 - index * 20)
        tmall, _, _ = archive_service.upsert_customer(session, actor=actor, data=CustomerIn(
            identities=[buyer], first_channel="tmall-flagship", first_seen_at=first_seen))
        sku, product, category, price = products[index % len(products)]
        orders_service.record_order(session, actor=actor, data=OrderIn(
            external_id=f"TB-MERGE-{index:04d}", channel="tmall-flagship", status=OrderStatus.COMPLETED,
            placed_at=first_seen + timedelta(days=1), paid_at=first_seen + timedelta(days=1, minutes=2),
            customer_id=tmall.id, lines=[OrderLineIn(sku=sku, product_name=product, category=category, quantity=1,
                                                     unit_price_fen=price)]))
        member, _, _ = archive_service.upsert_customer(session, actor=actor, data=CustomerIn(
            name=name, gender=gender, city=city, first_channel="mini-program",
            first_seen_at=first_seen + timedelta(days=40),
            identities=[IdentityIn(kind="wechat_unionid", value=f"o6_merge{index:04d}"),
                        IdentityIn(kind="phone", value=phone)]))
        customers_service.record_consent(session, actor=actor, customer_id=member.id, data=ConsentIn(
            channel="sms", status="granted", method="小程序会员注册", occurred_at=first_seen + timedelta(days=40)))
        customers_service.record_consent(session, actor=actor, customer_id=member.id, data=ConsentIn(
            channel="email", status="granted", method="小程序会员注册", occurred_at=first_seen + timedelta(days=40)))
        # The Tmall buyer joins the brand's membership with the same phone: both records become one customer.
        merged, _, _ = archive_service.upsert_customer(
            session, actor=actor, merge_reason="天猫会员绑定手机号（与小程序会员为同一人）",
            data=CustomerIn(name=name, gender=gender, city=city, identities=[
                buyer, IdentityIn(kind="phone", value=phone), IdentityIn(kind="email", value=email)]))
        people.append(Person(merged.id, name, phone, email))
    return people
