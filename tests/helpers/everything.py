"""A workspace with one of everything, and sample bodies naming its ids, for sweeps over every operation."""

import re

from tests.helpers.events import basic
from tests.helpers.images import screenshot
from tests.peers.server import serve
from tests.peers.wecom import FakeWeCom

# Bodies for operations that need one; "{name}" stands for the id of that name in one_of_everything's answer.
SAMPLE_BODIES = {
    ("POST", "/v1/members"): {"name": "x", "role": "operator"},
    ("PATCH", "/v1/members/{member_id}"): {"name": "hijacked"},
    ("PATCH", "/v1/sources/{source_id}"): {"name": "hijacked"},
    ("POST", "/v1/channels"): {"code": "intruder", "name": "x", "kind": "app"},
    ("PATCH", "/v1/channels/{channel_id}"): {"name": "hijacked"},
    ("POST", "/v1/channels/{channel_id}/costs"): {"period_start": "2026-01-01", "period_end": "2026-01-31",
                                                  "amount_fen": 1},
    ("POST", "/v1/customers"): {"identities": [{"kind": "phone", "value": "13800138000"}]},
    ("PATCH", "/v1/customers/{customer_id}"): {"name": "hijacked"},
    ("POST", "/v1/customers/{customer_id}/identities"): [{"kind": "email", "value": "x@example.com"}],
    ("POST", "/v1/customers/{customer_id}/merge"): {"loser_id": "{customer2_id}"},
    ("POST", "/v1/customers/{customer_id}/consents"): {"channel": "sms", "status": "withdrawn", "method": "x"},
    ("POST", "/v1/customers/{customer_id}/notes"): {"body": "hijacked"},
    ("POST", "/v1/customers/{customer_id}/channels"): {"channel": "mp", "joined": False},
    ("POST", "/v1/customers/{customer_id}/tags"): {"add": [{"id": "{tag_id}"}]},
    ("POST", "/v1/tag-groups"): {"name": "intruder"},
    ("POST", "/v1/tags"): {"group_id": "{group_id}", "name": "intruder"},
    ("POST", "/v1/tags/bulk"): {"customer_ids": ["{customer_id}"], "add": [{"id": "{tag_id}"}]},
    ("PATCH", "/v1/tags/{tag_id}"): {"name": "intruder"},
    ("POST", "/v1/segments/{segment_id}/duplicate"): {"name": "intruder"},
    ("PATCH", "/v1/tag-groups/{group_id}"): {"name": "intruder"},
    ("POST", "/v1/orders"): {"external_id": "X1", "channel": "mp", "status": "paid",
                             "placed_at": "2026-01-01T00:00:00Z", "customer_id": "{customer_id}",
                             "lines": [{"sku": "S", "quantity": 1, "unit_price_fen": 1}]},
    ("PATCH", "/v1/messaging/channels/{config_id}"): {"enabled": False},
    ("POST", "/v1/messaging/channels/{config_id}/wecom/contacts-sync"): {"staff_userids": ["zhangsan"]},
    ("PUT", "/v1/messaging/templates/{template_id}"): {"name": "hijacked", "channel_kind": "null", "body": "x"},
    ("POST", "/v1/messaging/templates/preview"): {"template_id": "{template_id}"},
    ("POST", "/v1/messages"): {"channel_id": "{config_id}", "customer_id": "{customer_id}", "body": "x"},
    ("POST", "/v1/messages/{message_id}/delivery"): {"status": "delivered"},
    ("POST", "/v1/inbox/messages"): {"channel_id": "{config_id}", "identity_kind": "phone",
                                     "identity_value": "13900139000", "body": "x"},
    ("POST", "/v1/inbox/threads/{thread_id}/replies"): {"body": "hijacked"},
    ("POST", "/v1/inbox/threads/{thread_id}/assign"): {"member_id": "{member_id}"},
    ("POST", "/v1/loyalty/points/earn"): {"customer_id": "{customer_id}", "points": 5, "idempotency_key": "x"},
    ("POST", "/v1/loyalty/points/redeem"): {"customer_id": "{customer_id}", "points": 1, "idempotency_key": "y"},
    ("POST", "/v1/loyalty/points/reverse"): {"entry_id": "{entry_id}", "idempotency_key": "z"},
    ("POST", "/v1/loyalty/points/adjust"): {"customer_id": "{customer_id}", "points": -1, "idempotency_key": "w",
                                            "reason": "x"},
    ("PUT", "/v1/loyalty/rules/{rule_id}"): {"name": "x", "kind": "event", "event_name": "X", "points": 1},
    ("PUT", "/v1/loyalty/tiers/{tier_id}"): {"name": "x", "rank": 9, "threshold": 1},
    ("PUT", "/v1/loyalty/coupon-templates/{coupon_template_id}"): {"name": "x", "kind": "fixed", "value_fen": 1,
                                                            "valid_days": 1},
    ("POST", "/v1/loyalty/coupon-templates/{coupon_template_id}/issue"): {"customer_id": "{customer_id}",
                                                                   "idempotency_key": "i"},
    ("POST", "/v1/loyalty/coupon-templates/{coupon_template_id}/issue-bulk"): {"customer_ids": ["{customer_id}"],
                                                                        "idempotency_key": "b"},
    ("POST", "/v1/loyalty/coupons/{coupon_id}/redeem"): {"order_ref": "o", "order_amount_fen": 100000},
    ("POST", "/v1/loyalty/submissions/{submission_id}/review"): {"approve": True},
    ("POST", "/v1/loyalty/tasks/{task_id}/submissions"): {"multipart": "see tests/test_loyalty_tasks.py"},
    ("POST", "/v1/segments"): {"name": "x", "rule": {"type": "tag", "tag_ids": ["{tag_id}"]}},
    ("POST", "/v1/segments/preview"): {"rule": {"type": "channel", "channel_ids": ["{channel_id}"]}},
    ("PATCH", "/v1/segments/{segment_id}"): {"name": "hijacked"},
    ("PATCH", "/v1/analytics/reports/{report_id}"): {"pinned": False},
    ("POST", "/v1/broadcasts"): {"name": "x", "segment_ids": ["{segment_id}"], "channel_id": "{config_id}",
                                 "template_id": "{template_id}", "send_at": "2099-01-01T00:00:00Z"},
    ("POST", "/v1/broadcasts/preview"): {"name": "x", "segment_ids": ["{segment_id}"], "channel_id": "{config_id}",
                                         "template_id": "{template_id}"},
    ("PUT", "/v1/messaging/pressure"): {"caps": []},
    ("POST", "/v1/segments/{segment_id}/members"): {"customer_ids": ["{customer_id}"]},
    ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"): {"url": "https://example.com/hijacked"},
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret"): {"grace_seconds": 0},
    ("POST", "/v1/stores"): {"code": "intruder", "name": "x"},
    ("PATCH", "/v1/stores/{store_id}"): {"name": "hijacked"},
    ("POST", "/v1/stores/staff"): {"name": "x", "store_id": "{store_id}"},
    ("POST", "/v1/stores/staff/wecom-sync"): {"config_id": "{config_id}", "store_id": "{store_id}"},
    ("PATCH", "/v1/stores/staff/{staff_id}"): {"name": "hijacked"},
    ("POST", "/v1/stores/staff/{staff_id}/leave"): {},
    ("PUT", "/v1/stores/ownership/settings"): {"rule": "store_assignment", "protection_days": 1},
    ("POST", "/v1/stores/owners/{customer_id}/claim"): {"member_id": "{member_id}"},
    ("POST", "/v1/stores/owners/{customer_id}/reassign"): {"member_id": "{member_id}", "note": "hijacked"},
    ("POST", "/v1/stores/codes"): {"code": "intruder", "name": "x", "kind": "guide", "config_id": "{config_id}",
                                   "staff_ids": ["{staff_id}"]},
    ("PATCH", "/v1/stores/codes/{code_id}"): {"name": "hijacked"},
    ("POST", "/v1/stores/handovers"): {"config_id": "{config_id}", "from_staff_id": "{staff_id}",
                                       "to_staff_id": "{staff_id}"},
    ("POST", "/v1/stores/tasks"): {"staff_id": "{staff_id}", "title": "x", "due_at": "2099-01-01T00:00:00Z"},
    ("POST", "/v1/stores/kpis/behavior-sync"): {"config_id": "{config_id}", "day": "2026-01-01"},
    ("PATCH", "/v1/stores/personas/{persona_id}"): {"name": "hijacked"},
    ("PUT", "/v1/stores/kpis/targets"): {"staff_id": "{staff_id}", "month": "2026-01", "new_adds": 1},
    ("POST", "/v1/stores/tasks/send"): {"config_id": "{config_id}", "staff_id": "{staff_id}",
                                       "customer_ids": ["{customer_id}"], "text": "x"},
    ("POST", "/v1/groups/wecom-sync"): {"config_id": "{config_id}"},
    ("POST", "/v1/groups/statistics/pull"): {"config_id": "{config_id}", "start": "2026-01-01", "end": "2026-01-02"},
    ("POST", "/v1/groups/{group_chat_id}/activity"): {"day": "2026-01-01", "messages": 3, "speakers": []},
    ("POST", "/v1/groups/moments"): {"config_id": "{config_id}", "text": "x", "staff_userids": ["x"]},
    ("POST", "/v1/groups/sends"): {"config_id": "{config_id}", "group_ids": ["{group_chat_id}"], "text": "x"},
    ("POST", "/v1/groups/codes"): {"config_id": "{config_id}", "name": "x", "state": "intruder",
                                   "group_ids": ["{group_chat_id}"], "room_base_name": "x"},
    ("POST", "/v1/library/folders"): {"name": "intruder"},
    ("POST", "/v1/library/materials"): {"kind": "text", "title": "intruder", "text": "x", "folder_id": "{folder_id}"},
    ("PATCH", "/v1/library/materials/{material_id}"): {"title": "hijacked"},
    ("POST", "/v1/library/materials/{material_id}/uses"): {"customer_ids": ["{customer_id}"]},
    ("POST", "/v1/journeys"): {"name": "intruder", "definition": {
        "entry": {"kind": "api"}, "start": "end", "steps": {"end": {"kind": "exit"}}}},
    ("PATCH", "/v1/journeys/{journey_id}"): {"name": "hijacked"},
    ("POST", "/v1/journeys/{journey_id}/enrolments"): {"customer_id": "{customer_id}"},
    ("POST", "/v1/referral/programmes"): {"name": "intruder"},
    ("POST", "/v1/referral/programmes/{programme_id}/codes"): {"customer_id": "{customer_id}"},
    ("POST", "/v1/referral/touches"): {"code": "{referral_code}", "customer_id": "{customer2_id}"},
    ("POST", "/v1/referral/attributions/{attribution_id}/review"): {"decision": "void"},
    ("POST", "/v1/referral/distributors"): {"programme_id": "{programme_id}", "customer_id": "{customer_id}"},
    ("PATCH", "/v1/referral/distributors/{distributor_id}"): {"status": "suspended"},
    ("POST", "/v1/referral/bindings"): {"code": "{distributor_code}", "customer_id": "{customer2_id}"},
    ("POST", "/v1/commissions/accounts/{account_id}/payouts"): {"idempotency_key": "intruder"},
    ("POST", "/v1/commissions/batches"): {},
    ("POST", "/v1/groupbuys"): {"title": "intruder", "starts_at": "2020-01-01T00:00:00Z",
                                "cutoff_at": "2099-01-01T00:00:00Z", "production_date": "2099-01-02",
                                "items": [{"sku": "X", "name": "x", "price_fen": 100}]},
    ("PATCH", "/v1/groupbuys/{groupbuy_id}"): {"title": "hijacked"},
    ("POST", "/v1/groupbuys/leaders"): {"name": "intruder"},
    ("POST", "/v1/groupbuys/points"): {"name": "intruder", "leader_id": "{leader_id}"},
    ("POST", "/v1/groupbuys/{groupbuy_id}/entries"): {
        "request_key": "intruder", "customer_id": "{customer_id}", "point_id": "{point_id}",
        "lines": [{"item_id": "{groupbuy_item_id}", "quantity": 1}]},
    ("POST", "/v1/groupbuys/{groupbuy_id}/verify"): {"code": "{entry_code}"},
    ("POST", "/v1/groupbuys/{groupbuy_id}/endings"): {"entry_id": "{entry_id}", "item_id": "{groupbuy_item_id}",
                                                      "ending": "buyer_walked_away"},
    ("POST", "/v1/groupbuys/{groupbuy_id}/refunds"): {"entry_id": "{entry_id}", "item_id": "{groupbuy_item_id}",
                                                      "refund_fen": 1},
}


