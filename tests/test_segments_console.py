"""The segments pages over HTTP: the builder's form controls become a rule, the live count, errors per row,
saving, the members list and explanations, in both languages."""

import re

from tests.helpers.console import HTMX, seed_brand, signed_in
from yutang.web.routes.segments import rule_from_form


def _form(**fields) -> dict:
    return {"rows": str(sum(1 for k in fields if k.startswith("type_"))), **fields}


def test_form_rows_become_a_rule():
    from starlette.datastructures import FormData

    form = FormData([("rows", "3"), ("match", "any"), ("type_0", "tag"), ("tag_ids_0", "4"), ("tag_ids_0", "5"),
                     ("match_0", "all"), ("type_1", "order"), ("measure_1", "spend"), ("op_1", "gte"),
                     ("value_1", "12.5"), ("days_1", "30"), ("type_2", "attribute"), ("field_2", "city"),
                     ("op_2", "in"), ("value_2", "上海，北京"), ("negate_2", "1")])
    assert rule_from_form(form) == {"any": [
        {"type": "tag", "tag_ids": [4, 5], "match": "all"},
        {"type": "order", "measure": "spend", "op": "gte", "value": 1250, "window": {"kind": "last_days", "days": 30}},
        {"not": {"type": "attribute", "field": "city", "op": "in", "value": ["上海", "北京"]}}]}


def test_builder_counts_saves_lists_and_explains(app, database, tenant, pipeline):
    brand = seed_brand(database, tenant)
    client = signed_in(app, tenant.key)
    page = client.get("/console/segments/new")
    assert page.status_code == 200 and 'name="type_0"' in page.text
    # Adding a row and retyping it redraws the builder with the values kept.
    drawn = client.post("/console/segments/builder", headers=HTMX, data=_form(
        name="绿茶客", type_0="tag", tag_ids_0=str(brand.tea), action="add"))
    assert 'name="type_1"' in drawn.text and f'value="{brand.tea}" selected' in drawn.text
    pipeline.catch_up()
    count = client.post("/console/segments/preview", headers=HTMX, data=_form(type_0="tag", tag_ids_0=str(brand.tea)))
    assert 'data-count="1"' in count.text and f"/console/customers/{brand.zhang}" in count.text
    both = client.post("/console/segments/preview", headers=HTMX, data=_form(
        type_0="tag", tag_ids_0=str(brand.tea), type_1="consent", consent_1="sms", status_1="withdrawn"))
    assert 'data-count="0"' in both.text
    broken = client.post("/console/segments/preview", headers=HTMX, data=_form(
        type_0="event", event_0="Signed In", op_0="gte", value_0="many"))
    assert "比较值：请输入数字。" in broken.text and "rule.all" not in broken.text and "expected" not in broken.text
    no_tag = client.post("/console/segments/preview", headers=HTMX, data=_form(type_0="tag"))
    assert "标签：请至少选择或填写 1 项。" in no_tag.text and "should have" not in no_tag.text
    missing_name = client.post("/console/segments", headers=HTMX, data=_form(type_0="tag", tag_ids_0=str(brand.tea)))
    assert missing_name.status_code == 422 and 'aria-invalid="true"' in missing_name.text
    saved = client.post("/console/segments", data=_form(name="绿茶客", type_0="tag", tag_ids_0=str(brand.tea)),
                        follow_redirects=False)
    assert saved.status_code == 303
    detail = client.get(saved.headers["location"])
    assert "1 位成员" in detail.text and f"/console/customers/{brand.zhang}" in detail.text
    assert "带有以下任一标签：兴趣 / 绿茶" in detail.text and "tag_ids" not in detail.text
    segment_id = int(re.search(r"/console/segments/(\d+)", saved.headers["location"]).group(1))
    explained = client.get(f"/console/segments/{segment_id}/explain", params={"customer_id": brand.li}, headers=HTMX)
    assert "不符合" in explained.text and "✗" in explained.text
    # In sentences with names, never the rule's JSON or its node codes.
    assert "带有以下任一标签：兴趣 / 绿茶" in explained.text and "tag_ids" not in explained.text
    assert "ALL" not in explained.text and "同时满足以下全部条件" in explained.text
    listing = client.get("/console/segments")
    assert "绿茶客" in listing.text and "动态" in listing.text
    client.cookies.set("yutang_lang", "en")
    english = client.get("/console/segments")
    assert "Dynamic" in english.text and "New segment" in english.text


def test_analysts_see_segments_but_cannot_build_them(app, database, tenant):
    brand = seed_brand(database, tenant)
    client = signed_in(app, brand.analyst_key)
    assert client.get("/console/segments").status_code == 200
    assert client.get("/console/segments/new").status_code == 403


def test_static_snapshot_from_the_builder_and_customers_picked_by_id(app, database, tenant, pipeline):
    brand = seed_brand(database, tenant)
    pipeline.catch_up()
    client = signed_in(app, tenant.key)
    saved = client.post("/console/segments", data=_form(name="绿茶名单", kind="static", type_0="tag",
                                                         tag_ids_0=str(brand.tea)), follow_redirects=False)
    assert saved.status_code == 303
    detail = client.get(saved.headers["location"])
    assert "静态" in detail.text and "1 位成员" in detail.text and 'name="customer_id"' in detail.text
    picked = client.post(saved.headers["location"] + "/members", data={"customer_id": str(brand.li)})
    assert picked.status_code == 200 and "2 位成员" in picked.text
    assert f"/console/customers/{brand.li}" in picked.text
    unknown = client.post(saved.headers["location"] + "/members", data={"customer_id": "99999999"})
    assert unknown.status_code == 422


def test_a_segment_saved_in_the_console_records_its_build(app, database, tenant, pipeline):
    # Given a signed-in operator, when they save a dynamic segment in the console (one flow with the API's),
    brand = seed_brand(database, tenant)
    client = signed_in(app, tenant.key)
    saved = client.post("/console/segments", data=_form(name="绿茶客", type_0="tag", tag_ids_0=str(brand.tea)),
                        follow_redirects=False)
    assert saved.status_code == 303
    segment_id = int(re.search(r"/console/segments/(\d+)", saved.headers["location"]).group(1))
    # then the API shows when its membership was built, as for a segment created through the API.
    answer = client.get(f"/v1/segments/{segment_id}", headers=tenant_headers(tenant)).json()
    assert answer["rebuilt_at"] is not None and answer["member_count"] == 1


def tenant_headers(tenant) -> dict:
    return {"Authorization": f"Bearer {tenant.key}"}
