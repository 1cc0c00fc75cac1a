"""The global holdout: a stable hashed share of customers that gets no marketing (broadcasts, journeys), locked
while experiments run, and marketing's incremental revenue measured against it."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.helpers.customers import post_customer
from tests.helpers.journeys import enrol, live_journey, null_channel
from yutang.messaging import pressure
from yutang.messaging.models import Message

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai, outside any quiet hours


def test_the_share_is_stable_spread_and_the_same_in_sql(pipeline):
    # Any run of consecutive ids holds the share, and another workspace draws a different set
    for first, count in ((1, 1_000), (40_001, 2_000), (7_000_000_001, 1_000)):
        held = sum(pressure.held_out(3, i, 500) for i in range(first, first + count))
        assert abs(held / count - 0.05) < 0.006, (first, held)
    mine = {i for i in range(1, 2_001) if pressure.held_out(3, i, 1_000)}
    theirs = {i for i in range(1, 2_001) if pressure.held_out(4, i, 1_000)}
    assert mine != theirs and len(mine & theirs) < len(mine) // 2
    # The warehouse computes the same bits (DuckDB or PostgreSQL)
    ids = [1, 2, 13, 34, 999, 123_456, 2_147_483_646, 9_000_000_000_123]
    rows = pipeline.warehouse.query(
        "SELECT v.id, " + pressure.held_out_sql("v.id", "w", "share") + " FROM (SELECT unnest(CAST(%(ids)s AS "
        "BIGINT[])) AS id) v", {"ids": ids, "w": 3, "share": 1_000})
    assert {i: bool(h) for i, h in rows} == {i: pressure.held_out(3, i, 1_000) for i in ids}


def test_the_rule_core_holds_marketing_back_but_lets_service_through():
    rules = pressure.Rules(holdout_bp=500)
    held = pressure.Customer(id=1, held_out=True)
    decisions = pressure.decide([pressure.Candidate(1, 10, "sms"), pressure.Candidate(1, 11, "sms", purpose="service")],
                                {1: held}, rules, NOW)
    assert [(d.send, d.reason) for d in decisions] == [(False, "holdout"), (True, None)]


def test_a_broadcast_leaves_the_holdout_out(api, tenant, pipeline):
    # Given a 20% holdout and 40 customers in a segment, reachable by email
    assert api.put("/v1/messaging/pressure", json={"caps": [], "holdout_bp": 2000}).json()["holdout_bp"] == 2000
    config = api.post("/v1/messaging/channels", json={"kind": "email", "name": "Mail", "settings": {
        "host": "127.0.0.1", "port": 9, "sender": "brand@shop.example"}}).json()
    template = api.post("/v1/messaging/templates", json={
        "name": "新品", "channel_kind": "email", "purpose": "marketing", "subject": "新茶", "body": "秋茶上新"}).json()
    ids = [post_customer(api, f"客{i}", fields={"city": "苏州"}, email=f"h{i}@example.com") for i in range(40)]
    pipeline.catch_up()
    segment = api.post("/v1/segments", json={"name": "苏州", "rule": {
        "type": "attribute", "field": "city", "op": "eq", "value": "苏州"}}).json()
    # When a marketing broadcast is previewed
    preview = api.post("/v1/broadcasts/preview", json={
        "name": "p", "segment_ids": [segment["id"]], "channel_id": config["id"], "template_id": template["id"],
        "send_at": NOW.isoformat()})
    assert preview.status_code == 200, preview.text
    # Then exactly the held-out customers are suppressed, with the reason
    held = sum(pressure.held_out(tenant.id, i, 2000) for i in ids)
    assert 0 < held < 40
    assert preview.json()["by_reason"] == {"holdout": held} and preview.json()["send"] == 40 - held


def test_the_holdout_is_locked_while_an_experiment_runs(api):
    assert api.put("/v1/messaging/pressure", json={"holdout_bp": 500}).status_code == 200
    live_journey(api, {"entry": {"kind": "api"}, "goal": {"event": "Order Placed", "within_days": 7},
                       "start": "split", "steps": {"split": {
                           "kind": "experiment", "name": "欢迎语测试",
                           "variants": [{"key": "control"}, {"key": "warm"}], "min_per_variant": 10,
                           "horizon_days": 7}}}, name="实验旅程")
    changed = api.put("/v1/messaging/pressure", json={"holdout_bp": 1000})
    assert changed.status_code == 409 and changed.json()["errors"][0]["field"] == "holdout_bp"
    assert "实验旅程" in changed.json()["detail"]
    # Other rules still change, the share stays
    kept = api.put("/v1/messaging/pressure", json={"holdout_bp": 500, "quiet_start": "22:00", "quiet_end": "08:00"})
    assert kept.status_code == 200 and kept.json()["holdout_bp"] == 500


def test_incremental_revenue_against_the_holdout(api, tenant, pipeline):
    # Given a 20% holdout, 60 customers, and orders in the range: 100 yuan from each marketed customer with an even
    # index, 50 yuan from each held-out one with an even index
    api.post("/v1/channels", json={"code": "mp", "name": "MP", "kind": "mini_program"})
    assert api.put("/v1/messaging/pressure", json={"holdout_bp": 2000}).status_code == 200
    ids = [post_customer(api, f"顾{i}", fields={"first_seen_at": "2026-10-01T10:00:00+08:00"}) for i in range(60)]
    held = {i for i in ids if pressure.held_out(tenant.id, i, 2000)}
    paid = {}
    for n, customer in enumerate(ids):
        if n % 2 == 0:
            fen = 5_000 if customer in held else 10_000
            order = api.post("/v1/orders", json={
                "external_id": f"H{n}", "channel": "mp", "status": "paid", "customer_id": customer,
                "placed_at": (datetime(2026, 11, 10, 2, 0, tzinfo=UTC) + timedelta(minutes=n)).isoformat(),
                "lines": [{"sku": "T", "quantity": 1, "unit_price_fen": fen}]})
            assert order.status_code == 200, order.text
            paid[customer] = fen
    pipeline.catch_up()
    # When the report is read for 1–15 November
    answer = api.get("/v1/analytics/holdout", params={"period": "custom", "start": "2026-11-01",
                                                      "end": "2026-11-15"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # Then each side's figures are the ones worked out here, and the increment is the difference times the marketed
    marketed = [c for c in ids if c not in held]
    per_marketed = sum(paid.get(c, 0) for c in marketed) / len(marketed)
    per_held = sum(paid.get(c, 0) for c in held) / len(held)
    assert body["holdout_bp"] == 2000
    assert body["marketed"] == {"customers": len(marketed), "buyers": sum(1 for c in marketed if c in paid),
                                "revenue_fen": sum(paid.get(c, 0) for c in marketed),
                                "revenue_per_customer_fen": per_marketed}
    assert body["held_out"]["customers"] == len(held) and body["held_out"]["revenue_per_customer_fen"] == per_held
    assert body["incremental_revenue_fen"] == round((per_marketed - per_held) * len(marketed))
    assert abs(body["lift"] - (per_marketed / per_held - 1)) < 1e-9
    assert 0 <= body["p_value"] <= 1 and body["readable"] is False  # fewer than 100 held out


def test_a_journey_s_marketing_send_skips_the_holdout(api, client, tenant, database):
    # Given a journey whose first step is a marketing send, under a 20% holdout
    channel_id, template_id = null_channel(api)
    assert api.put("/v1/messaging/pressure", json={"caps": [], "holdout_bp": 2000}).status_code == 200
    journey = live_journey(api, {"entry": {"kind": "api"}, "start": "hello", "steps": {
        "hello": {"kind": "send", "channel_id": channel_id, "template_id": template_id, "next": "end"},
        "end": {"kind": "exit"}}}, name="假日问候")
    customers = [post_customer(api, f"旅{i}") for i in range(25)]
    enrolments = {c: enrol(api, journey["id"], c)["enrolment"]["id"] for c in customers}
    # When the runner takes the steps
    client.app.state.journeys.run_until_idle()
    # Then the held-out customers got nothing and the others one message each; all finished the journey
    with database.read_only() as session:
        sent = {customer for customer in session.scalars(select(Message.customer_id).where(
            Message.workspace_id == tenant.id, Message.idempotency_key.like("journey:%:hello:%")))}
    held = {c for c in customers if pressure.held_out(tenant.id, c, 2000)}
    assert held and sent == set(customers) - held
    assert {api.get(f"/v1/journeys/enrolments/{e}").json()["status"] for e in enrolments.values()} == {"done"}