def fill(value, ids):
    """The value with every "{name}" placeholder replaced by that id."""
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value):
        return ids[value[1:-1]]
    return value


def one_of_everything(client, tenant) -> dict:
    """One of every kind of object in the tenant's workspace, made through the API; their ids by placeholder name."""
    h = tenant.headers
    ids = {}
    ids["channel_id"] = client.post("/v1/channels", headers=h, json={"code": "mp", "name": "MP",
                                                                     "kind": "mini_program"}).json()["id"]
    ids["customer_id"] = client.post("/v1/customers", headers=h, json={
        "name": "Victim", "identities": [{"kind": "phone", "value": "13900139000"}]}).json()["customer"]["id"]
    ids["customer2_id"] = client.post("/v1/customers", headers=h, json={
        "name": "Victim2", "identities": [{"kind": "phone", "value": "13900139001"}]}).json()["customer"]["id"]
    group = client.post("/v1/tag-groups", headers=h, json={"name": "G", "tags": ["T"]}).json()
    ids["group_id"], ids["tag_id"] = group["id"], group["tags"][0]["id"]
    order = client.post("/v1/orders", headers=h, json={
        "external_id": "A1", "channel": "mp", "status": "paid", "placed_at": "2026-01-01T00:00:00Z",
        "customer_id": ids["customer_id"], "lines": [{"sku": "S", "quantity": 1, "unit_price_fen": 100}]})
    ids["order_id"] = order.json()["id"]
    ids["member_id"] = client.get("/v1/me", headers=h).json()["member_id"]
    ids["key_id"] = client.get("/v1/api-keys", headers=h).json()[0]["id"]
    source = client.post("/v1/sources", headers=h, json={"name": "app"}).json()
    ids["source_id"] = source["id"]
    client.post("/v1/identify", headers=basic(source["write_key"]),
                json={"userId": "victim-app", "traits": {"phone": "12345"}})
    client.app.state.pipeline.catch_up()
    ids["dead_letter_id"] = client.get("/v1/events/dead-letters", headers=h).json()["items"][0]["id"]
    ids["config_id"] = client.post("/v1/messaging/channels", headers=h, json={"kind": "null", "name": "N"}).json()["id"]
    ids["template_id"] = client.post("/v1/messaging/templates", headers=h, json={
        "name": "T", "channel_kind": "null", "body": "Hi {{ name }}"}).json()["id"]
    ids["message_id"] = client.post("/v1/messages", headers=h, json={
        "channel_id": ids["config_id"], "customer_id": ids["customer_id"],
        "template_id": ids["template_id"]}).json()["id"]
    ids["thread_id"] = client.post("/v1/inbox/messages", headers=h, json={
        "channel_id": ids["config_id"], "identity_kind": "phone", "identity_value": "13900139000",
        "body": "hello"}).json()["id"]
    ids["queue_id"] = client.post("/v1/inbox/queues", headers=h, json={"name": "Q"}).json()["id"]
    _loyalty(client, h, ids)
    ids["segment_id"] = client.post("/v1/segments", headers=h, json={
        "name": "Victims", "rule": {"type": "tag", "tag_ids": [ids["tag_id"]]}}).json()["id"]
    ids["broadcast_id"] = client.post("/v1/broadcasts", headers=h, json={
        "name": "B", "segment_ids": [ids["segment_id"]], "channel_id": ids["config_id"],
        "template_id": ids["template_id"], "send_at": "2099-01-01T00:00:00Z"}).json()["id"]
    _webhooks(client, h, ids)
    _stores(client, h, ids)
    _journeys(client, h, ids)
    _referral(client, h, ids)
    _groupbuys(client, h, ids)
    ids["report_id"] = client.post("/v1/analytics/reports", headers=h, json={
        "name": "Victim funnel", "kind": "pond_health", "params": {"weeks": 4}, "pinned": True}).json()["id"]
    return ids


