"""Marketplace order JSON (Tmall/Taobao, JD, Douyin) mapped to OrderIn; pure, no database.

A marketplace is one entry in MARKETPLACES: its channel kind, where the order list sits in the API response,
and a mapper reading one record. Every malformed record raises Invalid naming the JSON field at fault
(nested fields as a path, e.g. `orders.order[1].price`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from yutang.channels.schemas import ChannelKind
from yutang.customers.schemas import IdentityIn, IdentityKind
from yutang.kit.clock import parse_local
from yutang.kit.errors import Invalid
from yutang.kit.money import yuan_to_fen
from yutang.orders.paid import PAID_STATUSES
from yutang.orders.schemas import MAX_FEN, OrderIn, OrderLineIn, OrderStatus


class Record:
    """One JSON object read field by field; every error names the field (with its path) at fault."""

    def __init__(self, data: Any, *, path: str = "") -> None:
        if not isinstance(data, dict):
            raise Invalid("expected a JSON object", field=path or "record")
        self.data = data
        self.path = path

    def where(self, name: str) -> str:
        """The field's path as error reports name it."""
        return f"{self.path}.{name}" if self.path else name

    def value(self, name: str, *, required: bool = True) -> Any:
        """The raw value; null and empty text count as absent."""
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise Invalid(f"{name} is missing", field=self.where(name))
            return None
        return value

    def text(self, name: str, *, required: bool = True, max_length: int | None = None) -> str | None:
        """A string or number as text (marketplaces send ids either way)."""
        value = self.value(name, required=required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise Invalid(f"{name} must be text, got {value!r}", field=self.where(name))
        text = str(value).strip()
        if max_length is not None and len(text) > max_length:
            raise Invalid(f"{name} is longer than {max_length} characters", field=self.where(name))
        return text

    def yuan(self, name: str, *, required: bool = True) -> int | None:
        """A yuan amount ('12.30') as fen."""
        value = self.value(name, required=required)
        if value is None:
            return None
        try:
            fen = yuan_to_fen(value)
        except (ValueError, OverflowError) as exc:  # 'Infinity' overflows
            raise Invalid(f"{name} is not a yuan amount: {value!r}", field=self.where(name)) from exc
        if not 0 <= fen <= MAX_FEN:
            raise Invalid(f"{name} is out of range: {value!r}", field=self.where(name))
        return fen

    def integer(self, name: str, *, required: bool = True, minimum: int = 0) -> int | None:
        """A whole number (fen amounts, quantities), as JSON number or digit text."""
        value = self.value(name, required=required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdecimal():
            raise Invalid(f"{name} must be a whole number, got {value!r}", field=self.where(name))
        number = int(value)
        if not minimum <= number <= MAX_FEN:
            raise Invalid(f"{name} must be from {minimum} to {MAX_FEN}, got {str(value)[:40]}",
                          field=self.where(name))
        return number

    def local_time(self, name: str, *, zone: str, required: bool = True) -> datetime | None:
        """'YYYY-MM-DD HH:MM:SS' wall time in zone, as UTC."""
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return parse_local(value, assume_zone=zone)
        except (ValueError, OverflowError) as exc:
            raise Invalid(f"{name} is not a time: {value!r}", field=self.where(name)) from exc

    def unix_time(self, name: str, *, required: bool = True) -> datetime | None:
        """Unix seconds as UTC; an optional 0 is absent (Douyin sends pay_time 0 until the buyer pays)."""
        seconds = self.integer(name, required=required)
        if seconds is None or (seconds == 0 and not required):
            return None
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise Invalid(f"{name} is not a unix time: {seconds!r}", field=self.where(name)) from exc

    def code(self, name: str, table: dict[Any, OrderStatus]) -> tuple[OrderStatus, str]:
        """Look a status code up in table; returns our status and the source code as text."""
        raw = self.value(name)
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise Invalid(f"unknown {name} {raw!r}", field=self.where(name))
        # Numeric codes (Douyin) may arrive as text.
        key = int(raw) if raw not in table and str(raw).strip().isdecimal() else raw
        if key not in table:
            raise Invalid(f"unknown {name} {raw!r}", field=self.where(name))
        return table[key], str(raw)

    def children(self, *keys: str) -> list["Record"]:
        """The non-empty list of objects under keys (e.g. 'orders', 'order')."""
        value: Any = self.data
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        path = self.where(".".join(keys))
        if not isinstance(value, list) or not value:
            raise Invalid(f"{'.'.join(keys)} must be a non-empty list of line items", field=path)
        return [Record(item, path=f"{path}[{index}]") for index, item in enumerate(value)]


@dataclass(frozen=True)
class Line:
    """A line item as read from a marketplace record, amounts in fen."""

    sku: str
    product_name: str | None
    category: str | None
    quantity: int
    unit_price_fen: int
    amount_fen: int
    refunded_fen: int = 0


def settle(status: OrderStatus, *, paid_fen: int, refunded_fen: int) -> tuple[OrderStatus, int]:
    """Status and order refund once line refunds count: all the money back is refunded, some is partial."""
    if status is OrderStatus.REFUNDED:
        return status, paid_fen
    if refunded_fen and status in PAID_STATUSES:
        whole = refunded_fen >= paid_fen
        return (OrderStatus.REFUNDED if whole else OrderStatus.PARTIALLY_REFUNDED), refunded_fen
    return status, refunded_fen


def assemble(record: Record, *, channel: str, external_id: str, status: OrderStatus, source_status: str,
             placed_at: datetime, paid_at: datetime | None, total_fen: int, paid_fen: int, paid_field: str,
             buyer_open_id: str, lines: list[Line], buyer_name: str | None = None) -> OrderIn:
    """The OrderIn every marketplace ends in; paid_field names the amount a refund may not exceed."""
    if status not in PAID_STATUSES and paid_at is None:
        paid_fen = 0
    line_refunds = sum(line.refunded_fen for line in lines)
    status, refunded = settle(status, paid_fen=paid_fen, refunded_fen=line_refunds)
    if refunded > paid_fen:
        raise Invalid(f"refunds ({refunded} fen) exceed the amount paid ({paid_fen} fen)",
                      field=record.where(paid_field))
    try:
        return OrderIn(
            external_id=external_id, channel=channel, status=status, source_status=source_status,
            placed_at=placed_at, paid_at=paid_at, total_fen=total_fen, paid_fen=paid_fen,
            refunded_fen=refunded,
            buyer=[IdentityIn(kind=IdentityKind.MARKETPLACE_BUYER, value=buyer_open_id, namespace=channel)],
            buyer_name=buyer_name, raw=record.data, lines=[OrderLineIn(**vars(line)) for line in lines])
    except ValidationError as exc:  # the readers check what a file can get wrong; this is the safety net
        error = exc.errors()[0]
        raise Invalid(error["msg"], field=".".join(map(str, error["loc"])) or "record") from exc


# Tmall / Taobao: taobao.trades.sold.get, a trade with its sub-orders in orders.order[].
TMALL_STATUS = {
    "WAIT_BUYER_PAY": OrderStatus.PENDING,
    "PAY_PENDING": OrderStatus.PENDING,
    "WAIT_PRE_AUTH_CONFIRM": OrderStatus.PENDING,
    "TRADE_NO_CREATE_PAY": OrderStatus.CANCELLED,
    "WAIT_SELLER_SEND_GOODS": OrderStatus.PAID,
    "PAID_FORBID_CONSIGN": OrderStatus.PAID,
    "SELLER_CONSIGNED_PART": OrderStatus.SHIPPED,
    "WAIT_BUYER_CONFIRM_GOODS": OrderStatus.SHIPPED,
    "TRADE_BUYER_SIGNED": OrderStatus.SHIPPED,  # cash on delivery: signed for, so paid and delivered
    "TRADE_FINISHED": OrderStatus.COMPLETED,
    "TRADE_CLOSED": OrderStatus.CANCELLED,  # refunded instead when it had been paid, see tmall_order
    "TRADE_CLOSED_BY_TAOBAO": OrderStatus.CANCELLED,
}


def tmall_order(data: Any, *, channel: str, timezone: str) -> OrderIn:
    """One Taobao/Tmall trade; a sub-order whose refund_status is SUCCESS counts as refunded."""
    record = Record(data)
    external_id = record.text("tid", max_length=128)
    status, source_status = record.code("status", TMALL_STATUS)
    paid_at = record.local_time("pay_time", zone=timezone, required=False)
    if source_status == "TRADE_CLOSED" and paid_at is not None:
        status = OrderStatus.REFUNDED
    lines = []
    for item in record.children("orders", "order"):
        quantity = item.integer("num", minimum=1)
        price = item.yuan("price")
        amount = item.yuan("payment", required=False)
        amount = price * quantity if amount is None else amount
        lines.append(Line(
            sku=item.text("outer_sku_id", required=False, max_length=128)
            or item.text("sku_id", required=False, max_length=128) or item.text("num_iid", max_length=128),
            product_name=item.text("title", required=False, max_length=300),
            category=item.text("category", required=False, max_length=128)
            or item.text("cid", required=False, max_length=128),
            quantity=quantity, unit_price_fen=price, amount_fen=amount,
            refunded_fen=amount if item.text("refund_status", required=False) == "SUCCESS" else 0))
    payment = record.yuan("payment")
    return assemble(record, channel=channel, external_id=external_id, status=status,
                    source_status=source_status, placed_at=record.local_time("created", zone=timezone),
                    paid_at=paid_at, total_fen=payment, paid_fen=payment, paid_field="payment",
                    buyer_open_id=record.text("buyer_open_uid", max_length=320),
                    buyer_name=record.text("receiver_name", required=False), lines=lines)


# JD: jingdong.pop.order.search, orderInfoList[] each with itemInfoList[].
JD_STATUS = {
    "WAIT_SELLER_STOCK_OUT": OrderStatus.PAID,
    "LOCKED": OrderStatus.PAID,
    "POP_ORDER_PAUSE": OrderStatus.PAID,
    "WAIT_GOODS_RECEIVE_CONFIRM": OrderStatus.SHIPPED,
    "FINISHED_L": OrderStatus.COMPLETED,
    "TRADE_CANCELED": OrderStatus.CANCELLED,
}


def jd_order(data: Any, *, channel: str, timezone: str) -> OrderIn:
    """One JD POP order; a line's amount is jdPrice × itemTotal (the search gives no per-line discount)."""
    record = Record(data)
    external_id = record.text("orderId", max_length=128)
    status, source_status = record.code("orderState", JD_STATUS)
    lines = []
    for item in record.children("itemInfoList"):
        quantity = item.integer("itemTotal", minimum=1)
        price = item.yuan("jdPrice")
        lines.append(Line(
            sku=item.text("outerSkuId", required=False, max_length=128) or item.text("skuId", max_length=128),
            product_name=item.text("skuName", required=False, max_length=300),
            category=item.text("category", required=False, max_length=128),
            quantity=quantity, unit_price_fen=price, amount_fen=price * quantity))
    return assemble(record, channel=channel, external_id=external_id, status=status,
                    source_status=source_status, placed_at=record.local_time("orderStartTime", zone=timezone),
                    paid_at=record.local_time("paymentConfirmTime", zone=timezone, required=False),
                    total_fen=record.yuan("orderTotalPrice"), paid_fen=record.yuan("orderPayment"),
                    paid_field="orderPayment", buyer_open_id=record.text("open_id_buyer", max_length=320),
                    lines=lines)


# Douyin (抖店): order.searchList / order.orderDetail shop orders with sku_order_list[]; amounts are fen.
DOUYIN_STATUS = {
    1: OrderStatus.PENDING,  # 待确认/待支付
    105: OrderStatus.PAID,  # 已支付
    2: OrderStatus.PAID,  # 备货中
    101: OrderStatus.SHIPPED,  # 部分发货
    3: OrderStatus.SHIPPED,  # 已发货
    4: OrderStatus.CANCELLED,  # 已取消
    5: OrderStatus.COMPLETED,  # 已完成
}


def douyin_order(data: Any, *, channel: str, timezone: str) -> OrderIn:
    """One Douyin shop order; mask_post_tel stays in raw only and is never used to match the buyer."""
    record = Record(data)
    external_id = record.text("order_id", max_length=128)
    status, source_status = record.code("order_status", DOUYIN_STATUS)
    lines = []
    for item in record.children("sku_order_list"):
        quantity = item.integer("item_num", minimum=1)
        lines.append(Line(
            sku=item.text("code", required=False, max_length=128) or item.text("sku_id", max_length=128),
            product_name=item.text("product_name", required=False, max_length=300),
            category=item.text("category", required=False, max_length=128)
            or item.text("first_cname", required=False, max_length=128),
            # origin_amount is the line total before discounts; the unit price is its share per item.
            quantity=quantity, unit_price_fen=item.integer("origin_amount") // quantity,
            amount_fen=item.integer("pay_amount")))
    paid = record.integer("pay_amount")
    total = record.integer("order_amount", required=False)
    return assemble(record, channel=channel, external_id=external_id, status=status,
                    source_status=source_status, placed_at=record.unix_time("create_time"),
                    paid_at=record.unix_time("pay_time", required=False),
                    total_fen=paid if total is None else total, paid_fen=paid, paid_field="pay_amount",
                    buyer_open_id=record.text("doudian_open_id", max_length=320), lines=lines)


@dataclass(frozen=True)
class Marketplace:
    """How to read one marketplace's order export: channel kind, where the list sits, the record mapper."""

    channel_kind: ChannelKind
    envelopes: tuple[tuple[str, ...], ...]  # key paths from the API response to its order list (or one order)
    to_order: Callable[..., OrderIn]


MARKETPLACES: dict[str, Marketplace] = {
    "tmall": Marketplace(
        ChannelKind.TMALL_SHOP, (("trades_sold_get_response", "trades", "trade"),), tmall_order),
    "jd": Marketplace(
        ChannelKind.JD_SHOP,
        (("jingdong_pop_order_search_responce", "searchorderinfo_result", "orderInfoList"),), jd_order),
    "douyin": Marketplace(
        ChannelKind.DOUYIN_SHOP, (("data", "shop_order_list"), ("data", "shop_order_detail")), douyin_order),
}


def records(marketplace: str, document: Any) -> list[Any]:
    """The order records of a parsed file: a plain list, or the list inside the API response envelope."""
    if isinstance(document, list):
        return document
    recognised = False
    for path in MARKETPLACES[marketplace].envelopes if isinstance(document, dict) else ():
        value: Any = document
        for depth, key in enumerate(path):
            if isinstance(value, list):  # simplified responses drop the wrapper object around the list
                break
            if not isinstance(value, dict) or key not in value:
                recognised = recognised or (depth > 0 and isinstance(value, dict))
                value = None
                break
            value = value[key]
        if isinstance(value, list):
            return value
        if isinstance(value, dict):  # a detail response carries one order
            return [value]
    if recognised:
        return []  # marketplaces leave the list out of a response page with no orders
    raise Invalid(f"not a {marketplace} order list or API response", field="file")
