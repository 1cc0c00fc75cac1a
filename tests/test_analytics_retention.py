"""Retention grids and repurchase on the brands worked out by hand in tests/helpers/analytics.py."""

from tests.helpers.analytics import FIRST, LAST, seed_analytics, seed_funnel

NOVEMBER = {"period": "custom", "start": "2026-11-01", "end": LAST}


def test_repurchase_counts_new_buyers_again_on_a_later_day(database, pipeline, client, api, tenant):
    seed_analytics(database, pipeline, client, api, tenant)
    # First purchase days 1–14 Nov: A the 3rd, D the 5th, B the 10th (its two orders that day are one purchase),
    # C the 13th (its refunded order is no purchase). Again later: A on the 9th (6 days), D on the 6th (1 day).
    week = api.post("/v1/analytics/repurchase", json={**NOVEMBER, "days": 7})
    assert week.status_code == 200, week.text
    body = week.json()
    assert (body["buyers"], body["repurchased"], body["rate"]) == (4, 2, 0.5)
    assert body["second_purchase_buyers"] == 2 and body["median_days_to_second"] == 3.5
    assert body["days_to_second"][0] == {"min_days": 1, "max_days": 7, "buyers": 2}
    assert sum(b["buyers"] for b in body["days_to_second"]) == 2
    five = api.post("/v1/analytics/repurchase", json={**NOVEMBER, "days": 5}).json()
    assert (five["repurchased"], five["rate"]) == (1, 0.25)


def test_weekly_purchase_cohorts(database, pipeline, client, api, tenant):
    seed_analytics(database, pipeline, client, api, tenant)
    # First purchases: A (Tue 3rd) and D (Thu 5th) in the week of Monday 2 Nov; B (10th) and C (13th) in the week
    # of the 9th. The week after: A bought on the 9th and 12th, D on the 14th and 15th; B only again on its first
    # day (the same week), C never.
    answer = api.post("/v1/analytics/retention", json={**NOVEMBER, "cohort": "first_purchase",
                                                        "returning": "purchase", "unit": "week", "periods": 2})
    assert answer.status_code == 200, answer.text
    grid = answer.json()
    assert [(c["cohort"], c["customers"], c["returned"]) for c in grid["cohorts"]] == [
        ("2026-11-02", 2, [2, 0]), ("2026-11-09", 2, [0, 0])]
    assert grid["cohorts"][0]["rates"] == [1.0, 0.0] and grid["overall"] == [0.5, 0.0]


def test_a_cohort_and_its_returns_drill_down_to_their_customers(database, pipeline, client, api, tenant):
    brand = seed_analytics(database, pipeline, client, api, tenant)
    cell = {**NOVEMBER, "report": "retention", "cohort": "first_purchase", "returning": "purchase", "unit": "week"}

    def who(**more) -> set[str]:
        answer = api.post("/v1/analytics/cells/customers", json={**cell, **more})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["total"] == len(body["items"])
        return brand.names(c["customer_id"] for c in body["items"])

    # The grid's figures above, by name: the week of the 2nd is A and D, both back the week after; the week of the
    # 9th is B and C, neither back.
    assert who(cohort_start="2026-11-02", k=0) == {"A", "D"}
    assert who(cohort_start="2026-11-02", k=1) == {"A", "D"}
    assert who(cohort_start="2026-11-02", k=2) == set()
    assert who(cohort_start="2026-11-09", k=0) == {"B", "C"}
    assert who(cohort_start="2026-11-09", k=1) == set()
    made = api.post("/v1/analytics/cells/segments", json={"cell": {**cell, "cohort_start": "2026-11-02", "k": 1},
                                                          "name": "11月首购周 次周回购"})
    assert made.status_code == 201, made.text
    assert made.json()["customers"] == 2
    for body, field in (({**cell, "k": -1, "cohort_start": "2026-11-02"}, "k"),
                        ({**cell, "k": 1}, "cohort_start"),
                        ({**cell, "report": "funnel", "k": 1, "cohort_start": "2026-11-02"}, "report"),
                        ({**cell, "returning": "event", "k": 1, "cohort_start": "2026-11-02"}, "return_event")):
        answer = api.post("/v1/analytics/cells/customers", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"].split(".")[-1] == field, answer.text


def test_daily_cohorts_by_first_event_returning_on_any_event_or_a_purchase(database, pipeline, client, api, tenant):
    seed_funnel(database, pipeline, client, api, tenant)
    # First events 8–14 Nov: P and T the 9th, Q the 10th, R the 11th, S the 12th, V the 13th (U's first was the
    # 7th). Only V came back on a later day: the 16th, three days on. R paid on the 14th, three days after its
    # first view on the 11th (a paid order is no activity of its own: it is Yutang's event).
    body = {"period": "custom", "start": FIRST, "end": LAST, "unit": "day", "periods": 3}
    grid = api.post("/v1/analytics/retention", json=body).json()
    assert [(c["cohort"], c["customers"], c["returned"]) for c in grid["cohorts"]] == [
        ("2026-11-09", 2, [0, 0, 0]), ("2026-11-10", 1, [0, 0, 0]), ("2026-11-11", 1, [0, 0, 0]),
        ("2026-11-12", 1, [0, 0, 0]), ("2026-11-13", 1, [0, 0, 1])]
    assert grid["overall"] == [0.0, 0.0, 1 / 6]
    bought = api.post("/v1/analytics/retention", json={**body, "returning": "purchase"}).json()
    assert [c["returned"] for c in bought["cohorts"]][2] == [0, 0, 1]
    assert sum(sum(c["returned"]) for c in bought["cohorts"]) == 1
    viewed = api.post("/v1/analytics/retention", json={**body, "cohort_event": "Product Added", "returning": "event",
                                                        "return_event": "Product Added"}).json()
    # First cart adds: P 9th, Q 10th, R 11th, T 9th, U 8th, V 13th; V added again on the 16th.
    assert [(c["cohort"], c["customers"]) for c in viewed["cohorts"]] == [
        ("2026-11-08", 1), ("2026-11-09", 2), ("2026-11-10", 1), ("2026-11-11", 1), ("2026-11-13", 1)]
    assert viewed["cohorts"][-1]["returned"] == [0, 0, 1]


def test_bad_retention_and_repurchase_parameters_name_the_field(api):
    for body, field in (({"unit": "year"}, "unit"), ({"returning": "event"}, "return_event"),
                        ({"cohort": "first_purchase", "cohort_event": "x"}, "cohort_event"),
                        ({"periods": 0}, "periods"), ({"period": "custom"}, "start")):
        answer = api.post("/v1/analytics/retention", json=body)
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field, (body, answer.text)
    answer = api.post("/v1/analytics/repurchase", json={"days": 0})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "days"
