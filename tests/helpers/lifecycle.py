"""A shop whose lifecycle stages, RFM classes and values are worked out by hand, refreshed now."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.helpers.tenants import Tenant
from yutang.channels import service as channels_service
from yutang.channels.schemas import ChannelIn
from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn
from yutang.lifecycle import tasks
from yutang.orders import service as orders_service
from yutang.orders.schemas import OrderIn
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.schemas import MemberIn

# What seed_lifecycle's shop comes to with the default settings (see its comments).
STAGES = [1, 1, 1, 0, 1, 0, 1]  # prospect, new, repeat, loyal, at risk, dormant, churned
RFM = [1, 1, 0, 0, 0, 0, 0, 1]  # important value (b), important development (a), …, general recovery (c)
HISTORIC_BUCKETS = [1, 2, 1, 0, 1, 0]  # ¥0, < ¥100, ¥100–¥500, ¥500–¥1,000, ¥1,000–¥5,000, ≥ ¥5,000


@dataclass
class Shop:
    tenant: Tenant
    analyst_key: str


def seed_lifecycle(database, pipeline, tenant: Tenant) -> Shop:
    """Five customers whose stages, RFM classes and values are worked out by hand above, refreshed now."""
    actor, now = tenant.actor, datetime.now(UTC)
    with database.unit_of_work() as session:
        channels_service.create_channel(session, actor=actor, data=ChannelIn(code="mp", name="小程序",
                                                                             kind="mini_program"))
        customers_service.resolve_or_create(session, actor=actor, data=CustomerIn(
            name="p", identities=[{"kind": "app_user_id", "value": "p"}]))  # never bought: prospect
        plan = {"a": [(3, 20_000)],  # new; R 3, F 1, M 3: important development
                "b": [(10, 60_000), (1, 60_000)],  # repeat; 5, 5, 5: important value
                "c": [(100, 5_000)],  # at risk (90 days); 1, 1, 1: general recovery
                "d": [(400, 8_000)]}  # churned (365 days); outside the RFM window
        for name, orders in plan.items():
            for n, (days, fen) in enumerate(orders):
                at = now - timedelta(days=days)
                orders_service.record_order(session, actor=actor, data=OrderIn(
                    external_id=f"{name}{n}", channel="mp", status="completed", placed_at=at, paid_at=at,
                    buyer=[{"kind": "app_user_id", "value": name}],
                    lines=[{"sku": "LJ", "quantity": 1, "unit_price_fen": fen}]))
        _, analyst = workspaces_service.add_member(session, actor=actor, data=MemberIn(name="Ana", role="analyst"))
    pipeline.catch_up()
    tasks.compute(database.factory, pipeline.warehouse, actor=actor)
    return Shop(tenant=tenant, analyst_key=analyst.secret)
