"""The console's lifecycle page, server-rendered: the numbers behind its charts, its languages, the refresh button."""

import json
import re

from tests.helpers.console import signed_in
from tests.helpers.lifecycle import HISTORIC_BUCKETS, RFM, STAGES, seed_lifecycle
from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn


def test_the_page_shows_the_numbers_its_charts_draw(app, database, pipeline, tenant):
    shop = seed_lifecycle(database, pipeline, tenant)
    client = signed_in(app, tenant.key)
    page = client.get("/console/lifecycle")
    assert page.status_code == 200
    assert "生命周期阶段" in page.text and "重要价值客户" in page.text and "一般挽留客户" in page.text
    data = json.loads(re.search(r'<script type="application/json" id="lifecycle-data">(.*?)</script>',
                                page.text, re.S).group(1))
    assert data["stages"]["labels"][:3] == ["潜在客户", "新客", "复购客户"]
    assert data["stages"]["values"] == STAGES
    assert data["rfm"]["values"] == RFM
    assert data["value"]["series"][0]["values"] == HISTORIC_BUCKETS
    assert data["value"]["labels"][0] == "¥0" and data["value"]["labels"][-1] == "≥ ¥5,000"
    assert re.search(r'data-stage="at_risk"><td>流失风险</td><td class="num">1</td>', page.text)
    assert "/static/vendor/echarts/dist/echarts.min.js" in page.text
    assert 'id="value-model"' in page.text and "暂无价值模型" in page.text  # four buyers cannot support a fit
    english = client.get("/console/language", params={"to": "en"}, follow_redirects=True)
    assert english.status_code == 200
    page = client.get("/console/lifecycle").text
    assert "Important value" in page and "Lifecycle stages" in page
    # The analyst reads the page but has no refresh button, and a forged post is refused.
    analyst = signed_in(app, shop.analyst_key)
    read = analyst.get("/console/lifecycle")
    assert read.status_code == 200 and "/console/lifecycle/compute" not in read.text
    assert analyst.post("/console/lifecycle/compute", follow_redirects=False).status_code == 403


def test_refresh_now_recomputes_and_returns_to_the_page(app, database, pipeline, tenant):
    client = signed_in(app, tenant.key)
    empty = client.get("/console/lifecycle")
    assert "尚未计算" in empty.text and "lifecycle-data" not in empty.text
    with database.unit_of_work() as session:
        customers_service.resolve_or_create(session, actor=tenant.actor, data=CustomerIn(
            name="x", identities=[{"kind": "app_user_id", "value": "x"}]))
    refreshed = client.post("/console/lifecycle/compute", follow_redirects=False)
    assert refreshed.status_code == 303 and refreshed.headers["location"] == "/console/lifecycle"
    page = client.get("/console/lifecycle").text
    assert re.search(r'data-stage="prospect"><td>潜在客户</td><td class="num">1</td>', page)


def test_the_archive_shows_stage_rfm_class_and_value(app, api, database, pipeline, tenant):
    seed_lifecycle(database, pipeline, tenant)
    b = api.get("/v1/customers", params={"identity": "app_user_id:b"}).json()["items"][0]["id"]
    scores = api.get(f"/v1/customers/{b}/archive").json()["scores"]
    assert scores["lifecycle_stage"] == "repeat" and scores["rfm_class"] == "important_value"
    assert (scores["rfm_r"], scores["rfm_f"], scores["rfm_m"]) == (5, 5, 5)
    assert scores["historic_value_fen"] == 120_000 and scores["predicted_value_fen"] is None
    page = signed_in(app, tenant.key).get(f"/console/customers/{b}").text
    assert re.search(r'id="lifecycle-stage">复购客户<', page)
    assert re.search(r'id="rfm-class">重要价值客户 <small class="muted">R5 F5 M5</small>', page)
    # Before any refresh reached a customer the archive simply has no scores.
    with database.unit_of_work() as session:
        late, _ = customers_service.resolve_or_create(session, actor=tenant.actor, data=CustomerIn(
            name="late", identities=[{"kind": "app_user_id", "value": "late"}]))
    assert api.get(f"/v1/customers/{late.id}/archive").json()["scores"] is None
    assert "lifecycle-stage" not in signed_in(app, tenant.key).get(f"/console/customers/{late.id}").text
