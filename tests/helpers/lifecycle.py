"""Lifecycle worlds: a shop that records customers, orders and events, and one worked out by hand, refreshed now."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.helpers.events import basic
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
class SeededShop:
    tenant: Tenant
    analyst_key: str


def seed_lifecycle(database, pipeline, tenant: Tenant) -> SeededShop:
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
    return SeededShop(tenant=tenant, analyst_key=analyst.secret)


NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 on 20 November, Beijing time
SETTINGS = {"repeat_orders": 2, "loyal_events": 5, "loyal_event_days": 30, "loyal_referrals": 1,
            "at_risk_days": 60, "dormant_days": 120, "churned_days": 240, "rfm_window_days": 365,
            "prediction_days": 365, "value_purchases": "order"}


def ago(days: float, **kwargs) -> datetime:
    return NOW - timedelta(days=days, **kwargs)



class Shop:
    """Puts customers, orders and events into a workspace through the services and the ingest API."""

    def __init__(self, database, client, api, tenant, pipeline):
        self.database, self.client, self.api, self.tenant, self.pipeline = database, client, api, tenant, pipeline
        self.ids: dict[str, int] = {}
        with database.unit_of_work() as session:
            channels_service.create_channel(session, actor=tenant.actor,
                                            data=ChannelIn(code="mp", name="小程序", kind="mini_program"))
        source = api.post("/v1/sources", json={"name": "app", "kind": "app"})
        self.write_key = source.json()["write_key"]
        self._orders = 0

    def customer(self, name: str) -> int:
        with self.database.unit_of_work() as session:
            customer, _ = customers_service.resolve_or_create(session, actor=self.tenant.actor, data=CustomerIn(
                name=name, identities=[{"kind": "app_user_id", "value": f"{self.tenant.slug}-{name}"}]))
            self.ids[name] = customer.id
        return customer.id

    def order(self, name: str, at: datetime, fen: int = 10_000, *, status: str = "completed",
              refunded_fen: int = 0) -> None:
        if name not in self.ids:
            self.customer(name)
        self._orders += 1
        with self.database.unit_of_work() as session:
            orders_service.record_order(session, actor=self.tenant.actor, data=OrderIn(
                external_id=f"O{self._orders}", channel="mp", status=status, placed_at=at - timedelta(minutes=5),
                paid_at=at if status not in ("pending", "cancelled") else None, customer_id=self.ids[name],
                refunded_fen=refunded_fen, lines=[{"sku": "LJ", "quantity": 1, "unit_price_fen": fen}]))

    def events(self, name: str, times: list[datetime], event: str = "Product Viewed") -> None:
        batch = [{"type": "track", "userId": f"{self.tenant.slug}-{name}", "event": event,
                  "messageId": secrets.token_hex(8), "timestamp": t.isoformat()} for t in times]
        response = self.client.post("/v1/batch", json={"batch": batch}, headers=basic(self.write_key))
        assert response.status_code == 200, response.text

    def compute(self, now: datetime = NOW):
        self.pipeline.catch_up()
        return tasks.compute(self.database.factory, self.pipeline.warehouse, actor=self.tenant.actor, now=now)

    def scores(self) -> dict[str, tuple]:
        rows = self.pipeline.warehouse.query(
            "SELECT customer_id, lifecycle_stage, rfm_r, rfm_f, rfm_m, rfm_class, historic_value_fen, "
            "predicted_value_fen FROM customer_scores WHERE workspace_id = %(w)s", {"w": self.tenant.id})
        names = {v: k for k, v in self.ids.items()}
        return {names[row[0]]: row[1:] for row in rows}
