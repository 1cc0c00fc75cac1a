"""Planning on the warehouse (both backends): WeCom's monthly group-send cap counts sends in the local month,
once per message however many events it has, and competing campaigns spend it highest priority first."""

import json
from datetime import UTC, datetime, timedelta

from yutang.messaging import planning, pressure

WECOM = 10**9 + 7  # a channel configuration id only this test uses


def test_wecom_monthly_cap_and_priority(api, pipeline, tenant):
    ids = [api.post("/v1/customers", json={"name": f"P{n}", "identities": [
        {"kind": "phone", "value": f"1360001{n:04d}"}]}).json()["customer"]["id"] for n in range(3)]
    pipeline.catch_up()
    warehouse, now = pipeline.warehouse, datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 local
    segment = 10**9 + tenant.id
    with warehouse.transaction() as tx:
        tx.insert_rows("segment_members", [{"workspace_id": tenant.id, "segment_id": segment, "customer_id": cid,
                                            "entered_at": now} for cid in ids])
        rows = []
        # ids[0]: 4 WeCom group sends this month (each queued, then sent: two events, one message);
        # ids[1]: 3 this month; ids[2]: 3 this month plus 5 the month before (not counted).
        for cid, this_month, before in ((ids[0], 4, 0), (ids[1], 3, 0), (ids[2], 3, 5)):
            for n in range(this_month + before):
                at = now - timedelta(minutes=n + 1) if n < this_month else now - timedelta(days=40 + n)
                for event in ("Message Queued", "Message Sent"):
                    rows.append({"workspace_id": tenant.id, "message_id": f"plan-{cid}-{n}-{event}", "type": "track",
                                 "event": event, "customer_id": cid, "source": "yutang", "ts": at, "received_at": at,
                                 "properties": json.dumps({"message_id": cid * 100 + n, "channel_config_id": WECOM,
                                                           "purpose": "marketing"})})
        tx.insert_rows("events", rows)
    rules = pressure.Rules(caps=(), timezone="Asia/Shanghai", wecom_group_sends_per_month=4)
    low = planning.Campaign(id=1, channel_kind="wecom", priority=1, dynamic_segments=(segment,))
    high = planning.Campaign(id=2, channel_kind="wecom", priority=9, dynamic_segments=(segment,))
    plans = planning.plan(warehouse, workspace_id=tenant.id, campaigns=[low, high], rules=rules,
                          channel_kinds={WECOM: "wecom"}, now=now)
    decided = {k: {cid: (d.send, d.reason) for cid, d in plan.decisions().items()} for k, plan in plans.items()}
    assert decided[2] == {ids[0]: (False, "wecom_monthly_cap"), ids[1]: (True, None), ids[2]: (True, None)}
    assert decided[1] == {cid: (False, "wecom_monthly_cap") for cid in ids}
    assert plans[1].counts()["by_reason"] == {"wecom_monthly_cap": 3}
    # Service messages are not group-send marketing: nothing holds them back.
    service = planning.Campaign(id=3, channel_kind="wecom", purpose="service", dynamic_segments=(segment,))
    assert planning.plan(warehouse, workspace_id=tenant.id, campaigns=[service], rules=rules,
                         channel_kinds={WECOM: "wecom"}, now=now)[3].counts()["send"] == 3
