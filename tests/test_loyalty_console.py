"""Loyalty console pages: the archive's points and coupons, rules and tiers with the liability, coupon templates
with statistics, and the task review queue (approve, reject with a reason), in Chinese and English."""

from tests.helpers.console import HTMX, signed_in
from tests.helpers.loyalty import seed_loyalty


def test_archive_and_programme_pages(app, api, database, tenant):
    seeded = seed_loyalty(api, database, tenant)
    client = signed_in(app, tenant.key)
    archive = client.get(f"/console/customers/{seeded['customer']}")
    assert archive.status_code == 200
    assert "积分" in archive.text and ">120<" in archive.text and seeded["coupon"] in archive.text
    assert "金卡会员" in archive.text and "免费退换" in archive.text
    overview = client.get("/console/loyalty").text
    assert "签到送积分" in overview and "每天 5" in overview and "积分负债" in overview
    coupons = client.get("/console/loyalty/coupons").text
    assert "满200减30" in coupons and "100.0%" in coupons and "268.00" in coupons
    client.get("/console/language?to=en")
    english = client.get("/console/loyalty/coupons").text
    assert "Redemption rate" in english and "Spend threshold" in english


def test_review_queue_approves_and_rejects_with_a_reason(app, api, database, tenant):
    seeded = seed_loyalty(api, database, tenant)
    client = signed_in(app, tenant.key)
    queue = client.get("/console/loyalty/review")
    assert all(f'id="submission-{proof}"' in queue.text for proof in seeded["proofs"])
    first, second = seeded["proofs"]
    missing = client.post(f"/console/loyalty/review/{first}", data={"decision": "reject", "reason": ""},
                          headers=HTMX)
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.text
    done = client.post(f"/console/loyalty/review/{first}", data={"decision": "reject", "reason": "看不清"},
                       headers=HTMX)
    assert done.status_code == 200 and "看不清" in done.text and 'data-status="rejected"' in done.text
    approved = client.post(f"/console/loyalty/review/{second}", data={"decision": "approve"}, follow_redirects=False)
    assert approved.status_code == 303
    assert api.get(f"/v1/loyalty/customers/{seeded['customer']}/points").json()["balance"] == 150
    assert "没有待审核的提交" in client.get("/console/loyalty/review").text


def test_operators_add_rules_tiers_and_templates_with_inline_errors(app, api, tenant):
    client = signed_in(app, tenant.key)
    bad = client.post("/console/loyalty/rules", data={"name": "签到", "kind": "event", "points_each": "5"})
    assert bad.status_code == 422 and "event_name" in bad.text and 'value="签到"' in bad.text
    made = client.post("/console/loyalty/rules", data={"name": "消费积分", "kind": "order", "points_per_yuan": "2",
                                                       "excluded": "包装, 运费"}, follow_redirects=False)
    assert made.status_code == 303
    rule = api.get("/v1/loyalty/rules").json()[0]
    assert (rule["points_per_yuan"], rule["excluded_categories"]) == (2, ["包装", "运费"])
    tier = client.post("/console/loyalty/tiers", data={"name": "银卡", "rank": "1", "threshold": "100",
                                                       "multiplier_pct": "120", "benefits": ["free_returns"]},
                       follow_redirects=False)
    assert tier.status_code == 303
    assert api.get("/v1/loyalty/tiers").json()[0]["benefits"] == ["free_returns"]
    wrong = client.post("/console/loyalty/coupons", data={"name": "满减", "kind": "threshold", "value_yuan": "30",
                                                          "threshold_yuan": "20", "valid_days": "7"})
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text and "above value_fen" in wrong.text
    typo = client.post("/console/loyalty/coupons", data={"name": "满减", "kind": "fixed", "value_yuan": "3.001",
                                                         "valid_days": "7"})
    assert typo.status_code == 422 and "not an amount in yuan" in typo.text
    good = client.post("/console/loyalty/coupons", data={"name": "满200减30", "kind": "threshold",
                                                         "value_yuan": "30", "threshold_yuan": "200",
                                                         "valid_days": "7", "total_stock": "500"},
                       follow_redirects=False)
    assert good.status_code == 303
    template = api.get("/v1/loyalty/coupon-templates").json()[0]
    assert (template["value_fen"], template["threshold_fen"], template["total_stock"]) == (3000, 20000, 500)


