"""The customer list: finding people by the id beside their name and the phone's last four digits, the total,
sorting by spend and last purchase, its columns, bulk tagging from it, and the CSV export (API and console), masked
as the role requires."""

import csv
import io
from datetime import datetime

from tests.helpers.console import HTMX, seed_brand, signed_in
from tests.helpers.tenants import bearer
from yutang.orders import service as orders_service
from yutang.orders.schemas import OrderIn


def _order(database, tenant, customer_id: int, external_id: str, fen: int, at: str) -> None:
    with database.unit_of_work() as session:
        orders_service.record_order(session, actor=tenant.actor, data=OrderIn(
            external_id=external_id, channel="mp", status="paid", customer_id=customer_id,
            placed_at=datetime.fromisoformat(at), lines=[{"sku": "X", "quantity": 1, "unit_price_fen": fen}]))


def _csv(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_search_by_shown_id_and_phone_tail(api, database, tenant):
    brand = seed_brand(database, tenant)
    for q in (f"#{brand.li}", str(brand.li), f"# {brand.li}"):
        assert brand.li in [c["id"] for c in api.get("/v1/customers", params={"q": q}).json()["items"]]
    by_tail = [c["id"] for c in api.get("/v1/customers", params={"q": "8000"}).json()["items"]]
    assert by_tail == [brand.zhang]  # 13800138000 ends in 8000; 13900139000 does not
    assert api.get("/v1/customers", params={"q": "9000"}).json()["items"][0]["id"] == brand.li
    assert api.get("/v1/customers", params={"q": "1234"}).json()["items"] == []


def test_list_sorts_by_spend_and_last_purchase_with_its_columns(app, database, tenant):
    brand = seed_brand(database, tenant)  # 张三 paid ¥12.30 on 2026-11-01
    _order(database, tenant, brand.li, "MP-2001", 99_900, "2026-10-01T09:00+08:00")
    client = signed_in(app, tenant.key)
    by_spend = client.get("/console/customers?sort=spend&order=desc", headers=HTMX).text
    assert by_spend.index("李四") < by_spend.index("张三") < by_spend.index("王五")  # no spend: last
    assert "¥999.00" in by_spend and "¥12.30" in by_spend and 'data-total="3"' in by_spend
    ascending = client.get("/console/customers?sort=spend&order=asc", headers=HTMX).text
    assert ascending.index("张三") < ascending.index("李四") < ascending.index("王五")
    by_last = client.get("/console/customers?sort=last_purchase", headers=HTMX).text
    assert by_last.index("张三") < by_last.index("李四")
    assert "2026-10-01 09:00" in by_last  # the workspace's zone
    by_name = client.get("/console/customers?sort=name&order=asc", headers=HTMX).text
    assert 'aria-sort="ascending"' in by_name
    found = client.get(f"/console/customers?q=%23{brand.zhang}", headers=HTMX).text
    assert 'data-total="1"' in found and "张三" in found
    assert client.get("/console/customers?sort=nonsense").status_code == 200


def test_bulk_tagging_from_the_list(app, database, tenant):
    brand = seed_brand(database, tenant)
    client = signed_in(app, tenant.key)
    ticked = client.post("/console/customers/tags", data={"tag_id": brand.tea, "customer_ids": [brand.li],
                                                           "scope": "selected"})
    assert ticked.status_code == 200 and "其中 1 位为新打上" in ticked.text
    everyone = client.post("/console/customers/tags", data={"tag_id": brand.tea, "scope": "matching", "q": "王"})
    assert "共选择 1 位客户" in everyone.text
    tagged = client.get(f"/console/customers?tag={brand.tea}", headers=HTMX).text
    assert 'data-total="3"' in tagged
    off = client.post("/console/customers/tags", data={"tag_id": brand.tea, "action": "remove", "scope": "matching",
                                                        "tag": brand.tea})
    assert "其中 3 位被移除" in off.text
    nothing = client.post("/console/customers/tags", data={"tag_id": "", "scope": "selected"})
    assert nothing.status_code == 422 and "请选择标签" in nothing.text and "请勾选要打标签的客户" in nothing.text
    analyst = signed_in(app, brand.analyst_key)
    assert 'id="bulk-tagging"' not in analyst.get("/console/customers").text


def test_export_is_one_flow_masked_by_role(app, client, database, tenant):
    brand = seed_brand(database, tenant)
    owner = client.get("/v1/customers/export.csv", headers=tenant.headers, params={"sort": "name", "order": "asc"})
    assert owner.status_code == 200 and owner.headers["content-type"].startswith("text/csv")
    rows = _csv(owner.text)
    assert [r["name"] for r in rows] == sorted(["张三", "李四", "王五"])
    zhang = next(r for r in rows if r["id"] == str(brand.zhang))
    assert zhang["phone"] == "+8613800138000" and zhang["spend_yuan"] == "12.30"
    assert zhang["last_purchase"] == "2026-11-01 10:00" and zhang["tags"] == "绿茶"
    masked = _csv(client.get("/v1/customers/export.csv", headers=bearer(brand.analyst_key)).text)
    zhang = next(r for r in masked if r["id"] == str(brand.zhang))
    assert zhang["name"] != "张三" and "****" in zhang["phone"] and "13800138000" not in zhang["phone"]
    assert client.get("/v1/customers/export.csv", headers=bearer(brand.guide_key)).status_code == 403
    bad = client.get("/v1/customers/export.csv", headers=tenant.headers, params={"sort": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "sort"
    console = signed_in(app, tenant.key).get(f"/console/customers/export.csv?tag={brand.tea}")
    assert [r["name"] for r in _csv(console.text)] == ["张三"]
    analyst_console = _csv(signed_in(app, brand.analyst_key).get("/console/customers/export.csv").text)
    assert "13800138000" not in str(analyst_console)
    assert signed_in(app, brand.guide_key).get("/console/customers/export.csv").status_code == 403


def test_api_list_pages_sorted_with_the_consoles_columns(client, database, tenant):
    brand = seed_brand(database, tenant)
    _order(database, tenant, brand.li, "MP-2001", 99_900, "2026-10-01T09:00+08:00")
    found = client.get("/v1/customers/list", headers=tenant.headers,
                       params={"sort": "spend", "per_page": 2}).json()
    assert (found["total"], found["pages"], found["page"]) == (3, 2, 1)
    assert [(r["customer"]["name"], r["spend_fen"]) for r in found["items"]] == [("李四", 99_900), ("张三", 1_230)]
    zhang = found["items"][1]
    assert zhang["tags"] == ["绿茶"] and zhang["first_channel"] == "小程序商城"
    assert zhang["last_paid_at"].startswith("2026-11-01T02:00")
    last = client.get("/v1/customers/list", headers=tenant.headers,
                      params={"sort": "spend", "per_page": 2, "page": 9}).json()
    assert last["page"] == 2 and [r["customer"]["name"] for r in last["items"]] == ["王五"]
    by_tail = client.get("/v1/customers/list", headers=tenant.headers, params={"q": "9000"}).json()
    assert [r["customer"]["id"] for r in by_tail["items"]] == [brand.li]
    guide = client.get("/v1/customers/list", headers=bearer(brand.guide_key)).json()
    assert [r["customer"]["id"] for r in guide["items"]] == [brand.li]  # a guide's own customers, masked
    assert guide["items"][0]["customer"]["name"] != "李四"
    bad = client.get("/v1/customers/list", headers=tenant.headers, params={"sort": "x"})
    assert bad.status_code == 422
