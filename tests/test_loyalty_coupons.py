"""Coupons: kinds and discounts, validity, stock and per-customer limits, bulk issue to ids and to a tag,
redemption exactly once (also under concurrent attempts), expiry and per-template statistics."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.customers import new_customer
from yutang.kit.errors import DomainError
from yutang.loyalty import coupons, tasks
from yutang.loyalty.schemas import CouponRedeemIn


def _template(api, **fields) -> dict:
    body = {"name": "满200减30", "kind": "threshold", "value_fen": 3000, "threshold_fen": 20000, "valid_days": 30,
            "total_stock": 100, "per_customer_limit": 1} | fields
    response = api.post("/v1/loyalty/coupon-templates", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _issue(api, template_id: int, customer_id: int, key: str):
    return api.post(f"/v1/loyalty/coupon-templates/{template_id}/issue",
                    json={"customer_id": customer_id, "idempotency_key": key})


def test_templates_refuse_incomplete_definitions(api):
    bad = api.post("/v1/loyalty/coupon-templates", json={"name": "x", "kind": "threshold", "value_fen": 3000,
                                                         "threshold_fen": 1000, "valid_days": 3})
    assert bad.status_code == 422 and "threshold_fen" in bad.text
    assert api.post("/v1/loyalty/coupon-templates", json={"name": "x", "kind": "fixed",
                                                          "value_fen": 500}).status_code == 422


def test_threshold_coupon_redeems_once_and_stats_count_it(api, database, tenant):
    template = _template(api)
    customer = new_customer(database, tenant.actor)
    coupon = _issue(api, template["id"], customer, "welcome").json()
    assert _issue(api, template["id"], customer, "welcome").json()["id"] == coupon["id"]  # same key, same coupon
    limit = _issue(api, template["id"], customer, "second")
    assert limit.status_code == 409 and limit.json()["errors"][0]["field"] == "template_id"
    expires = datetime.fromisoformat(coupon["expires_at"])
    assert expires.astimezone(UTC).hour == 16  # end of a Beijing day
    below = api.post(f"/v1/loyalty/coupons/{coupon['id']}/redeem", json={"order_ref": "A1", "order_amount_fen": 19999})
    assert below.status_code == 422 and below.json()["errors"][0]["field"] == "order_amount_fen"
    used = api.post(f"/v1/loyalty/coupons/{coupon['id']}/redeem", json={"order_ref": "A1", "order_amount_fen": 25000})
    assert used.status_code == 200 and used.json()["discount_fen"] == 3000
    again = api.post(f"/v1/loyalty/coupons/{coupon['id']}/redeem", json={"order_ref": "A1", "order_amount_fen": 25000})
    assert again.status_code == 200 and again.json()["redeemed_at"] == used.json()["redeemed_at"]
    other = api.post(f"/v1/loyalty/coupons/{coupon['id']}/redeem", json={"order_ref": "B2", "order_amount_fen": 25000})
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["type"].endswith("coupon-unavailable")
    stats = api.get(f"/v1/loyalty/coupon-templates/{template['id']}/stats").json()
    assert stats | {"template_id": 0} == {"template_id": 0, "issued": 1, "redeemed": 1, "expired": 0,
                                         "redemption_rate": 1.0, "gmv_fen": 25000, "discount_fen": 3000}


@pytest.mark.parametrize(("fields", "order", "discount"), [
    ({"kind": "percent", "percent_off": 15, "cap_fen": 2000, "threshold_fen": 0}, 10000, 1500),
    ({"kind": "percent", "percent_off": 15, "cap_fen": 2000, "threshold_fen": 0}, 50000, 2000),
    ({"kind": "fixed", "value_fen": 1000, "threshold_fen": 0}, 600, 600),
    ({"kind": "free_shipping", "threshold_fen": 0}, 600, 800),
    ({"kind": "gift", "gift_sku": "CUP-1", "threshold_fen": 0}, 600, 0),
])
def test_discount_by_kind(api, database, tenant, fields, order, discount):
    template = _template(api, **fields)
    coupon = _issue(api, template["id"], new_customer(database, tenant.actor), "k").json()
    used = api.post(f"/v1/loyalty/coupons/{coupon['id']}/redeem",
                    json={"order_ref": "O", "order_amount_fen": order, "shipping_fen": 800})
    assert used.json()["discount_fen"] == discount


def test_channel_scope_stock_and_expiry(api, database, tenant):
    template = _template(api, kind="fixed", value_fen=500, threshold_fen=0, total_stock=2, channels=["mp"],
                         per_customer_limit=5)
    customer = new_customer(database, tenant.actor)
    first = _issue(api, template["id"], customer, "a").json()
    _issue(api, template["id"], customer, "b")
    assert _issue(api, template["id"], customer, "c").status_code == 409  # out of stock
    wrong = api.post(f"/v1/loyalty/coupons/{first['id']}/redeem",
                     json={"order_ref": "X", "order_amount_fen": 900, "channel": "tmall"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "channel"
    expired = tasks.expire_coupons(database.factory, now=datetime.now(UTC) + timedelta(days=40))
    assert expired >= 2
    late = api.post(f"/v1/loyalty/coupons/{first['id']}/redeem",
                    json={"order_ref": "X", "order_amount_fen": 900, "channel": "mp"})
    assert late.status_code == 409
    assert api.get(f"/v1/loyalty/coupon-templates/{template['id']}/stats").json()["expired"] == 2


def test_bulk_issue_to_ids_and_to_a_tag_is_idempotent(api, database, tenant):
    template = _template(api, total_stock=3)
    people = [new_customer(database, tenant.actor) for _ in range(4)]
    tag = api.post("/v1/tag-groups", json={"name": "会员", "tags": ["高价值"]}).json()["tags"][0]["id"]
    for customer in people[:2]:
        api.post(f"/v1/customers/{customer}/tags", json={"add": [{"id": tag}]})
    by_tag = api.post(f"/v1/loyalty/coupon-templates/{template['id']}/issue-bulk",
                      json={"tag_id": tag, "idempotency_key": "campaign-1"}).json()
    assert by_tag == {"issued": 2, "already": 0, "skipped": {}}
    by_ids = api.post(f"/v1/loyalty/coupon-templates/{template['id']}/issue-bulk",
                      json={"customer_ids": [*people, 999_999_999], "idempotency_key": "campaign-2"}).json()
    assert by_ids == {"issued": 1, "already": 0,
                      "skipped": {"limit": 2, "out_of_stock": 1, "unknown_or_inactive_customer": 1}}
    repeat = api.post(f"/v1/loyalty/coupon-templates/{template['id']}/issue-bulk",
                      json={"tag_id": tag, "idempotency_key": "campaign-1"}).json()
    assert repeat == {"issued": 0, "already": 2, "skipped": {}}
    assert api.post(f"/v1/loyalty/coupon-templates/{template['id']}/issue-bulk",
                    json={"idempotency_key": "none"}).status_code == 422


def test_concurrent_redemptions_one_wins_one_conflicts(database, tenant, api):
    template = _template(api, kind="fixed", value_fen=500, threshold_fen=0, total_stock=None, per_customer_limit=50)
    customer = new_customer(database, tenant.actor)
    ids = [_issue(api, template["id"], customer, f"c{n}").json()["id"] for n in range(8)]
    results: dict[int, list[str]] = {coupon_id: [] for coupon_id in ids}
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def attempt(job: tuple[int, int]) -> None:
        coupon_id, order = job
        barrier.wait()
        try:
            with database.unit_of_work() as session:
                coupons.redeem(session, actor=tenant.actor, coupon_id=coupon_id,
                               data=CouponRedeemIn(order_ref=f"order-{order}", order_amount_fen=1000))
            outcome = "ok"
        except DomainError as exc:
            outcome = f"{exc.status}"
        with lock:
            results[coupon_id].append(outcome)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(attempt, [(coupon_id, order) for coupon_id in ids for order in (1, 2)]))
    assert all(sorted(outcome) == ["409", "ok"] for outcome in results.values()), results
    assert api.get(f"/v1/loyalty/coupon-templates/{template['id']}/stats").json()["redeemed"] == 8


def test_concurrent_issues_never_exceed_stock(database, tenant, api):
    template = _template(api, kind="fixed", value_fen=500, threshold_fen=0, total_stock=5, per_customer_limit=1)
    people = [new_customer(database, tenant.actor) for _ in range(12)]

    def attempt(customer: int) -> bool:
        try:
            with database.unit_of_work() as session:
                coupons.issue(session, actor=tenant.actor, template_id=template["id"], customer_id=customer,
                              key=f"grab-{customer}")
            return True
        except DomainError:
            return False

    with ThreadPoolExecutor(12) as pool:
        assert sum(pool.map(attempt, people)) == 5
    assert api.get(f"/v1/loyalty/coupon-templates/{template['id']}/stats").json()["issued"] == 5


def test_bulk_issue_to_a_segment_static_or_dynamic_is_idempotent(api, database, tenant, other_tenant, pipeline):
    template = _template(api, total_stock=None, per_customer_limit=5)
    people = [new_customer(database, tenant.actor) for _ in range(4)]
    tag = api.post("/v1/tag-groups", json={"name": "会员", "tags": ["常客"]}).json()["tags"][0]["id"]
    for customer in people[1:3]:
        assert api.post(f"/v1/customers/{customer}/tags", json={"add": [{"id": tag}]}).status_code == 200
    dynamic = api.post("/v1/segments", json={"name": "常客", "rule": {"type": "tag", "tag_ids": [tag]}})
    assert dynamic.status_code == 201, dynamic.text
    static = api.post("/v1/segments", json={"name": "名单", "kind": "static", "customer_ids": [people[0], people[1]]})
    assert static.status_code == 201, static.text
    url = f"/v1/loyalty/coupon-templates/{template['id']}/issue-bulk"

    def holders() -> dict[int, int]:
        counts = {}
        for customer in people:
            counts[customer] = len(api.get(f"/v1/loyalty/customers/{customer}/coupons").json())
        return counts

    first = api.post(url, json={"segment_id": dynamic.json()["id"], "idempotency_key": "seg-1"})
    assert first.json() == {"issued": 2, "already": 0, "skipped": {}}, first.text
    assert holders() == {people[0]: 0, people[1]: 1, people[2]: 1, people[3]: 0}
    # The dynamic membership follows a new tag before the next call: the repeat issues to the newcomer only.
    assert api.post(f"/v1/customers/{people[3]}/tags", json={"add": [{"id": tag}]}).status_code == 200
    again = api.post(url, json={"segment_id": dynamic.json()["id"], "idempotency_key": "seg-1"}).json()
    assert again == {"issued": 1, "already": 2, "skipped": {}}
    by_list = api.post(url, json={"segment_id": static.json()["id"], "idempotency_key": "list-1"}).json()
    assert by_list == {"issued": 2, "already": 0, "skipped": {}}
    assert api.post(url, json={"segment_id": static.json()["id"], "idempotency_key": "list-1"}).json() == {
        "issued": 0, "already": 2, "skipped": {}}
    assert holders() == {people[0]: 1, people[1]: 2, people[2]: 1, people[3]: 1}
    stranger = new_customer(database, other_tenant.actor)
    foreign = api.post("/v1/segments", json={"name": "名单", "kind": "static", "customer_ids": [stranger]},
                       headers={"Authorization": f"Bearer {other_tenant.key}"})
    assert foreign.status_code == 201, foreign.text
    missing = api.post(url, json={"segment_id": foreign.json()["id"], "idempotency_key": "x"})
    assert missing.status_code == 404 and missing.json()["field"] == "segment_id"
    both = api.post(url, json={"segment_id": static.json()["id"], "tag_id": tag, "idempotency_key": "y"})
    assert both.status_code == 422