def test_tier_thresholds_carry_their_unit_and_a_flat_coupon_shows_its_threshold(app, api, tenant):
    client = signed_in(app, tenant.key)
    client.post("/console/loyalty/tiers", data={"name": "银卡", "rank": "1", "threshold": "1000"})
    page = client.get("/console/loyalty")
    assert "升级所需积分" in page.text and "1000 积分" in page.text
    api.put("/v1/loyalty/settings", json={"tier_basis": "spend"})
    refused = client.post("/console/loyalty/tiers", data={"name": "金卡", "rank": "2", "threshold": "9.999"})
    assert refused.status_code == 422 and "请输入以元为单位的金额" in refused.text
    client.post("/console/loyalty/tiers", data={"name": "金卡", "rank": "2", "threshold": "2000.50"})
    assert next(t for t in api.get("/v1/loyalty/tiers").json() if t["name"] == "金卡")["threshold"] == 200050
    assert "升级所需消费" in client.get("/console/loyalty").text
    client.post("/console/loyalty/coupons", data={"name": "立减10元", "kind": "fixed", "value_yuan": "10",
                                                  "threshold_yuan": "99", "valid_days": "7"})
    assert "满 ¥99.00 可用" in client.get("/console/loyalty/coupons").text


def test_coupons_go_to_a_segment_from_the_coupon_page_once_per_form(app, api, tenant):
    client = signed_in(app, tenant.key)
    ids = [api.post("/v1/customers", json={"name": f"券{i}", "identities": [
        {"kind": "phone", "value": f"1380013{i:04d}"}]}).json()["customer"]["id"] for i in range(3)]
    segment = api.post("/v1/segments", json={"name": "老客", "kind": "static", "customer_ids": ids[:2]}).json()
    template = api.post("/v1/loyalty/coupon-templates", json={"name": "回馈券", "kind": "fixed", "value_fen": 500,
                                                              "valid_days": 7}).json()
    missing = client.post("/console/loyalty/coupons/issue", data={"template_id": str(template["id"]), "key": "k1"})
    assert missing.status_code == 422 and 'id="error-segment_id">此项为必填' in missing.text
    form = {"template_id": str(template["id"]), "segment_id": str(segment["id"]), "key": "k1"}
    first = client.post("/console/loyalty/coupons/issue", data=form)
    assert first.status_code == 200 and "已发放 2 张" in first.text
    again = client.post("/console/loyalty/coupons/issue", data=form)  # a repeated submit issues nothing more
    assert "已发放 0 张" in again.text
    assert api.get(f"/v1/loyalty/coupon-templates/{template['id']}/stats").json()["issued"] == 2
    assert api.get(f"/v1/loyalty/customers/{ids[2]}/coupons").json() == [] or \
        api.get(f"/v1/loyalty/customers/{ids[2]}/coupons").json().get("items") == []


def test_a_coupon_is_issued_to_one_customer_from_the_archive_once_per_form(app, api, tenant):
    client = signed_in(app, tenant.key)
    customer = api.post("/v1/customers", json={"name": "单券", "identities": [
        {"kind": "phone", "value": "13900001111"}]}).json()["customer"]["id"]
    template = api.post("/v1/loyalty/coupon-templates", json={"name": "生日券", "kind": "fixed", "value_fen": 800,
                                                              "valid_days": 30, "per_customer_limit": 3}).json()
    archive = client.get(f"/console/customers/{customer}")
    assert f'action="/console/loyalty/customers/{customer}/coupons"' in archive.text
    key = archive.text.split('name="key" value="')[1].split('"')[0]
    form = {"template_id": str(template["id"]), "key": key}
    for _ in range(2):  # a double submit issues one coupon
        done = client.post(f"/console/loyalty/customers/{customer}/coupons", data=form, follow_redirects=False)
        assert done.status_code == 303
    assert api.get(f"/v1/loyalty/coupon-templates/{template['id']}/stats").json()["issued"] == 1
    assert "生日券" in client.get(f"/console/customers/{customer}").text
    refused = client.post(f"/console/loyalty/customers/{customer}/coupons", data={"template_id": "", "key": "x"})
    assert refused.status_code == 422 and "请选择要发放的优惠券" in refused.text
