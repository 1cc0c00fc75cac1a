"""Segments edited, duplicated, deleted and exported: through the API and the console (the builder filled in from
the saved rule), members exported as the customer list's CSV, masked as the role requires."""

import csv
import io

from tests.helpers.console import HTMX, seed_brand, signed_in
from tests.helpers.tenants import bearer
from yutang.web.routes.segments import rows_from_rule


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_builder_rows_come_back_from_a_saved_rule():
    rule = {"any": [{"type": "tag", "tag_ids": [4, 5], "match": "all"},
                    {"type": "order", "measure": "spend", "op": "gte", "value": 1250,
                     "window": {"kind": "last_days", "days": 30}},
                    {"not": {"type": "attribute", "field": "city", "op": "in", "value": ["上海", "北京"]}}]}
    match, rows = rows_from_rule(rule)
    assert match == "any"
    assert rows[0]["tag_ids"] == ["4", "5"] and rows[0]["match"] == "all"
    assert (rows[1]["value"], rows[1]["days"], rows[1]["measure"]) == ("12.50", "30", "spend")
    assert rows[2]["negate"] == "1" and rows[2]["value"] == "上海, 北京"
    assert rows_from_rule({"all": [{"any": [{"type": "tag", "tag_ids": [1]}]}]}) is None  # nested: not shown
    assert rows_from_rule(None) is None


def test_api_duplicates_and_exports_members(client, api, database, tenant, pipeline):
    brand = seed_brand(database, tenant)
    pipeline.catch_up()
    made = api.post("/v1/segments", json={"name": "绿茶客", "rule": {"type": "tag", "tag_ids": [brand.tea]}})
    segment = made.json()["id"]
    copy = api.post(f"/v1/segments/{segment}/duplicate", json={"name": "绿茶客二"})
    assert copy.status_code == 201 and copy.json()["member_count"] == 1
    taken = api.post(f"/v1/segments/{segment}/duplicate", json={"name": "绿茶客"})
    assert taken.status_code == 409 and taken.json()["field"] == "name"
    static = api.post("/v1/segments", json={"name": "名单", "kind": "static", "customer_ids": [brand.li, brand.zhang]})
    static_copy = api.post(f"/v1/segments/{static.json()['id']}/duplicate", json={"name": "名单副本"}).json()
    assert static_copy["kind"] == "static" and static_copy["member_count"] == 2
    rows = _csv(api.get(f"/v1/segments/{segment}/members.csv").text)
    assert [(r["id"], r["name"], r["phone"], r["spend_yuan"]) for r in rows] == [
        (str(brand.zhang), "张三", "+8613800138000", "12.30")]
    masked = _csv(client.get(f"/v1/segments/{segment}/members.csv", headers=bearer(brand.analyst_key)).text)
    assert masked[0]["name"] != "张三" and "****" in masked[0]["phone"]
    assert client.get(f"/v1/segments/{segment}/members.csv", headers=bearer(brand.guide_key)).status_code == 403
    assert api.get("/v1/segments/999999/members.csv").status_code == 404


def test_console_edits_duplicates_deletes_and_exports(app, database, tenant, pipeline):
    brand = seed_brand(database, tenant)
    pipeline.catch_up()
    client = signed_in(app, tenant.key)
    saved = client.post("/console/segments", data={"rows": "1", "name": "绿茶客", "type_0": "tag",
                                                   "tag_ids_0": str(brand.tea)}, follow_redirects=False)
    page_url = saved.headers["location"]
    segment = int(page_url.rsplit("/", 1)[1])
    detail = client.get(page_url).text
    assert f"/console/segments/{segment}/edit" in detail and "导出成员" in detail
    edit = client.get(f"/console/segments/{segment}/edit").text
    assert "编辑分群" in edit and f'value="{brand.tea}" selected' in edit and 'value="绿茶客"' in edit
    assert f'action="/console/segments/{segment}"' in edit
    # The builder's redraw keeps the form aimed at the segment.
    drawn = client.post("/console/segments/builder", headers=HTMX, data={
        "rows": "1", "segment_id": str(segment), "name": "绿茶客", "type_0": "tag", "tag_ids_0": str(brand.tea),
        "action": "add"})
    assert f'hx-post="/console/segments/{segment}"' in drawn.text and 'name="type_1"' in drawn.text
    empty = client.post(f"/console/segments/{segment}", data={"rows": "1", "name": " ", "type_0": "tag",
                                                                "tag_ids_0": str(brand.tea)})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text
    changed = client.post(f"/console/segments/{segment}", headers=HTMX, data={
        "rows": "1", "name": "有邮箱的客户", "type_0": "identity", "kind_0": "email", "present_0": "yes"})
    assert changed.status_code == 204 and changed.headers["HX-Redirect"] == page_url
    detail = client.get(page_url).text
    assert "有邮箱的客户" in detail and "1 位成员" in detail and "王五" in client.get(
        f"/console/segments/{segment}/members.csv").text
    copied = client.post(f"/console/segments/{segment}/duplicate", follow_redirects=False)
    copy_url = copied.headers["location"]
    assert copy_url != page_url and "有邮箱的客户（副本）" in client.get(copy_url).text
    again = client.post(f"/console/segments/{segment}/duplicate", follow_redirects=False).headers["location"]
    assert "有邮箱的客户（副本） 2" in client.get(again).text
    deleted = client.post(f"/console/segments/{segment}/delete", follow_redirects=False)
    assert deleted.headers["location"] == "/console/segments"
    assert client.get(page_url).status_code == 404
    analyst = signed_in(app, brand.analyst_key)
    assert "/edit" not in analyst.get(copy_url).text
    assert analyst.post(f"/console/segments/{int(copy_url.rsplit('/', 1)[1])}/delete").status_code == 403
    exported = analyst.get(f"{copy_url}/members.csv").text
    assert "w***@example.com" in exported and "wang@" not in exported and "王五" not in exported
