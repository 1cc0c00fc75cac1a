"""Cross-sell rules and category fit on a brand worked out by hand (tests/helpers/analytics.py seed_baskets), on
the run's warehouse."""

import csv
import io

from tests.helpers.analytics import FIRST, LAST, seed_baskets

RANGE = {"period": "custom", "start": FIRST, "end": LAST}
# Purchases paid 8–14 Nov, one basket per order: O1 {tea, teaware}, O2 {tea}, O3 {tea, teaware, snacks},
# O4 {tea, snacks}, O5 {teaware}, O9 {snacks}, O10 {snacks} — 7 baskets. Not E's refunded order, not D's tea of
# 1 Nov, not C's pending teaware. Baskets with tea 4, teaware 3, snacks 4; tea & teaware 2, tea & snacks 2,
# teaware & snacks 1.
N = 7
EXPECTED = {  # (a, b): (both, with a, with b)
    ("tea", "teaware"): (2, 4, 3), ("teaware", "tea"): (2, 3, 4), ("snacks", "tea"): (2, 4, 4),
    ("tea", "snacks"): (2, 4, 4), ("snacks", "teaware"): (1, 4, 3), ("teaware", "snacks"): (1, 3, 4)}


def rules(api, **params):
    answer = api.get("/v1/analytics/cross-sell", params={**RANGE, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_category_rules_have_the_support_confidence_and_lift_worked_out_by_hand(database, pipeline, client, api,
                                                                              tenant):
    seed_baskets(database, pipeline, client, api, tenant)
    everything = rules(api, min_support=0, min_lift=0)
    assert everything["baskets"] == N and everything["level"] == "category" and everything["basket"] == "order"
    found = everything["rules"]
    # Lift = both × N ÷ (with a × with b): tea ↔ teaware 14/12, tea ↔ snacks 14/16, teaware ↔ snacks 7/12; ties go
    # to more baskets, then by name.
    assert [(r["antecedent"], r["consequent"]) for r in found] == [
        ("tea", "teaware"), ("teaware", "tea"), ("snacks", "tea"), ("tea", "snacks"), ("snacks", "teaware"),
        ("teaware", "snacks")]
    for r in found:
        both, with_a, with_b = EXPECTED[r["antecedent"], r["consequent"]]
        assert (r["baskets"], r["antecedent_baskets"], r["consequent_baskets"]) == (both, with_a, with_b)
        assert abs(r["support"] - both / N) < 1e-12 and abs(r["confidence"] - both / with_a) < 1e-12
        assert abs(r["lift"] - both * N / (with_a * with_b)) < 1e-12
    assert abs(found[1]["confidence"] - 2 / 3) < 1e-12 and abs(found[0]["lift"] - 7 / 6) < 1e-12
    # Defaults: lift at least 1, support at least 1 %.
    assert [(r["antecedent"], r["consequent"]) for r in rules(api)["rules"]] == [("tea", "teaware"), ("teaware", "tea")]
    # Confidence 0.5 met exactly passes; support 0.2 drops the 1-in-7 pair, 0.3 everything; top keeps the best.
    assert len(rules(api, min_lift=0, min_confidence=0.5)["rules"]) == 4
    assert {(r["antecedent"], r["consequent"]) for r in rules(api, min_lift=0, min_support=0.2)["rules"]} == {
        k for k, v in EXPECTED.items() if v[0] == 2}
    none = rules(api, min_lift=0, min_support=0.3)
    assert none["rules"] == [] and none["baskets"] == N  # the baskets are counted when no rule is left
    assert [r["antecedent"] for r in rules(api, min_lift=0, min_support=0, top=3)["rules"]] == ["tea", "teaware",
                                                                                                "snacks"]


def test_customer_baskets_and_sku_rules(database, pipeline, client, api, tenant):
    seed_baskets(database, pipeline, client, api, tenant)
    # One basket per buyer in the range: A {tea, teaware}, B {all three}, C {tea, snacks}, D {teaware}: tea 3,
    # teaware 3, snacks 2; tea & snacks 2 → lift 2 × 4 ÷ (3 × 2) = 4/3; tea & teaware 8/9 falls under lift 1.
    by_buyer = rules(api, basket="customer")
    assert by_buyer["baskets"] == 4
    assert [(r["antecedent"], r["consequent"], r["confidence"]) for r in by_buyer["rules"]] == [
        ("snacks", "tea", 1.0), ("tea", "snacks", 2 / 3)]
    assert abs(by_buyer["rules"][0]["lift"] - 4 / 3) < 1e-12
    # SKUs (a line without a category still counts): T1 in 3 orders, T2 1, W1 2, W2 1, S1 4; T2 & W1 in O3 only:
    # lift 1 × 7 ÷ (1 × 2) = 3.5, the highest.
    skus = rules(api, level="sku", min_lift=0, min_support=0, top=2)
    assert [(r["antecedent"], r["consequent"]) for r in skus["rules"]] == [("T2", "W1"), ("W1", "T2")]
    assert skus["rules"][0]["lift"] == 3.5 and skus["rules"][0]["confidence"] == 1.0
    assert skus["rules"][1]["confidence"] == 0.5


def test_a_rule_becomes_a_segment_of_who_bought_a_and_not_yet_b(database, pipeline, client, api, tenant):
    brand = seed_baskets(database, pipeline, client, api, tenant)

    def segment(a, b, **extra):
        made = api.post("/v1/analytics/cross-sell/segments",
                        json={**RANGE, "antecedent": a, "consequent": b, "name": f"{a} 未买 {b}", **extra})
        assert made.status_code == 201, made.text
        members = api.get(f"/v1/segments/{made.json()['segment_id']}/members").json()["items"]
        assert made.json()["customers"] == len(members)
        return brand.names(m["customer_id"] for m in members)

    # Snacks buyers B and C: B bought teaware, C's teaware order is still pending.
    assert segment("snacks", "teaware") == {"C"}
    assert segment("tea", "snacks") == {"A"}
    # D's tea of 1 Nov, before the range, still means D has bought tea.
    assert segment("teaware", "tea") == set()
    assert segment("T1", "S1", level="sku") == {"A"}


def test_category_fit_places_each_category_in_its_quadrant(database, pipeline, client, api, tenant):
    seed_baskets(database, pipeline, client, api, tenant)
    answer = api.get("/v1/analytics/category-fit", params=RANGE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    got = {c["category"]: c for c in body["categories"]}
    # Purchase days: tea A 8th & 12th (gap 4), B, C; teaware A, B, D (no repeat); snacks B 9th & 13th (4),
    # C 10th & 11th (1) → median 2.5. Split: median of 4 and 2.5 = 3.25.
    assert [(c, got[c]["buyers"], got[c]["repeat_buyers"], got[c]["median_days_between"]) for c in sorted(got)] == [
        ("snacks", 2, 2, 2.5), ("tea", 3, 1, 4.0), ("teaware", 3, 0, None)]
    assert body["split"] == "median" and body["frequency_split_days"] == 3.25
    # In the range: A 3 events, 1 message, 1 reply; B 1 event (its message of the 7th is before, its marketing
    # message no reply); C 2 messages, 1 reply; D 2 events. Per buyer: tea (A B C) 9/3, teaware (A B D) 8/3,
    # snacks (B C) 4/2; split at their median 8/3.
    assert [(got[c]["messages"], got[c]["replies"], got[c]["events"]) for c in ("tea", "teaware", "snacks")] == [
        (3, 2, 4), (1, 1, 6), (2, 1, 1)]
    assert got["tea"]["interaction_per_buyer"] == 3.0 and abs(body["interaction_split"] - 8 / 3) < 1e-12
    assert {c: got[c]["quadrant"] for c in got} == {
        "tea": "content_seeding", "teaware": "content_seeding", "snacks": "repurchase_reminders"}
    chosen = api.get("/v1/analytics/category-fit",
                     params={**RANGE, "frequency_split_days": 5, "interaction_split": 2.8}).json()
    assert chosen["split"] == "set" and chosen["frequency_split_days"] == 5
    assert {c["category"]: c["quadrant"] for c in chosen["categories"]} == {
        "tea": "community", "teaware": "lead_nurturing", "snacks": "repurchase_reminders"}


def test_a_category_drills_down_to_its_buyers_and_repeat_buyers(database, pipeline, client, api, tenant):
    brand = seed_baskets(database, pipeline, client, api, tenant)

    def who(category: str, outcome: str) -> set[str]:
        answer = api.post("/v1/analytics/cells/customers", json={
            **RANGE, "report": "category_fit", "category": category, "outcome": outcome})
        assert answer.status_code == 200, answer.text
        return brand.names(c["customer_id"] for c in answer.json()["items"])

    # The figures above by name: tea A B C (A twice), teaware A B D (nobody twice), snacks B and C (both twice).
    assert who("tea", "buyers") == {"A", "B", "C"} and who("tea", "repeat_buyers") == {"A"}
    assert who("teaware", "buyers") == {"A", "B", "D"} and who("teaware", "repeat_buyers") == set()
    assert who("snacks", "repeat_buyers") == {"B", "C"} and who("coffee", "buyers") == set()


def test_both_reports_export_csv(database, pipeline, client, api, tenant):
    seed_baskets(database, pipeline, client, api, tenant)
    answer = api.get("/v1/analytics/cross-sell", params={**RANGE, "format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(answer.text.removeprefix("\ufeff"))))
    assert table[0][:3] == ["antecedent", "consequent", "baskets"]
    assert [row[:3] for row in table[1:]] == [["tea", "teaware", "2"], ["teaware", "tea", "2"]]
    fit = api.get("/v1/analytics/category-fit", params={**RANGE, "format": "csv"})
    table = list(csv.reader(io.StringIO(fit.text.removeprefix("\ufeff"))))
    assert table[0][0] == "category" and {row[0]: row[-1] for row in table[1:]} == {
        "snacks": "repurchase_reminders", "tea": "content_seeding", "teaware": "content_seeding"}


def test_bad_requests_answer_problem_json_naming_the_field(api):
    for path, params, field in (("/v1/analytics/cross-sell", {"level": "brand"}, "level"),
                                ("/v1/analytics/cross-sell", {"min_support": 2}, "min_support"),
                                ("/v1/analytics/cross-sell", {"top": 0}, "top"),
                                ("/v1/analytics/cross-sell", {"basket": "cart"}, "basket"),
                                ("/v1/analytics/cross-sell", {"format": "xls"}, "format"),
                                ("/v1/analytics/cross-sell", {"period": "someday"}, "period"),
                                ("/v1/analytics/category-fit", {"frequency_split_days": 0}, "frequency_split_days"),
                                ("/v1/analytics/category-fit", {"period": "custom"}, "start")):
        answer = api.get(path, params=params)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["errors"][0]["field"] == field, answer.json()
    for body, field in (({"antecedent": "tea", "consequent": "tea", "name": "x"}, "consequent"),
                        ({"antecedent": "t\x00a", "consequent": "tea", "name": "x"}, "antecedent"),
                        ({"antecedent": "tea", "consequent": "snacks", "name": ""}, "name")):
        answer = api.post("/v1/analytics/cross-sell/segments", json=body)
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field, answer.text