def _referral(client, h, ids):
    programme = client.post("/v1/referral/programmes", headers=h, json={"name": "Victim programme", "config": {
        "commission_depth": 1, "rates_bp": [1000]}}).json()
    ids["programme_id"] = programme["id"]
    code = client.post(f"/v1/referral/programmes/{programme['id']}/codes", headers=h,
                       json={"customer_id": ids["customer_id"]}).json()
    ids["referral_code"] = code["code"]
    ids["attribution_id"] = client.post("/v1/referral/touches", headers=h, json={
        "code": code["code"], "customer_id": ids["customer2_id"]}).json()["id"]
    distribution = client.post("/v1/referral/programmes", headers=h, json={
        "name": "Victim 分销", "kind": "distribution", "config": {"commission_depth": 1, "rates_bp": [1000]}}).json()
    distributor = client.post("/v1/referral/distributors", headers=h, json={
        "programme_id": distribution["id"], "customer_id": ids["customer_id"]}).json()
    ids["distributor_id"], ids["distributor_code"] = distributor["id"], distributor["code"]
    client.patch(f"/v1/referral/distributors/{distributor['id']}", headers=h, json={"status": "approved"})
    client.post("/v1/referral/bindings", headers=h, json={"code": distributor["code"], "at": "2025-12-31T00:00:00Z",
                                                         "customer_id": ids["customer2_id"]})
    order = client.post("/v1/orders", headers=h, json={
        "external_id": "V-REF", "channel": "mp", "status": "paid", "placed_at": "2026-01-01T00:00:00Z",
        "customer_id": ids["customer2_id"], "paid_fen": 10000, "total_fen": 10000,
        "lines": [{"sku": "S", "quantity": 1, "unit_price_fen": 10000}]}).json()
    entries = client.post(f"/v1/referral/orders/{order['id']}/commissions", headers=h).json()
    ids["account_id"] = entries[0]["account_id"]
    ids["batch_id"] = client.post("/v1/commissions/batches", headers=h, json={}).json()["id"]


