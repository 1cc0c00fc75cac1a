"""The home dashboard and its drill-downs on a brand worked out by hand (tests/helpers/analytics.py), on whichever
warehouse the run uses (DuckDB, or PostgreSQL with YUTANG_TEST_WAREHOUSE_URL)."""

from tests.helpers.analytics import FIRST, LAST, seed_analytics
from tests.helpers.tenants import add_member

RANGE = {"period": "custom", "start": FIRST, "end": LAST}


def figure(current, previous):
    return {"current": current, "previous": previous}


def test_the_dashboard_computes_every_figure_for_the_range_and_the_week_before(database, pipeline, client, api,
                                                                                 tenant):
    brand = seed_analytics(database, pipeline, client, api, tenant)
    answer = api.get("/v1/analytics/dashboard", params=RANGE)
    assert answer.status_code == 200, answer.text
    d = answer.json()
    assert (d["first_day"], d["last_day"], d["previous_first_day"], d["previous_last_day"]) == (
        "2026-11-08", "2026-11-14", "2026-11-01", "2026-11-07")
    # Pool: A, B, C, D first seen before 15 Nov (E on the 20th); before 8 Nov only A and D.
    assert d["pool"] == figure(4, 2)
    # New: B (mini program) and C (Tmall, 00:05 on the 8th, Beijing) this week; A (mini program) the week before.
    assert d["new_customers"] == figure(2, 1)
    by_channel = {c["channel_id"]: c["customers"] for c in d["new_by_channel"]}
    assert by_channel == {brand.channels["mp"]: figure(1, 1), brand.channels["tmall"]: figure(1, 0)}
    # Active: A (the 14th), B (the 9th), C (00:10 on the 8th); the week before A (3rd) and D (23:50 on the 7th).
    assert d["active"] == figure(3, 2)
    assert (d["dau"], d["wau"], d["mau"]) == (1, 3, 4)
    assert [x["customers"] for x in d["active_daily"]] == [1, 1, 0, 0, 0, 0, 1]
    # Purchases paid 8–14 Nov: A 200 + 50 (mini program) + 300 (Tmall), B 80 + 20, C 60 - 10 refunded (its
    # other order was refunded in full), D 10 at 23:30 on the 14th (its 00:30 order on the 15th is outside):
    # 7 orders, ¥710, 4 buyers, AOV 71000 // 7 fen. The week before: A 100, D 70 + 30.
    assert d["sales"] == {"orders": figure(7, 3), "gmv_fen": figure(71_000, 20_000), "buyers": figure(4, 2),
                          "aov_fen": figure(10_142, 6_666)}
    channels = {c["name"]: c for c in d["sales_by_channel"]}
    assert channels["小程序商城"]["domain"] == "private" and channels["天猫旗舰店"]["domain"] == "public"
    assert {k: channels["小程序商城"][k] for k in ("orders", "gmv_fen", "buyers", "aov_fen")} == {
        "orders": figure(5, 1), "gmv_fen": figure(36_000, 10_000), "buyers": figure(3, 1),
        "aov_fen": figure(7_200, 10_000)}
    assert {k: channels["天猫旗舰店"][k] for k in ("orders", "gmv_fen", "buyers")} == {
        "orders": figure(2, 2), "gmv_fen": figure(35_000, 10_000), "buyers": figure(2, 1)}
    assert [x["domain"] for x in d["sales_by_domain"]] == ["private", "public"]
    assert d["sales_by_domain"][1]["gmv_fen"] == figure(35_000, 10_000)
    # Repurchase by buyers, one purchase a day: A bought on the 9th (twice) and the 12th; B twice on the 10th is
    # one day. 1 of 4. The week before D bought on the 5th and 6th: 1 of 2.
    assert d["repeat_buyers"] == figure(1, 1)
    assert d["repurchase_rate"] == {"current": 0.25, "previous": 0.5}
    # Tiers at the end: A gold, B silver (D dropped out on the 9th); at the week before's end A and D silver.
    tiers = {t["name"]: t["members"] for t in d["members_by_tier"]}
    assert tiers == {"银卡": figure(1, 2), "金卡": figure(1, 0)} and d["members"] == figure(2, 2)
    # Points: A 350 + D 70 (B spent down to 0; C's 999 came on the 16th); before: A 100 + D 70.
    assert d["points_liability"] == figure(420, 170) and d["points_holders"] == figure(2, 2)
    assert d["messages"] == {"sent": figure(3, 1), "read": figure(1, 0), "clicked": figure(2, 0)}
    # Waits begun this week: thread 1 at 10:00 answered at 10:20 (its 10:05 message is the same wait), thread 2
    # answered in an hour, thread 1 again on the 13th, still waiting. Median of 1200 s and 3600 s. Before: 1800 s.
    assert d["inbox"] == {"waiting": figure(1, 0), "answered": figure(2, 1),
                          "first_response_median_seconds": {"current": 2400.0, "previous": 1800.0}}


