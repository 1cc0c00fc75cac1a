"""The console as a signed-in member sees it: a seeded brand, sign-in, HTMX requests."""

from dataclasses import dataclass
from datetime import date, datetime

from fastapi.testclient import TestClient

from tests.helpers.tenants import Tenant
from yutang.archive import service as archive_service
from yutang.channels import service as channels_service
from yutang.channels.schemas import ChannelCostIn, ChannelIn
from yutang.customers import service as customers_service
from yutang.customers.schemas import ConsentIn, CustomerIn, CustomerPatch
from yutang.orders import service as orders_service
from yutang.orders.schemas import OrderIn
from yutang.tags import service as tags_service
from yutang.tags.schemas import TagGroupIn, TagRef
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import system_actor
from yutang.workspaces.schemas import MemberIn


@dataclass
class Brand:
    """A seeded workspace: its owner tenant, customer ids, tag and channel ids, and keys for other roles."""

    tenant: Tenant
    zhang: int
    li: int
    tea: int
    tmall: int
    analyst_key: str
    guide_key: str


def seed_brand(database, tenant: Tenant) -> Brand:
    """Two channels (one with spend), three customers, a tag, an order, a consent, an analyst and a guide."""
    actor = tenant.actor

    def customer(session, name: str, kind: str, value: str, channel: str | None = None):
        data = CustomerIn(name=name, first_channel=channel, identities=[{"kind": kind, "value": value}])
        return archive_service.upsert_customer(session, actor=actor, data=data)[0]

    with database.unit_of_work() as session:
        channels_service.create_channel(session, actor=actor, data=ChannelIn(
            code="mp", name="小程序商城", kind="mini_program", role="primary"))
        tmall = channels_service.create_channel(session, actor=actor, data=ChannelIn(
            code="tmall", name="天猫旗舰店", kind="tmall_shop"))
        channels_service.add_cost(session, actor=actor, channel_id=tmall.id, data=ChannelCostIn(
            period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), amount_fen=1_234_500))
        zhang = customer(session, "张三", "phone", "13800138000", "mp")
        li = customer(session, "李四", "phone", "13900139000", "tmall")
        customer(session, "王五", "email", "wang@example.com")
        tags_service.create_group(session, actor=actor, data=TagGroupIn(name="兴趣", tags=["绿茶", "咖啡"]))
        tea = tags_service.resolve(session, actor=actor, refs=[TagRef(group="兴趣", name="绿茶")])[0]
        tags_service.apply(session, actor=actor, customer_ids=[zhang.id], add=[tea], remove=[])
        orders_service.record_order(session, actor=actor, data=OrderIn(
            external_id="MP-1001", channel="mp", status="paid", customer_id=zhang.id,
            placed_at=datetime.fromisoformat("2026-11-01T10:00+08:00"),
            lines=[{"sku": "LJ-250", "product_name": "明前龙井", "quantity": 2, "unit_price_fen": 615}]))
        customers_service.record_consent(session, actor=actor, customer_id=zhang.id, data=ConsentIn(
            channel="sms", status="granted", method="小程序勾选"))
        _, analyst = workspaces_service.add_member(session, actor=actor,
                                                   data=MemberIn(name="Ana", role="analyst"))
        guide, guide_key = workspaces_service.add_member(session, actor=actor,
                                                         data=MemberIn(name="小周", role="guide"))
        customers_service.update_customer(session, actor=actor, customer_id=li.id,
                                          data=CustomerPatch(assigned_member_id=guide.id))
    return Brand(tenant=tenant, zhang=zhang.id, li=li.id, tea=tea.id, tmall=tmall.id,
                 analyst_key=analyst.secret, guide_key=guide_key.secret)


def signed_in(app, key: str) -> TestClient:
    """A fresh client (its own cookie jar) signed in to the console with the key (the sign-in form)."""
    client = TestClient(app)
    response = client.post("/console/login", data={"key": key}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def sign_in_link(database, key: str) -> str:
    """A one-time sign-in link path for the key's member, minted as `yutang workspace sign-in-link` does."""
    with database.unit_of_work() as session:
        member = workspaces_service.authenticate(session, secret=key)
        issued = workspaces_service.mint_sign_in_link(session, actor=system_actor(member.workspace_id),
                                                      member_id=member.member_id)
    return f"/console/sign-in/{issued.token}"


HTMX = {"HX-Request": "true"}