def _journeys(client, h, ids):
    journey = client.post("/v1/journeys", headers=h, json={"name": "Victim journey", "definition": {
        "entry": {"kind": "api"}, "start": "split", "steps": {
            "split": {"kind": "experiment", "name": "Victim test", "metric": {"event": "Order Paid"},
                      "variants": [{"key": "a", "next": "later"}, {"key": "b", "next": "later"}]},
            "later": {"kind": "wait", "days": 30, "next": "end"}, "end": {"kind": "exit"}}}}).json()
    ids["journey_id"], ids["step"] = journey["id"], "split"
    client.post(f"/v1/journeys/{journey['id']}/publish", headers=h)
    ids["enrolment_id"] = client.post(f"/v1/journeys/{journey['id']}/enrolments", headers=h, json={
        "customer_id": ids["customer_id"]}).json()["enrolment"]["id"]


def _groupbuys(client, h, ids):
    ids["leader_id"] = client.post("/v1/groupbuys/leaders", headers=h, json={"name": "Victim leader"}).json()["id"]
    ids["point_id"] = client.post("/v1/groupbuys/points", headers=h, json={
        "name": "Victim point", "leader_id": ids["leader_id"]}).json()["id"]
    groupbuy = client.post("/v1/groupbuys", headers=h, json={
        "title": "Victim bakery", "deposit_kind": "earnest", "starts_at": "2020-01-01T00:00:00Z",
        "cutoff_at": "2099-01-01T00:00:00Z", "production_date": "2099-01-02",
        "items": [{"sku": "LOAF", "name": "Victim loaf", "price_fen": 1500, "deposit_fen": 300}]}).json()
    ids["groupbuy_id"], ids["groupbuy_item_id"] = groupbuy["id"], groupbuy["items"][0]["id"]
    client.post(f"/v1/groupbuys/{groupbuy['id']}/publish", headers=h)
    entry = client.post(f"/v1/groupbuys/{groupbuy['id']}/entries", headers=h, json={
        "request_key": "victim", "customer_id": ids["customer_id"], "point_id": ids["point_id"],
        "lines": [{"item_id": ids["groupbuy_item_id"], "quantity": 1}]}).json()
    ids["entry_id"], ids["entry_code"] = entry["id"], entry["code"]


