"""The console's overview (数据概览): its figures and charts, both languages, drill-down, a segment in one click."""

import json
import re

from tests.helpers.analytics import FIRST, LAST, seed_analytics, seed_funnel
from tests.helpers.console import signed_in
from tests.helpers.tenants import add_member_key

RANGE = f"period=custom&start={FIRST}&end={LAST}"


def test_the_console_opens_on_the_overview_with_its_figures_in_both_languages(app, database, pipeline, client, api,
                                                                               tenant):
    brand = seed_analytics(database, pipeline, client, api, tenant)
    browser = signed_in(app, tenant.key)
    assert browser.get("/console", follow_redirects=False).headers["location"] == "/console/analytics"
    page = browser.get(f"/console/analytics?{RANGE}")
    assert page.status_code == 200
    assert "数据概览" in page.text and "复购率" in page.text and "私域与公域平台对比" in page.text
    nav = re.search(r'<ul class="sections">\s*<li><a href="([^"]+)"', page.text).group(1)
    assert nav == "/console/analytics"  # the first entry of the navigation
    gmv = re.search(r'<article class="figure" id="gmv">.*?<p class="value"><a href="([^"]+)">([^<]+)</a>', page.text,
                    re.S)
    assert gmv.group(2) == "¥710.00" and "metric=buyers" in gmv.group(1)
    assert re.search(r'id="repurchase-rate">.*?>25\.0%<', page.text, re.S)
    assert re.search(r'id="first-response">.*?>40\.0 分钟<', page.text, re.S)
    data = json.loads(re.search(r'<script type="application/json" id="analytics-data">(.*?)</script>', page.text,
                                re.S).group(1))
    assert data["active"]["values"] == [1, 1, 0, 0, 0, 0, 1]
    assert data["sales"]["labels"] == ["小程序商城", "天猫旗舰店"] and data["sales"]["values"] == [360.0, 350.0]
    assert data["domains"]["labels"] == ["私域", "公域"]
    assert "/static/vendor/echarts/dist/echarts.min.js" in page.text
    browser.get("/console/language", params={"to": "en"})
    english = browser.get(f"/console/analytics?{RANGE}").text
    assert "Overview" in english and "Repurchase rate" in english and "Private domain against marketplaces" in english
    # Drill-down from the Tmall buyers, then one click makes them a static segment.
    drill = browser.get(f"/console/analytics/customers?{RANGE}&metric=buyers&channel_id={brand.channels['tmall']}")
    assert drill.status_code == 200
    listed = {int(x) for x in re.findall(r'data-customer="(\d+)"', drill.text)}
    assert brand.names(listed) == {"A", "C"}
    made = browser.post("/console/analytics/segments", data={
        "metric": "buyers", "period": "custom", "start": FIRST, "end": LAST, "channel_id": brand.channels["tmall"],
        "name": "Tmall buyers"}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].startswith("/console/segments/")
    segment_id = int(made.headers["location"].rsplit("/", 1)[1])
    members = api.get(f"/v1/segments/{segment_id}/members").json()["items"]
    assert brand.names(m["customer_id"] for m in members) == {"A", "C"}


def test_bad_ranges_show_an_error_and_guides_see_figures_without_drill_links(app, database, tenant):
    browser = signed_in(app, tenant.key)
    bad = browser.get("/console/analytics?period=custom&start=2026-11-14&end=2026-11-01")
    assert bad.status_code == 422
    assert browser.get("/console/analytics/customers?metric=happiness").status_code == 422
    _, guide_key = add_member_key(database, tenant, "guide")
    guide = signed_in(app, guide_key)
    page = guide.get("/console/analytics")
    assert page.status_code == 200 and "/console/analytics/customers" not in page.text
    assert guide.get("/console/analytics/customers?metric=pool").status_code == 403


def test_the_funnel_page_counts_steps_and_makes_a_segment_of_the_drop_outs(app, database, pipeline, client, api,
                                                                          tenant):
    brand = seed_funnel(database, pipeline, client, api, tenant)
    browser = signed_in(app, tenant.key)
    form = {"event1": "Product Viewed", "where1": "category=tea", "event2": "Product Added", "event3": "Order Paid",
            "window_days": "2", "period": "custom", "start": FIRST, "end": LAST}
    page = browser.get("/console/analytics/funnels", params=form)
    assert page.status_code == 200 and "漏斗分析" in page.text
    counts = re.findall(r'<tr data-step="(\d)"><td>[^<]*</td>\s*<td class="num">(?:<a [^>]*>)?(\d+)', page.text)
    assert counts == [("1", "5"), ("2", "3"), ("3", "2")]
    dropped = re.search(r'href="([^"]+outcome=dropped)" class="dropped">2<', page.text).group(1)
    listed = browser.get(dropped.replace("&amp;", "&"))
    assert brand.names(int(x) for x in re.findall(r'data-customer="(\d+)"', listed.text)) == {"S", "V"}
    made = browser.post("/console/analytics/funnels/segments", data={**form, "step": "2", "outcome": "dropped",
                                                                    "name": "看了没加购"}, follow_redirects=False)
    assert made.status_code == 303
    members = api.get(f"/v1/segments/{made.headers['location'].rsplit('/', 1)[1]}/members").json()["items"]
    assert brand.names(m["customer_id"] for m in members) == {"S", "V"}
    browser.get("/console/language", params={"to": "en"})
    assert "Strict: nothing between steps" in browser.get("/console/analytics/funnels", params=form).text


