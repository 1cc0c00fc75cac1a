"""Order imports: marketplace JSON mapping (no database), CSV parsing, and the import endpoint end to end."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from yutang.customers.models import Customer, CustomerIdentity
from yutang.kit.errors import Invalid
from yutang.orders import marketplaces
from yutang.orders.importing import orders_from_csv, orders_from_json
from yutang.orders.models import Order, OrderLine
from yutang.orders.schemas import OrderStatus
from yutang.storage.outbox import OutboxRow
from yutang.workspaces.models import AuditEntry

DATA = Path(__file__).parent / "data"
ZONE = "Asia/Shanghai"
CHANNELS = {"tmall": ("tmall-flagship", "tmall_shop"), "jd": ("jd-pop", "jd_shop"),
            "douyin": ("douyin-shop", "douyin_shop"), "csv": ("store", "store")}
TMALL_BUYER = "AAGx3bXnAHnpxWkKq8mY6nPz"


def _document(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _trades() -> list[dict]:
    return _document("tmall_trades.json")["trades_sold_get_response"]["trades"]["trade"]


def _tmall(record: dict):
    return marketplaces.tmall_order(record, channel="tmall-flagship", timezone=ZONE)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Mapping: pure functions, no database.

def test_tmall_trade_maps_money_times_lines_and_buyer():
    order = _tmall(_trades()[0])
    assert order.external_id == "3961208823456789012"
    assert (order.status, order.source_status) == (OrderStatus.COMPLETED, "TRADE_FINISHED")
    assert (order.total_fen, order.paid_fen, order.refunded_fen) == (26800, 26800, 0)
    assert order.placed_at == _utc("2026-11-10 16:05:12")  # 00:05 in Beijing is 16:05 UTC the day before
    assert order.paid_at == _utc("2026-11-10 16:05:40")
    assert [(li.sku, li.category, li.quantity, li.unit_price_fen, li.amount_fen) for li in order.lines] == [
        ("TEA-LJ-250", "50008141", 1, 16800, 15800), ("CUP-GLASS-01", "50016348", 2, 5500, 11000)]
    assert [(i.kind.value, i.namespace, i.value) for i in order.buyer] == [
        ("marketplace_buyer", "tmall-flagship", TMALL_BUYER)]
    assert order.buyer_name == "王*"
    assert order.raw["tid"] == 3961208823456789012


def test_tmall_line_sku_falls_back_and_category_field_wins():
    trades = _trades()
    assert _tmall(trades[1]).lines[0].sku == "5012345678903"  # no outer_sku_id: the platform sku_id
    assert _tmall(trades[3]).lines[0].category == "红茶"
    del trades[1]["orders"]["order"][0]["sku_id"]
    assert _tmall(trades[1]).lines[0].sku == "712345678903"  # then the item id


@pytest.mark.parametrize(("status", "paid", "expected"), [
    ("WAIT_BUYER_PAY", False, OrderStatus.PENDING),
    ("TRADE_NO_CREATE_PAY", False, OrderStatus.CANCELLED),
    ("WAIT_SELLER_SEND_GOODS", True, OrderStatus.PAID),
    ("SELLER_CONSIGNED_PART", True, OrderStatus.SHIPPED),
    ("TRADE_BUYER_SIGNED", True, OrderStatus.SHIPPED),
    ("WAIT_BUYER_CONFIRM_GOODS", True, OrderStatus.SHIPPED),
    ("TRADE_FINISHED", True, OrderStatus.COMPLETED),
    ("TRADE_CLOSED", True, OrderStatus.REFUNDED),
    ("TRADE_CLOSED", False, OrderStatus.CANCELLED),
    ("TRADE_CLOSED_BY_TAOBAO", False, OrderStatus.CANCELLED),
])
def test_tmall_statuses(status, paid, expected):
    trade = _trades()[1]
    trade["status"] = status
    if not paid:
        del trade["pay_time"]
    order = _tmall(trade)
    assert (order.status, order.source_status) == (expected, status)
    assert order.paid_fen == (39900 if paid else 0)
    assert order.refunded_fen == (39900 if expected is OrderStatus.REFUNDED else 0)


def test_tmall_closed_after_payment_is_a_full_refund():
    order = _tmall(_trades()[2])
    assert (order.status, order.paid_fen, order.refunded_fen) == (OrderStatus.REFUNDED, 8800, 8800)
    assert order.lines[0].refunded_fen == 8800


def test_tmall_refunded_sub_order_makes_a_partial_refund():
    trade = _trades()[0]
    trade["orders"]["order"][1]["refund_status"] = "SUCCESS"
    order = _tmall(trade)
    assert (order.status, order.refunded_fen) == (OrderStatus.PARTIALLY_REFUNDED, 11000)
    assert [line.refunded_fen for line in order.lines] == [0, 11000]
    trade["orders"]["order"][0]["refund_status"] = "SUCCESS"
    assert (_tmall(trade).status, _tmall(trade).refunded_fen) == (OrderStatus.REFUNDED, 26800)
    trade["orders"]["order"][0]["refund_status"] = "WAIT_SELLER_AGREE"  # asked for, not yet refunded
    assert _tmall(trade).refunded_fen == 11000


@pytest.mark.parametrize(("change", "field"), [
    (lambda t: t.update(payment="12.345"), "payment"),
    (lambda t: t.update(status="SOMETHING_NEW"), "status"),
    (lambda t: t.pop("buyer_open_uid"), "buyer_open_uid"),
    (lambda t: t.update(created="11/11 noon"), "created"),
    (lambda t: t.pop("tid"), "tid"),
    (lambda t: t["orders"].update(order=[]), "orders.order"),
    (lambda t: t["orders"]["order"][1].pop("num"), "orders.order[1].num"),
    (lambda t: t["orders"]["order"][0].update(price="abc"), "orders.order[0].price"),
    (lambda t: t["orders"]["order"][0].update(title="长" * 301), "orders.order[0].title"),
])
def test_tmall_malformed_record_names_the_field(change, field):
    trade = _trades()[0]
    change(trade)
    with pytest.raises(Invalid) as caught:
        _tmall(trade)
    assert caught.value.errors[0].field == field


def test_jd_orders_map_statuses_and_yuan_amounts():
    rows = marketplaces.records("jd", _document("jd_orders.json"))
    first, second, cancelled = (marketplaces.jd_order(r, channel="jd-pop", timezone=ZONE) for r in rows[:3])
    assert (first.status, first.total_fen, first.paid_fen) == (OrderStatus.PAID, 39900, 37900)
    assert first.placed_at == _utc("2026-11-11 12:15:00") and first.paid_at == _utc("2026-11-11 12:15:30")
    assert first.buyer[0].value == "o_jd_7f3a9c1e5b2d4a60"
    assert second.status is OrderStatus.COMPLETED
    assert [(li.sku, li.category, li.quantity, li.amount_fen) for li in second.lines] == [
        ("TEA-JSM-100", None, 3, 14400), ("100012345681", "茶具", 1, 7200)]
    assert (cancelled.status, cancelled.paid_at, cancelled.paid_fen) == (OrderStatus.CANCELLED, None, 0)
    with pytest.raises(Invalid) as caught:
        marketplaces.jd_order(rows[3], channel="jd-pop", timezone=ZONE)
    assert caught.value.errors[0].field == "orderState"


@pytest.mark.parametrize(("state", "expected"), [
    ("WAIT_SELLER_STOCK_OUT", OrderStatus.PAID), ("LOCKED", OrderStatus.PAID),
    ("POP_ORDER_PAUSE", OrderStatus.PAID), ("WAIT_GOODS_RECEIVE_CONFIRM", OrderStatus.SHIPPED),
    ("FINISHED_L", OrderStatus.COMPLETED), ("TRADE_CANCELED", OrderStatus.CANCELLED),
])
def test_jd_statuses(state, expected):
    record = marketplaces.records("jd", _document("jd_orders.json"))[0] | {"orderState": state}
    assert marketplaces.jd_order(record, channel="jd-pop", timezone=ZONE).status is expected


def test_douyin_orders_map_unix_times_fen_and_keep_the_masked_phone_out_of_matching():
    rows = marketplaces.records("douyin", _document("douyin_orders.json"))
    shipped, pending, completed = (marketplaces.douyin_order(r, channel="douyin-shop", timezone=ZONE)
                                   for r in rows[:3])
    assert (shipped.status, shipped.source_status) == (OrderStatus.SHIPPED, "3")
    assert (shipped.total_fen, shipped.paid_fen) == (12900, 11900)
    assert shipped.placed_at == _utc("2026-11-11 04:00:00") and shipped.paid_at == _utc("2026-11-11 04:01:05")
    assert [(i.kind.value, i.value) for i in shipped.buyer] == [
        ("marketplace_buyer", "1@#dGhpcyBpcyBhIGJ1eWVyIG9wZW4gaWQ=")]
    assert shipped.raw["mask_post_tel"] == "1********34"
    assert (pending.status, pending.paid_at, pending.paid_fen) == (OrderStatus.PENDING, None, 0)
    assert pending.lines[0].sku == "1768123456789013"  # empty merchant code: the platform sku id
    assert (pending.lines[0].unit_price_fen, pending.lines[0].amount_fen) == (2900, 5800)
    assert [(li.sku, li.category, li.unit_price_fen, li.amount_fen) for li in completed.lines] == [
        ("CUP-GAIWAN", "茶具", 8400, 15800), ("TEA-DHP-100", "茶", 10000, 10000)]
    with pytest.raises(Invalid) as caught:
        marketplaces.douyin_order(rows[3], channel="douyin-shop", timezone=ZONE)
    assert caught.value.errors[0].field == "pay_amount"


@pytest.mark.parametrize(("code", "expected"), [
    (1, OrderStatus.PENDING), (105, OrderStatus.PAID), (2, OrderStatus.PAID), (101, OrderStatus.SHIPPED),
    (3, OrderStatus.SHIPPED), (4, OrderStatus.CANCELLED), (5, OrderStatus.COMPLETED),
    ("5", OrderStatus.COMPLETED),
])
def test_douyin_statuses(code, expected):
    record = marketplaces.records("douyin", _document("douyin_orders.json"))[0] | {"order_status": code}
    assert marketplaces.douyin_order(record, channel="douyin-shop", timezone=ZONE).status is expected


def test_douyin_unknown_status_is_invalid():
    record = marketplaces.records("douyin", _document("douyin_orders.json"))[0] | {"order_status": 99}
    with pytest.raises(Invalid) as caught:
        marketplaces.douyin_order(record, channel="douyin-shop", timezone=ZONE)
    assert caught.value.errors[0].field == "order_status"


def test_records_accept_a_plain_list_an_envelope_or_an_empty_page():
    trades = _trades()
    assert marketplaces.records("tmall", trades) == trades
    assert marketplaces.records("tmall", {"trades_sold_get_response": {"total_results": 0}}) == []
    detail = {"data": {"shop_order_detail": {"order_id": "1"}}}
    assert marketplaces.records("douyin", detail) == [{"order_id": "1"}]
    with pytest.raises(Invalid) as caught:
        marketplaces.records("jd", {"error_response": {"code": 19, "zh_desc": "token过期"}})
    assert caught.value.errors[0].field == "file"


def test_json_file_lines_are_record_indexes():
    data = (DATA / "tmall_trades.json").read_bytes()
    parsed = orders_from_json(data, marketplace="tmall", channel="tmall-flagship", timezone=ZONE)
    assert [p.line for p in parsed] == [1, 2, 3, 4, 5]
    assert [(p.line, p.error.errors[0].field) for p in parsed if p.error] == [(5, "payment")]
    with pytest.raises(Invalid) as caught:
        orders_from_json(b'{"trades_sold_get_response": ', marketplace="tmall", channel="t", timezone=ZONE)
    assert caught.value.errors[0].field == "file"


def test_csv_rows_group_into_orders_and_errors_name_row_and_column():
    parsed = orders_from_csv((DATA / "orders.csv").read_bytes(), channel="store", timezone=ZONE)
    good = {p.order.external_id: p.order for p in parsed if p.order}
    assert sorted(good) == ["S-1001", "S-1002", "S-1003", "S-1006"]
    assert [(p.line, p.error.errors[0].field) for p in parsed if p.error] == [(6, "quantity"), (8, "status")]
    first = good["S-1001"]
    assert (first.status, first.total_fen, len(first.lines)) == (OrderStatus.COMPLETED, 26800, 2)
    assert first.placed_at == _utc("2026-11-01 02:00:00")
    assert "phone" not in first.raw  # personal data stays in the customer's identities
    assert (good["S-1003"].refunded_fen, good["S-1003"].paid_fen) == (4400, 8800)
    assert [(i.kind.value, i.namespace) for i in good["S-1006"].buyer] == [("marketplace_buyer", "store")]


@pytest.mark.parametrize("csv", [
    "order_id,status,placed_at,sku,quantity\nA,paid,2026-11-01,X,1\n",  # no unit_price_fen column
    "order_id,status,placed_at,sku,quantity,unit_price_fen\nA,paid,2026-11-01,X,1,100\n",  # no buyer column
    "order_id,status,placed_at,sku,quantity,unit_price_fen,phone,colour\n",  # unknown column
])
def test_unreadable_csv_fails_the_whole_file(csv):
    with pytest.raises(Invalid) as caught:
        orders_from_csv(csv.encode(), channel="store", timezone=ZONE)
    assert caught.value.errors[0].field == "file"


def test_csv_refund_beyond_the_line_or_the_payment_is_reported():
    head = "order_id,status,placed_at,phone,sku,quantity,unit_price_fen,refunded_fen\n"
    rows = ("A,paid,2026-11-01 10:00,13800138000,X,1,100,200\n"
            "B,pending,2026-11-01 10:00,13800138000,X,1,100,50\n")
    parsed = orders_from_csv((head + rows).encode(), channel="store", timezone=ZONE)
    assert [(p.line, p.error.errors[0].field) for p in parsed] == [(2, "refunded_fen"), (3, "refunded_fen")]


# End to end through the API.

def _channel(api, fmt: str) -> str:
    code, kind = CHANNELS[fmt]
    response = api.post("/v1/channels", json={"code": code, "name": code, "kind": kind})
    assert response.status_code == 201, response.text
    return code


def _import(api, fmt: str, data: bytes, *, channel: str | None = None, status: int = 200) -> dict:
    code = channel or CHANNELS[fmt][0]
    response = api.post("/v1/orders/import", params={"format": fmt, "channel": code},
                        files={"file": (f"orders.{'csv' if fmt == 'csv' else 'json'}", data)})
    assert response.status_code == status, response.text
    return response.json()


def _sample(fmt: str) -> bytes:
    name = {"tmall": "tmall_trades.json", "jd": "jd_orders.json", "douyin": "douyin_orders.json",
            "csv": "orders.csv"}[fmt]
    return (DATA / name).read_bytes()


def _counts(database, workspace_id: int) -> dict[str, int]:
    with database.unit_of_work() as session:
        return {model.__tablename__: session.scalar(
            select(func.count()).select_from(model).where(model.workspace_id == workspace_id))
            for model in (Order, OrderLine, Customer, CustomerIdentity, AuditEntry, OutboxRow)}


def _orders(api) -> dict[str, dict]:
    items = api.get("/v1/orders", params={"limit": 500}).json()["items"]
    return {item["external_id"]: item for item in items}


def _report(report: dict) -> tuple:
    return (report["created"], report["updated"], report["unchanged"], report["customers_created"],
            [(e["line"], e["field"]) for e in report["errors"]])


@pytest.mark.parametrize(("fmt", "expected"), [
    ("tmall", (4, 0, 0, 3, [(5, "payment")])),
    ("jd", (3, 0, 0, 2, [(4, "orderState")])),
    ("douyin", (3, 0, 0, 2, [(4, "pay_amount")])),
    ("csv", (4, 0, 0, 4, [(6, "quantity"), (8, "status")])),
])
def test_import_each_format_reports_bad_records_and_imports_the_rest(api, database, tenant, fmt, expected):
    _channel(api, fmt)
    report = _import(api, fmt, _sample(fmt))
    assert _report(report) == expected
    assert _counts(database, tenant.id)["orders"] == expected[0]
    assert all(error["message"] for error in report["errors"])


def test_tmall_import_matches_buyers_by_open_id(api):
    _channel(api, "tmall")
    _import(api, "tmall", _sample("tmall"))
    orders = _orders(api)
    finished, closed = orders["3961208823456789012"], orders["3961208823456789030"]
    assert finished["customer_id"] == closed["customer_id"]  # one buyer, two trades, one customer
    assert (finished["status"], finished["total_fen"], finished["source_status"]) == ("completed", 26800,
                                                                                      "TRADE_FINISHED")
    assert finished["placed_at"].startswith("2026-11-10T16:05:12")
    assert (closed["status"], closed["refunded_fen"]) == ("refunded", 8800)
    found = api.get("/v1/customers", params={"identity": f"marketplace_buyer:tmall-flagship:{TMALL_BUYER}"})
    assert [c["id"] for c in found.json()["items"]] == [finished["customer_id"]]

    later = [copy.deepcopy(_trades()[0]) | {"tid": 3961208823456789099, "created": "2026-12-12 12:12:12",
                                            "pay_time": "2026-12-12 12:13:00"}]
    report = _import(api, "tmall", json.dumps(later).encode())
    assert _report(report) == (1, 0, 0, 0, [])
    assert _orders(api)["3961208823456789099"]["customer_id"] == finished["customer_id"]


def test_same_open_id_on_another_shop_is_another_customer(api):
    _channel(api, "tmall")
    _import(api, "tmall", _sample("tmall"))
    outlet = api.post("/v1/channels", json={"code": "tmall-outlet", "name": "奥莱店", "kind": "tmall_shop"})
    assert outlet.status_code == 201, outlet.text
    report = _import(api, "tmall", json.dumps(_trades()[:1]).encode(), channel="tmall-outlet")
    assert report["customers_created"] == 1  # open ids are per shop: the namespace is the channel


def test_reimport_changes_nothing(api, database, tenant):
    for fmt in CHANNELS:
        _channel(api, fmt)
        _import(api, fmt, _sample(fmt))
    before = _counts(database, tenant.id)
    for fmt, unchanged in (("tmall", 4), ("jd", 3), ("douyin", 3), ("csv", 4)):
        report = _import(api, fmt, _sample(fmt))
        assert (report["created"], report["updated"], report["unchanged"], report["customers_created"]) == (
            0, 0, unchanged, 0)
        assert len(report["errors"]) in (1, 2)
    assert _counts(database, tenant.id) == before


def test_partial_refund_in_a_later_export_updates_the_order(api, database, tenant):
    _channel(api, "tmall")
    _import(api, "tmall", _sample("tmall"))
    document = _document("tmall_trades.json")
    trade = document["trades_sold_get_response"]["trades"]["trade"][0]
    trade["orders"]["order"][1]["refund_status"] = "SUCCESS"
    trade["modified"] = "2026-11-20 09:00:00"
    before = _counts(database, tenant.id)
    report = _import(api, "tmall", json.dumps(document, ensure_ascii=False).encode())
    assert _report(report) == (0, 1, 3, 0, [(5, "payment")])
    order = _orders(api)["3961208823456789012"]
    assert (order["status"], order["paid_fen"], order["refunded_fen"]) == ("partially_refunded", 26800, 11000)
    assert [line["refunded_fen"] for line in order["lines"]] == [0, 11000]
    after = _counts(database, tenant.id)
    assert (after["orders"], after["order_lines"], after["audit_log"]) == (
        before["orders"], before["order_lines"], before["audit_log"] + 1)
    with database.unit_of_work() as session:
        topics = session.scalars(select(OutboxRow.topic).where(OutboxRow.workspace_id == tenant.id,
                                                               OutboxRow.entity_id == order["id"]))
        assert "order.refunded" in list(topics)


def test_douyin_and_jd_buyers_are_matched_across_files(api):
    _channel(api, "douyin")
    _channel(api, "jd")
    _import(api, "douyin", _sample("douyin"))
    _import(api, "jd", _sample("jd"))
    orders = _orders(api)
    assert orders["6931234567890123456"]["customer_id"] == orders["6931234567890123470"]["customer_id"]
    assert orders["298765432101"]["customer_id"] == orders["298765432103"]["customer_id"]
    assert orders["298765432101"]["customer_id"] != orders["6931234567890123456"]["customer_id"]


def test_unknown_channel_is_a_problem_naming_the_channel(api, database, tenant):
    response = api.post("/v1/orders/import", params={"format": "tmall", "channel": "nope"},
                        files={"file": ("t.json", _sample("tmall"))})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "channel"
    assert _counts(database, tenant.id)["orders"] == 0


def test_marketplace_file_needs_a_channel_of_its_kind(api, database, tenant):
    _channel(api, "jd")
    problem = _import(api, "tmall", _sample("tmall"), channel="jd-pop", status=422)
    assert problem["field"] == "channel"
    assert _counts(database, tenant.id)["orders"] == 0


def test_unparseable_file_writes_nothing(api, database, tenant):
    _channel(api, "douyin")
    _channel(api, "csv")
    before = _counts(database, tenant.id)
    assert _import(api, "douyin", b'{"data": {"shop_order_list": [', status=422)["field"] == "file"
    assert _import(api, "csv", b"order_id,status,sku\nA,paid,X\n", status=422)["field"] == "file"
    assert _import(api, "douyin", _sample("tmall"), status=422)["field"] == "file"  # a Taobao response
    assert _counts(database, tenant.id) == before


def test_unknown_format_is_rejected(api):
    _channel(api, "csv")
    response = api.post("/v1/orders/import", params={"format": "xlsx", "channel": "store"},
                        files={"file": ("o.xlsx", b"")})
    assert response.status_code == 422
    assert "format" in response.json()["field"]


def test_csv_buyer_by_customer_id_and_bad_buyers_reported_by_column(api):
    _channel(api, "csv")
    customer = api.post("/v1/customers", json={"identities": [{"kind": "email", "value": "a@example.com"}]})
    customer_id = customer.json()["customer"]["id"]
    data = ("order_id,status,placed_at,customer_id,phone,sku,quantity,unit_price_fen\n"
            f"K-1,paid,2026-11-01 10:00,{customer_id},,X,1,100\n"
            "K-2,paid,2026-11-01 10:00,999999999,,X,1,100\n"
            "K-3,paid,2026-11-01 10:00,,12345,X,1,100\n")
    report = _import(api, "csv", data.encode())
    assert _report(report) == (1, 0, 0, 0, [(3, "customer_id"), (4, "phone")])
    assert _orders(api)["K-1"]["customer_id"] == customer_id


CSV_HEAD = "order_id,status,placed_at,phone,sku,product_name,quantity,unit_price_fen,amount_fen\n"


def test_a_broken_csv_row_fails_only_its_order_at_its_own_line(api, database, tenant):
    # Given a file with an unterminated quote, a row with an extra cell and an amount beyond 64 bits
    _channel(api, "csv")
    rows = ("Q-1,paid,2026-11-01 10:00,13800138001,X,\"绿茶 250g,1,100,100\n"  # quote never closed
            "Q-2,paid,2026-11-01 10:00,13800138002,X,绿茶,1,100,100\n"
            "Q-3,paid,2026-11-01 10:00,13800138003,X,绿茶,1,100,100,surplus\n"  # one cell too many
            "Q-4,paid,2026-11-01 10:00,13800138004,X,绿茶,1,100,99999999999999999999\n"  # > 2^63
            "Q-5,paid,2026-11-01 10:00,13800138005,X,红茶,2,100,200\n"
            "Q-3,paid,,,Y,白茶,1,100,100\n")  # a good row of the order whose other row is broken
    # When it is imported
    report = _import(api, "csv", (CSV_HEAD + rows).encode())
    # Then each bad record fails alone, at its line, naming its field, and the good orders import
    assert _report(report) == (2, 0, 0, 2, [(2, "product_name"), (4, "row"), (5, "amount_fen")])
    assert sorted(_orders(api)) == ["Q-2", "Q-5"]
    assert _counts(database, tenant.id)["orders"] == 2


def test_a_stale_lower_refund_in_a_file_is_reported_and_the_order_keeps_its_refund(api):
    # Given an order imported with 300 yuan refunded
    _channel(api, "csv")
    head = CSV_HEAD.replace("amount_fen", "refunded_fen")
    _import(api, "csv", (head + "R-1,refunded,2026-11-01 10:00,13800138009,X,绿茶,1,30000,30000\n").encode())
    # When an older export with 100 yuan refunded is imported again
    report = _import(api, "csv", (head + "R-1,partially_refunded,2026-11-01 10:00,13800138009,X,绿茶,1,30000,"
                                         "10000\n").encode())
    # Then the report says so and the order keeps its refund
    assert _report(report) == (0, 0, 0, 0, [(2, "refunded_fen")])
    assert "only grows" in report["errors"][0]["message"]
    order = _orders(api)["R-1"]
    assert (order["status"], order["refunded_fen"]) == ("refunded", 30000)


def test_marketplace_amounts_beyond_range_name_their_field(api):
    _channel(api, "douyin")
    document = _document("douyin_orders.json")
    document["data"]["shop_order_list"][0]["pay_amount"] = 2**64
    report = _import(api, "douyin", json.dumps(document).encode())
    assert (1, "pay_amount") in [(e["line"], e["field"]) for e in report["errors"]]