def test_each_figure_drills_down_to_its_customers_and_becomes_a_static_segment(database, pipeline, client, api,
                                                                               tenant):
    brand = seed_analytics(database, pipeline, client, api, tenant)

    def behind(metric, **extra):
        answer = api.get("/v1/analytics/customers", params={**RANGE, "metric": metric, **extra})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["total"] == len(body["items"])
        return brand.names(item["customer_id"] for item in body["items"])

    assert behind("pool") == {"A", "B", "C", "D"}
    assert behind("new_customers") == {"B", "C"}
    assert behind("new_customers", channel_id=brand.channels["mp"]) == {"B"}
    assert behind("active") == {"A", "B", "C"}
    assert behind("buyers") == {"A", "B", "C", "D"}
    assert behind("buyers", channel_id=brand.channels["tmall"]) == {"A", "C"}
    assert behind("repeat_buyers") == {"A"}
    assert behind("members") == {"A", "B"} and behind("members", tier_id=11) == {"B"}
    assert behind("points_holders") == {"A", "D"}
    assert behind("message_recipients") == {"A", "B", "C"} and behind("message_clickers") == {"A", "B"}
    assert behind("waiting") == {"A"}
    # Paging: two at a time, by id, the total on every page.
    first = api.get("/v1/analytics/customers", params={**RANGE, "metric": "pool", "limit": 2}).json()
    second = api.get("/v1/analytics/customers", params={**RANGE, "metric": "pool", "limit": 2,
                                                         "cursor": first["next_cursor"]}).json()
    assert first["total"] == second["total"] == 4 and second["next_cursor"] is None
    assert brand.names(i["customer_id"] for i in first["items"] + second["items"]) == {"A", "B", "C", "D"}
    # One click: the buyers through Tmall become a static segment.
    made = api.post("/v1/analytics/segments", json={**RANGE, "metric": "buyers", "name": "天猫买家",
                                                    "channel_id": brand.channels["tmall"]})
    assert made.status_code == 201, made.text
    assert made.json()["customers"] == 2
    segment = api.get(f"/v1/segments/{made.json()['segment_id']}").json()
    assert segment["kind"] == "static" and segment["member_count"] == 2
    members = api.get(f"/v1/segments/{made.json()['segment_id']}/members").json()["items"]
    assert brand.names(m["customer_id"] for m in members) == {"A", "C"}


def test_an_erased_customer_leaves_the_activity_figures(database, pipeline, client, api, tenant):
    brand = seed_analytics(database, pipeline, client, api, tenant)
    # B was active on the 9th only; erased, their events stay for other aggregates but they count nowhere here.
    assert api.post(f"/v1/customers/{brand.ids['B']}/erase").status_code == 200
    pipeline.catch_up()  # the dashboard reads the warehouse as it stands
    d = api.get("/v1/analytics/dashboard", params=RANGE).json()
    assert d["active"] == figure(2, 2) and d["wau"] == 2
    assert [x["customers"] for x in d["active_daily"]] == [1, 0, 0, 0, 0, 0, 1]