def _stores(client, h, ids):
    ids["store_id"] = client.post("/v1/stores", headers=h, json={"code": "victim", "name": "Victim store",
                                                                 "region": "East"}).json()["id"]
    guide = client.post("/v1/members", headers=h, json={"name": "Victim guide", "role": "guide"}).json()
    ids["staff_id"] = client.post("/v1/stores/staff", headers=h, json={
        "name": "Victim guide", "store_id": ids["store_id"], "wecom_userid": "victimguide",
        "member_id": guide["member"]["id"]}).json()["id"]
    taker_member = client.post("/v1/members", headers=h, json={"name": "Victim taker", "role": "guide"}).json()
    taker = client.post("/v1/stores/staff", headers=h, json={
        "name": "Victim taker", "store_id": ids["store_id"], "wecom_userid": "victimtaker",
        "member_id": taker_member["member"]["id"]}).json()["id"]
    ids["persona_id"] = client.post("/v1/stores/personas", headers=h, json={
        "name": "Victim persona", "staff_ids": [taker]}).json()["id"]
    fake = FakeWeCom()
    fake.add_contact("victimguide", "wmVictim", "Victim contact")
    fake.add_chat("wrVictim", owner="victimguide", name="Victim group",
                  members=[{"userid": "wmVictim", "type": 2, "join_time": 1_700_000_000, "join_scene": 3}])
    with serve(fake.app()) as url:  # WeCom is needed only to create the code; the sweeps never reach it
        config = client.post("/v1/messaging/channels", headers=h, json={
            "kind": "wecom", "name": "Victim WeCom", "settings": {"corp_id": fake.corp_id, "base_url": url},
            "secrets": {"corp_secret": fake.secret}}).json()
        ids["code_id"] = client.post("/v1/stores/codes", headers=h, json={
            "code": "victim", "name": "Victim code", "kind": "store", "config_id": config["id"],
            "store_id": ids["store_id"], "staff_ids": [ids["staff_id"]]}).json()["id"]
        client.post(f"/v1/messaging/channels/{config['id']}/wecom/contacts-sync", headers=h,
                    json={"staff_userids": ["victimguide"]})
        contact = client.get("/v1/customers", headers=h,
                             params={"identity": "wecom_external_userid:wmVictim"}).json()["items"][0]["id"]
        client.post(f"/v1/stores/owners/{contact}/claim", headers=h, json={"member_id": guide["member"]["id"]})
        ids["handover_id"] = client.post("/v1/stores/handovers", headers=h, json={
            "config_id": config["id"], "from_staff_id": ids["staff_id"], "to_staff_id": taker}).json()["id"]
        ids["task_id"] = client.post("/v1/stores/tasks/send", headers=h, json={
            "config_id": config["id"], "staff_id": ids["staff_id"], "customer_ids": [contact],
            "text": "Victim send"}).json()["id"]
        client.post("/v1/groups/wecom-sync", headers=h, json={"config_id": config["id"]})
        ids["group_chat_id"] = client.get("/v1/groups", headers=h).json()[0]["id"]
        ids["group_code_id"] = client.post("/v1/groups/codes", headers=h, json={
            "config_id": config["id"], "name": "Victim code", "state": "victim", "group_ids": [ids["group_chat_id"]],
            "room_base_name": "Victim group"}).json()["id"]
        ids["group_send_id"] = client.post("/v1/groups/sends", headers=h, json={
            "config_id": config["id"], "group_ids": [ids["group_chat_id"]], "text": "Victim group send"}).json()["id"]
        ids["moment_id"] = client.post("/v1/groups/moments", headers=h, json={
            "config_id": config["id"], "text": "Victim post", "staff_userids": ["victimguide"]}).json()["id"]
        ids["folder_id"] = client.post("/v1/library/folders", headers=h, json={"name": "Victim folder"}).json()["id"]
        ids["material_id"] = client.post("/v1/library/materials", headers=h, json={
            "folder_id": ids["folder_id"], "kind": "text", "title": "Victim script", "text": "Victim"}).json()["id"]
        client.post(f"/v1/library/materials/{ids['material_id']}/uses", headers=h, json={
            "customer_ids": [contact], "channel": "workbench"})