def test_the_retention_page_shows_the_grid_and_repurchase(app, database, pipeline, client, api, tenant):
    seed_analytics(database, pipeline, client, api, tenant)
    browser = signed_in(app, tenant.key)
    query = {"cohort": "first_purchase", "returning": "purchase", "unit": "week", "periods": "2", "period": "custom",
             "start": "2026-11-01", "end": LAST, "days": "7"}
    page = browser.get("/console/analytics/retention", params=query)
    assert page.status_code == 200 and "留存与复购" in page.text
    row = re.search(r'<tr data-cohort="2026-11-02">(.*?)</tr>', page.text, re.S).group(1)
    assert re.findall(r'>([\d.]+%?)<', row) == ["2", "100.0%", "0.0%"]
    assert "4 位新购买客户中，2 位在 7 天内" in page.text
    browser.get("/console/language", params={"to": "en"})
    english = browser.get("/console/analytics/retention", params=query).text
    assert "Retention and repurchase" in english and "2 of 4 new buyers bought again" in english
    assert browser.get("/console/analytics/retention", params={**query, "unit": "year"}).status_code == 422


def test_a_retention_cell_opens_its_customers_and_becomes_a_segment(app, database, pipeline, client, api, tenant):
    brand = seed_analytics(database, pipeline, client, api, tenant)
    browser = signed_in(app, tenant.key)
    query = {"cohort": "first_purchase", "returning": "purchase", "unit": "week", "periods": "2", "period": "custom",
             "start": "2026-11-01", "end": LAST}
    page = browser.get("/console/analytics/retention", params=query).text
    row = re.search(r'<tr data-cohort="2026-11-02">(.*?)</tr>', page, re.S).group(1)
    back = re.search(r'href="([^"]+)" class="drill" title="共 2 位客户">100.0%<', row).group(1).replace("&amp;", "&")
    listed = browser.get(back)
    assert listed.status_code == 200 and "2026-11-02 同期群，第 +1 期回访" in listed.text
    assert brand.names(int(x) for x in re.findall(r'data-customer="(\d+)"', listed.text)) == {"A", "D"}
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', listed.text))
    made = browser.post("/console/analytics/cells/segments", data={**form, "name": "首购次周回购"},
                        follow_redirects=False)
    assert made.status_code == 303, made.text
    members = api.get(f"/v1/segments/{made.headers['location'].rsplit('/', 1)[1]}/members").json()["items"]
    assert brand.names(m["customer_id"] for m in members) == {"A", "D"}
    assert browser.get("/console/analytics/cells", params={**query, "report": "retention"}).status_code == 422
    _, guide_key = add_member_key(database, tenant, "guide")
    guide = signed_in(app, guide_key)
    assert "/console/analytics/cells" not in guide.get("/console/analytics/retention", params=query).text
    assert guide.get(back).status_code == 403


def test_the_acquisition_page_shows_cac_per_channel(app, database, pipeline, client, api, tenant):
    brand = seed_analytics(database, pipeline, client, api, tenant)
    api.post(f"/v1/channels/{brand.channels['mp']}/costs", json={"period_start": "2026-11-01",
                                                                 "period_end": "2026-11-30", "amount_fen": 30_000})
    browser = signed_in(app, tenant.key)
    page = browser.get(f"/console/analytics/acquisition?{RANGE}")
    assert page.status_code == 200
    row = re.search(rf'<tr data-channel="{brand.channels["mp"]}">(.*?)</tr>', page.text, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]+)</td>', row) == ["¥70.00", "1", "¥70.00", "¥100.00", "42.9%",
                                                                 "第 0 月", "1.43"]
    tmall = re.search(rf'<tr data-channel="{brand.channels["tmall"]}">(.*?)</tr>', page.text, re.S).group(1)
    assert "未登记花费" in tmall
    browser.get("/console/language", params={"to": "en"})
    assert "No spend recorded" in browser.get(f"/console/analytics/acquisition?{RANGE}").text