def test_bad_parameters_answer_problem_json_naming_the_field(api):
    cases = [({"period": "fortnight"}, "period"), ({"period": "custom", "end": LAST}, "start"),
             ({"period": "custom", "start": FIRST}, "end"), ({"period": "custom", "start": LAST, "end": FIRST}, "end"),
             ({"period": "custom", "start": "2024-01-01", "end": LAST}, "end")]
    for params, field in cases:
        answer = api.get("/v1/analytics/dashboard", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["errors"][0]["field"] == field, answer.json()
    unknown = api.get("/v1/analytics/customers", params={"metric": "happiness"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "metric"
    no_channel = api.get("/v1/analytics/customers", params={"metric": "repeat_buyers", "channel_id": 1})
    assert no_channel.status_code == 422 and no_channel.json()["errors"][0]["field"] == "channel_id"
    bad = api.post("/v1/analytics/segments", json={"metric": "nothing", "name": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "metric"


def test_roles_analysts_read_and_drill_guides_only_read_figures(client, api):
    _, analyst = add_member(api, "analyst")
    _, guide = add_member(api, "guide")
    assert client.get("/v1/analytics/dashboard", headers=analyst).status_code == 200
    assert client.get("/v1/analytics/customers", params={"metric": "pool"}, headers=analyst).status_code == 200
    assert client.post("/v1/analytics/segments", json={"metric": "pool", "name": "x"},
                       headers=analyst).status_code == 403
    assert client.get("/v1/analytics/customers", params={"metric": "pool"}, headers=guide).status_code == 403


def test_acquisition_cost_per_channel_with_roi_payback_and_ltv(database, pipeline, client, api, tenant):
    brand = seed_analytics(database, pipeline, client, api, tenant)
    ads = api.post("/v1/channels", json={"code": "ads", "name": "朋友圈广告", "kind": "paid_ads"}).json()["id"]
    costs = [(brand.channels["mp"], "2026-11-01", "2026-11-30", 30_000), (brand.channels["tmall"], FIRST, LAST, 14_000),
             (ads, "2026-11-10", "2026-11-10", 5_000), (ads, "2026-10-01", "2026-10-31", 99_900)]
    for channel, first, last, fen in costs:
        assert api.post(f"/v1/channels/{channel}/costs", json={"period_start": first, "period_end": last,
                                                               "amount_fen": fen}).status_code == 201
    answer = api.get("/v1/analytics/acquisition", params=RANGE)
    assert answer.status_code == 200, answer.text
    rows = {r["channel_id"]: r for r in answer.json()["channels"]}
    # Mini program: 7 of its 30 November days' ¥300 is ¥70; it acquired B (first seen the 9th), who has paid ¥100
    # since: CAC ¥70, ROI 3/7, paid back in the month of acquisition, LTV (no prediction yet) ¥100.
    mp = rows[brand.channels["mp"]]
    assert (mp["cost_fen"], mp["new_customers"], mp["cac_fen"], mp["revenue_fen"]) == (7_000, 1, 7_000, 10_000)
    assert abs(mp["roi"] - 3 / 7) < 1e-9 and mp["payback_month"] == 0 and mp["ltv_fen"] == 10_000
    assert abs(mp["ltv_to_cac"] - 10 / 7) < 1e-9 and mp["note"] == "ok"
    # Tmall: ¥140 for C, who paid ¥60 less ¥10 refunded (the fully refunded order is no purchase): not paid back.
    tmall = rows[brand.channels["tmall"]]
    assert (tmall["cost_fen"], tmall["cac_fen"], tmall["revenue_fen"], tmall["payback_month"]) == (
        14_000, 14_000, 5_000, None)
    assert abs(tmall["roi"] - (5_000 - 14_000) / 14_000) < 1e-9
    # The ad spent ¥50 in the range (October's spend is outside) and brought nobody: shown, not hidden.
    assert (rows[ads]["cost_fen"], rows[ads]["new_customers"], rows[ads]["cac_fen"], rows[ads]["note"]) == (
        5_000, 0, None, "cost_without_customers")
    bad = api.get("/v1/analytics/acquisition", params={"period": "custom", "start": LAST, "end": FIRST})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "end"