def _webhooks(client, h, ids):
    # Port 9 (discard) on loopback: the delivery fails harmlessly; the test needs only its row.
    ids["endpoint_id"] = client.post("/v1/webhooks/endpoints", headers=h, json={
        "url": "http://127.0.0.1:9/hook", "events": ["Tag Added"]}).json()["id"]
    client.post(f"/v1/customers/{ids['customer_id']}/tags", headers=h, json={"add": [{"id": ids["tag_id"]}]})
    client.app.state.pipeline.catch_up()
    ids["delivery_id"] = client.get(f"/v1/webhooks/endpoints/{ids['endpoint_id']}/deliveries",
                                    headers=h).json()["items"][0]["id"]


def _loyalty(client, h, ids):
    ids["entry_id"] = client.post("/v1/loyalty/points/earn", headers=h, json={
        "customer_id": ids["customer_id"], "points": 100, "idempotency_key": "seed"}).json()["id"]
    ids["rule_id"] = client.post("/v1/loyalty/rules", headers=h, json={
        "name": "r", "kind": "order", "points_per_yuan": 1}).json()["id"]
    ids["tier_id"] = client.post("/v1/loyalty/tiers", headers=h, json={
        "name": "t", "rank": 1, "threshold": 1000}).json()["id"]
    ids["coupon_template_id"] = client.post("/v1/loyalty/coupon-templates", headers=h, json={
        "name": "c", "kind": "fixed", "value_fen": 100, "valid_days": 3, "per_customer_limit": 5}).json()["id"]
    ids["coupon_id"] = client.post(f"/v1/loyalty/coupon-templates/{ids['coupon_template_id']}/issue", headers=h, json={
        "customer_id": ids["customer_id"], "idempotency_key": "seed"}).json()["id"]
    ids["task_id"] = client.post("/v1/loyalty/tasks", headers=h, json={"name": "k", "points": 5}).json()["id"]
    ids["submission_id"] = client.post(
        f"/v1/loyalty/tasks/{ids['task_id']}/submissions", headers=h, data={"customer_id": str(ids["customer_id"])},
        files={"image": ("p.png", screenshot(7), "image/png")}).json()["id"]
