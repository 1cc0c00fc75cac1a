"""Referral and distribution end to end through the API and the outbox subscriber: lawful programmes only, first
touch attribution, conversion rewards held then issued through loyalty, fraud flags and review, commissions per
line and level on the one ledger, exact partial-refund reversal, freezes ending, payouts and batches."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.customers import post_customer
from yutang.commissions import service as commissions
from yutang.referral import service as referral

PAID_AT = "2026-11-20T10:01:00+08:00"


def _order(api, customer_id: int, external_id: str, **changes) -> dict:
    body = {"external_id": external_id, "channel": "mp", "status": "paid", "placed_at": "2026-11-20T10:00:00+08:00",
            "paid_at": PAID_AT, "customer_id": customer_id,
            "lines": [{"sku": "LJ-250", "category": "绿茶", "quantity": 2, "unit_price_fen": 6000},
                      {"sku": "CUP", "category": "茶具", "quantity": 1, "unit_price_fen": 3000}],
            "paid_fen": 15000, "total_fen": 15000} | changes
    response = api.post("/v1/orders", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _fields(response) -> dict:
    return {e["field"]: e["detail"] for e in response.json()["errors"]}


@pytest.fixture
def shop(api):
    api.post("/v1/channels", json={"code": "mp", "name": "小程序商城", "kind": "mini_program"})
    return api


@pytest.mark.parametrize(("config", "field", "rule"), [
    ({"commission_depth": 3, "rates_bp": [1000, 300]}, "config.commission_depth", "depth-over-two"),
    ({"recruiting_reward_fen": 2000}, "config.recruiting_reward", "no-recruiting-reward"),
    ({"entry_product_fen": 39900, "entry_product_sku": "VIP"}, "config.entry_product", "no-paid-entry"),
    ({"reward": {"trigger": "集赞", "points": 10}}, "config.reward.trigger", "conversion-only"),
])
def test_an_unlawful_programme_is_refused_naming_the_rule_and_nothing_is_written(shop, config, field, rule):
    response = shop.post("/v1/referral/programmes", json={"name": "分销", "kind": "distribution", "config": config})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _fields(response)[field].startswith(rule)
    assert shop.get("/v1/referral/programmes").json() == []


def test_old_brings_new_rewards_the_conversion_after_the_hold_and_voids_on_refund(shop, database, pipeline, tenant):
    # Given a 老带新 programme: 100 points for an invitee's first paid order of at least 50 yuan, held 7 days
    programme = shop.post("/v1/referral/programmes", json={"name": "老带新", "config": {
        "reward": {"trigger": "first_order", "min_order_fen": 5000, "points": 100}, "hold_days": 7,
        "tiers": [{"count": 2, "points": 500}]}}).json()
    inviter = post_customer(shop, "老客", phone="13900000001")
    _order(shop, inviter, "OLD-1")
    code = shop.post(f"/v1/referral/programmes/{programme['id']}/codes", json={"customer_id": inviter}).json()
    assert code["state"] == f"rf-{code['code']}"
    friends = [post_customer(shop, f"新客{i}", phone=f"1390000010{i}") for i in range(3)]
    for friend in friends:
        touched = shop.post("/v1/referral/touches", json={"code": code["state"], "customer_id": friend})
        assert touched.status_code == 201, touched.text
        assert touched.json()["state"] == "pending"
    # When an existing customer is "invited": refused, nothing written
    existing = shop.post("/v1/referral/touches", json={"code": code["code"], "customer_id": inviter})
    assert existing.status_code == 422 and "customer_id" in _fields(existing)
    # And the invitees buy: two above the minimum, one refunded later
    _order(shop, friends[0], "NEW-0")
    _order(shop, friends[1], "NEW-1")
    _order(shop, friends[2], "NEW-2", paid_fen=4000, total_fen=4000)  # under the minimum: no reward
    pipeline.catch_up()
    states = {a["customer_id"]: a["state"] for a in shop.get("/v1/referral/attributions").json()}
    assert states == {friends[0]: "approved", friends[1]: "approved", friends[2]: "pending"}
    _order(shop, friends[1], "NEW-1", status="refunded", refunded_fen=15000)
    pipeline.catch_up()
    with database.unit_of_work() as session:
        assert referral.settle(session, actor=tenant.actor, now=datetime(2026, 11, 21, tzinfo=UTC)) == 0  # held
    with database.unit_of_work() as session:
        assert referral.settle(session, actor=tenant.actor, now=datetime(2026, 11, 28, tzinfo=UTC)) == 1
    rows = {a["customer_id"]: a for a in shop.get("/v1/referral/attributions").json()}
    assert rows[friends[0]]["state"] == "issued" and rows[friends[1]]["state"] == "voided"
    assert rows[friends[1]]["reason"] == "refunded"
    points = shop.get(f"/v1/loyalty/customers/{inviter}/points/entries").json()["items"]
    assert [p["points"] for p in points if p["source_type"] == "referral"] == [100]  # the tier of 2 is not reached
    tree = shop.get(f"/v1/referral/programmes/{programme['id']}/tree").json()
    assert (tree["participants"], tree["invitees"], tree["valid"], tree["k_factor"]) == (1, 3, 1, 1.0)


def test_self_referral_is_flagged_with_a_reason_and_reviewed(shop):
    programme = shop.post("/v1/referral/programmes", json={"name": "任务宝", "kind": "task"}).json()
    inviter = post_customer(shop, "甲", phone="13900000201", wechat_unionid="u-same")
    code = shop.post(f"/v1/referral/programmes/{programme['id']}/codes", json={"customer_id": inviter}).json()
    twin = post_customer(shop, "乙", phone="13900000202", wechat_unionid="u-same2")
    assert twin != inviter
    same_device = shop.post("/v1/referral/touches", json={"code": code["code"], "customer_id": twin,
                                                          "device": "dev-1"}).json()
    assert same_device["state"] == "pending"
    other = post_customer(shop, "丙", phone="13900000203")
    second = post_customer(shop, "丁", phone="13900000204")
    shop.post("/v1/referral/touches", json={"code": code["code"], "customer_id": other, "device": "dev-1"})
    third = shop.post("/v1/referral/touches", json={"code": code["code"], "customer_id": second,
                                                    "device": "dev-1"}).json()
    # Then circular: the inviter's own invitee cannot invite them back
    back = shop.post(f"/v1/referral/programmes/{programme['id']}/codes", json={"customer_id": twin}).json()
    outsider = shop.post("/v1/referral/touches", json={"code": back["code"], "customer_id": inviter}).json()
    assert [f["code"] for f in outsider["flags"]] == ["circular"]
    assert outsider["state"] == "flagged" and outsider["flags"][0]["reason"]
    queue = shop.get("/v1/referral/attributions", params={"state": "flagged"}).json()
    assert outsider["id"] in [a["id"] for a in queue]
    reviewed = shop.post(f"/v1/referral/attributions/{outsider['id']}/review", json={"decision": "void",
                                                                                    "reason": "循环邀请"})
    assert reviewed.json()["state"] == "voided"
    assert third["state"] in ("pending", "flagged")


def test_distribution_commissions_per_line_and_level_reverse_exactly_and_pay_out(shop, database, pipeline, tenant):
    # Given a 分销 programme with two levels (10% then 3%), a cap of 30% and a 7-day after-sales window
    programme = shop.post("/v1/referral/programmes", json={"name": "KOC 分销", "kind": "distribution", "config": {
        "commission_depth": 2, "rates_bp": [1000, 300], "rates_by_category": {"茶具": 2000},
        "after_sales_days": 7}}).json()
    koc, sub = post_customer(shop, "KOC 阿青"), post_customer(shop, "小安")
    top = shop.post("/v1/referral/distributors", json={"programme_id": programme["id"], "customer_id": koc}).json()
    shop.patch(f"/v1/referral/distributors/{top['id']}", json={"status": "approved"})
    child = shop.post("/v1/referral/distributors", json={"programme_id": programme["id"], "customer_id": sub,
                                                         "parent_code": top["code"]}).json()
    unapproved = shop.post("/v1/referral/bindings", json={"code": child["code"], "customer_id": koc})
    assert unapproved.status_code == 422
    shop.patch(f"/v1/referral/distributors/{child['id']}", json={"status": "approved"})
    buyer = post_customer(shop, "买家")
    bound = shop.post("/v1/referral/bindings", json={"code": child["code"], "customer_id": buyer,
                                                     "at": "2026-11-19T00:00:00Z"})
    assert bound.status_code == 201, bound.text
    # A second distributor cannot snatch the buyer while the binding holds
    snatch = shop.post("/v1/referral/bindings", json={"code": top["code"], "customer_id": buyer,
                                                      "at": "2026-11-19T01:00:00Z"}).json()
    assert snatch["distributor_id"] == child["id"]
    # When the buyer pays (line 1: 120 yuan of tea, line 2: a 30-yuan cup)
    order = _order(shop, buyer, "KOC-1")
    pipeline.catch_up()
    entries = shop.get("/v1/commissions/entries", params={"order_id": order["id"]}).json()
    by_key = {(e["line_no"], e["level"]): e["amount_fen"] for e in entries}
    assert by_key == {(1, 1): 1200, (2, 1): 600, (1, 2): 360, (2, 2): 90}
    # Then a refund of the cup reverses exactly the line-2 entries, and a repeat reverses nothing more
    _order(shop, buyer, "KOC-1", status="partially_refunded", refunded_fen=3000,
           lines=[{"sku": "LJ-250", "category": "绿茶", "quantity": 2, "unit_price_fen": 6000},
                  {"sku": "CUP", "category": "茶具", "quantity": 1, "unit_price_fen": 3000, "refunded_fen": 3000}])
    pipeline.catch_up()
    pipeline.subscribers.catch_up()
    entries = shop.get("/v1/commissions/entries", params={"order_id": order["id"]}).json()
    assert {(e["line_no"], e["level"]): (e["reversed_fen"], e["state"]) for e in entries} == {
        (1, 1): (0, "pending"), (2, 1): (600, "reversed"), (1, 2): (0, "pending"), (2, 2): (90, "reversed")}
    # A cancelled order earns nothing: refused, nothing written
    cancelled = _order(shop, buyer, "KOC-2", status="cancelled", paid_fen=0)
    refused = shop.post(f"/v1/referral/orders/{cancelled['id']}/commissions")
    assert refused.status_code == 422 and "order_id" in _fields(refused)
    # The freeze ends after the after-sales window; a payout above what is available is refused
    with database.unit_of_work() as session:
        assert commissions.release_due(session, actor=tenant.actor, now=datetime.now(UTC) + timedelta(days=1)) == 2
    accounts = {a["beneficiary_id"]: a for a in shop.get("/v1/commissions/accounts").json()}
    assert accounts[child["id"]]["available_fen"] == 1200 and accounts[child["id"]]["reversed_fen"] == 600
    too_much = shop.post(f"/v1/commissions/accounts/{accounts[child['id']]['id']}/payouts",
                         json={"amount_fen": 1201, "idempotency_key": "p-1"})
    assert too_much.status_code == 422 and "amount_fen" in _fields(too_much)
    assert shop.get("/v1/commissions/batches").json() == []
    batch = shop.post("/v1/commissions/batches", json={"withholding_bp": 2000})
    assert batch.status_code == 201, batch.text
    assert (batch.json()["count"], batch.json()["gross_fen"], batch.json()["tax_fen"]) == (2, 1560, 312)
    detail = shop.get(f"/v1/commissions/batches/{batch.json()['id']}")
    assert detail.status_code == 200, detail.text
    assert len(detail.json()["payouts"]) == 2
    assert sum(p["gross_fen"] for p in detail.json()["payouts"]) == 1560
    csv_text = shop.get(f"/v1/commissions/batches/{batch.json()['id']}/export.csv").text
    assert csv_text.splitlines()[0] == "payout_id,account_kind,beneficiary_id,gross_fen,tax_fen,net_fen"
    assert len(csv_text.splitlines()) == 3
    with database.read_only() as session:
        assert commissions.check_accounts(session, workspace_id=tenant.id) == []


def test_still_a_friend_after_n_days_earns_and_a_deleted_friendship_voids(shop, database, pipeline, tenant):
    # Given a programme that rewards an invitee still a friend after 3 days, and two invitees who joined the channel
    programme = shop.post("/v1/referral/programmes", json={"name": "加好友有礼", "config": {
        "reward": {"trigger": "still_friend", "days": 3, "points": 50}, "hold_days": 0}}).json()
    inviter = post_customer(shop, "老客")
    code = shop.post(f"/v1/referral/programmes/{programme['id']}/codes", json={"customer_id": inviter}).json()
    stays, leaves = post_customer(shop, "留下"), post_customer(shop, "删了")
    touched = datetime.now(UTC) - timedelta(days=4)
    for friend in (stays, leaves):
        assert shop.post(f"/v1/customers/{friend}/channels", json={"channel": "mp", "joined": True}).status_code < 300
        shop.post("/v1/referral/touches", json={"code": code["code"], "customer_id": friend,
                                                "at": touched.isoformat()})
    # When one deletes the friendship (delete_invalid), then the nightly settle runs
    assert shop.post(f"/v1/customers/{leaves}/channels", json={"channel": "mp", "joined": False}).status_code < 300
    pipeline.catch_up()
    with database.unit_of_work() as session:
        assert referral.settle(session, actor=tenant.actor) == 1
    # Then only the one still a friend earned the inviter's reward
    rows = {a["customer_id"]: a for a in shop.get("/v1/referral/attributions").json()}
    assert (rows[stays]["state"], rows[leaves]["state"], rows[leaves]["reason"]) == ("issued", "voided",
                                                                                     "delete_invalid")
