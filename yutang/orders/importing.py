"""Import orders from CSV or a marketplace's order JSON; each order commits or fails alone.

The whole file is parsed before anything is written, so a file that cannot be read changes nothing.
Errors name a line: for CSV the line number in the file, for JSON the 1-based index of the record in its list.
Columns and formats are documented in docs/imports.md.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import ValidationError
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.customers.schemas import IdentityIn, IdentityKind
from yutang.kit.clock import parse_local
from yutang.kit.errors import DomainError, Invalid
from yutang.kit.tabular import read_records
from yutang.orders import service as orders_service
from yutang.orders.marketplaces import MARKETPLACES, records
from yutang.orders.schemas import MAX_FEN, MAX_QUANTITY, ImportErrorOut, ImportReport, OrderIn, OrderLineIn
from yutang.workspaces.access import Actor, Permission

FORMATS = ("csv", *MARKETPLACES)
ImportFormat = StrEnum("ImportFormat", {name.upper(): name for name in FORMATS})

# CSV: one row per line item; the rows of one order share its order_id.
BUYER_COLUMNS = {
    "phone": IdentityKind.PHONE,
    "email": IdentityKind.EMAIL,
    "app_user_id": IdentityKind.APP_USER_ID,
    "buyer_open_id": IdentityKind.MARKETPLACE_BUYER,
}
ORDER_COLUMNS = ("status", "placed_at", "paid_at", "customer_id", *BUYER_COLUMNS, "buyer_name", "currency")
LINE_COLUMNS = ("sku", "product_name", "category", "quantity", "unit_price_fen", "amount_fen", "refunded_fen")
REQUIRED_COLUMNS = {"order_id", "status", "placed_at", "sku", "quantity", "unit_price_fen"}
KNOWN_COLUMNS = {"order_id", *ORDER_COLUMNS, *LINE_COLUMNS}
BUYER_HINT = f"one of customer_id, {', '.join(BUYER_COLUMNS)}"


@dataclass
class Parsed:
    """One order read from a file, or why not; identity_columns name the columns of the buyer's identities."""

    line: int
    order: OrderIn | None = None
    error: DomainError | None = None
    identity_columns: list[str] = field(default_factory=list)


class _RowError(Exception):
    def __init__(self, line: int, error: Invalid):
        super().__init__(error.detail)
        self.line, self.error = line, error


def import_orders(session: Session, *, actor: Actor, data: bytes, format: str, channel: str) -> ImportReport:
    """Record every order of the file in the channel; bad records are reported with line and field."""
    actor.require(Permission.BULK)
    if format not in FORMATS:
        raise Invalid(f"unknown format {format!r}; one of {', '.join(FORMATS)}", field="format")
    target = channels_service.find_channel(session, actor=actor, code=channel, field="channel")
    if format == "csv":
        parsed = orders_from_csv(data, channel=target.code, timezone=actor.timezone)
    else:
        kind = MARKETPLACES[format].channel_kind
        if target.kind != kind:
            raise Invalid(f"{format} orders belong in a {kind.value} channel; {channel!r} is a {target.kind}",
                          field="channel")
        parsed = orders_from_json(data, marketplace=format, channel=target.code, timezone=actor.timezone)
    report = ImportReport()
    for item in parsed:
        if item.error is not None:
            report.errors.append(_reported(item, item.error))
            continue
        savepoint = session.begin_nested()
        try:
            _, outcome, customer_created = orders_service.record_order(session, actor=actor, data=item.order,
                                                                       channel=target)
            savepoint.commit()
        except DomainError as exc:
            savepoint.rollback()
            report.errors.append(_reported(item, exc))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        report.customers_created += int(customer_created)
    return report


def orders_from_json(data: bytes, *, marketplace: str, channel: str, timezone: str) -> list[Parsed]:
    """Map every record of a marketplace file; the line of each is its 1-based index in the list."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise Invalid("the file is not UTF-8 text", field="file") from exc
    except json.JSONDecodeError as exc:
        raise Invalid(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", field="file") from exc
    parsed = []
    for index, record in enumerate(records(marketplace, document), start=1):
        try:
            parsed.append(Parsed(index, MARKETPLACES[marketplace].to_order(record, channel=channel,
                                                                           timezone=timezone)))
        except Invalid as exc:
            parsed.append(Parsed(index, error=exc))
    return parsed


def orders_from_csv(data: bytes, *, channel: str, timezone: str) -> list[Parsed]:
    """Group CSV rows by order_id (first-seen order) and build each order; errors name the row and column.

    A row that cannot be read (a broken quote, more cells than columns) fails the order it belongs to, when its
    order_id can be read, else only itself."""
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    broken: dict[str, _RowError] = {}
    parsed = []
    for record in read_records(data, required=REQUIRED_COLUMNS, known=KNOWN_COLUMNS):
        order_id = (record.cells if record.error is None else record.lead).get("order_id", "")
        if record.error is None:
            groups.setdefault(order_id, []).append((record.line, record.cells))
        elif order_id:
            broken.setdefault(order_id, _RowError(record.line, record.error))
            groups.setdefault(order_id, [])
        else:
            parsed.append(Parsed(record.line, error=record.error))
    if groups and not any(column in row for rows in groups.values() for _, row in rows
                          for column in ("customer_id", *BUYER_COLUMNS)):
        raise Invalid(f"a buyer column is needed: {BUYER_HINT}", field="file")
    for order_id, rows in groups.items():
        try:
            if order_id in broken:
                raise broken[order_id]
            order, columns = _order_from_rows(order_id, rows, channel=channel, timezone=timezone)
            parsed.append(Parsed(rows[0][0], order, identity_columns=columns))
        except _RowError as exc:
            parsed.append(Parsed(exc.line, error=exc.error))
    return sorted(parsed, key=lambda item: item.line)


def _order_from_rows(order_id: str, rows: list[tuple[int, dict[str, str]]], *, channel: str,
                     timezone: str) -> tuple[OrderIn, list[str]]:
    first_line = rows[0][0]
    if not order_id:
        raise _RowError(first_line, Invalid("order_id is empty", field="order_id"))
    header: dict[str, str] = {}
    lines = []
    for line, row in rows:
        try:
            for column in ORDER_COLUMNS:
                # Later rows may leave order-level cells blank; where filled they must agree.
                if column in row and header.setdefault(column, row[column]) != row[column]:
                    raise Invalid(f"rows of order {order_id} disagree on {column}: "
                                  f"{header[column]!r} then {row[column]!r}", field=column)
            lines.append(_line_from_row(row))
        except Invalid as exc:
            raise _RowError(line, exc) from exc
    try:
        return _order(order_id, header, lines, channel=channel, timezone=timezone)
    except Invalid as exc:
        raise _RowError(first_line, exc) from exc


def _line_from_row(row: dict[str, str]) -> OrderLineIn:
    quantity = _whole(row, "quantity", minimum=1, maximum=MAX_QUANTITY)
    unit_price = _whole(row, "unit_price_fen")
    amount = _whole(row, "amount_fen") if "amount_fen" in row else quantity * unit_price
    if amount > MAX_FEN:
        raise Invalid(f"quantity × unit_price_fen exceeds {MAX_FEN} fen", field="unit_price_fen")
    refunded = _whole(row, "refunded_fen") if "refunded_fen" in row else 0
    if refunded > amount:
        raise Invalid(f"refunded_fen {refunded} exceeds the line amount {amount}", field="refunded_fen")
    for column, limit in (("sku", 128), ("product_name", 300), ("category", 128)):
        if len(row.get(column, "")) > limit:
            raise Invalid(f"{column} is longer than {limit} characters", field=column)
    try:
        return OrderLineIn(sku=row["sku"], product_name=row.get("product_name"), category=row.get("category"),
                           quantity=quantity, unit_price_fen=unit_price, amount_fen=amount,
                           refunded_fen=refunded)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise Invalid(error["msg"], field=str(error["loc"][0]) if error["loc"] else "sku") from exc


def _order(order_id: str, header: dict[str, str], lines: list[OrderLineIn], *, channel: str,
           timezone: str) -> tuple[OrderIn, list[str]]:
    if len(order_id) > 128:
        raise Invalid("order_id is longer than 128 characters", field="order_id")
    status = orders_service.require_known_status(header.get("status", ""), field="status")
    placed_at = _time(header, "placed_at", timezone=timezone)
    paid_at = _time(header, "paid_at", timezone=timezone) if "paid_at" in header else None
    customer_id = _whole(header, "customer_id", minimum=1, maximum=2**63 - 1) if "customer_id" in header else None
    columns = [column for column in BUYER_COLUMNS if column in header]
    buyer = [_identity(column, header[column], channel=channel) for column in columns]
    if customer_id is None and not buyer:
        raise Invalid(f"a buyer is needed: {BUYER_HINT}", field="customer_id")
    currency = header.get("currency", "CNY").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise Invalid(f"currency is a three-letter code, got {currency!r}", field="currency")
    # Phone and email live only in the customer's identities (keyed hash, shown masked), not in raw.
    raw = {"order_id": order_id} | {k: v for k, v in header.items() if k not in ("phone", "email")}
    fields = dict(external_id=order_id, channel=channel, status=status, placed_at=placed_at, paid_at=paid_at,
                  currency=currency, customer_id=customer_id, buyer=buyer, lines=lines, raw=raw,
                  buyer_name=header.get("buyer_name"))
    refunded = sum(line.refunded_fen for line in lines)
    try:
        paid = OrderIn(**fields).paid_fen
        if refunded > paid:
            raise Invalid(f"refunds ({refunded} fen) exceed the amount paid ({paid} fen)",
                          field="refunded_fen")
        return OrderIn(**fields, refunded_fen=refunded), columns
    except ValidationError as exc:  # the checks above cover what a file can get wrong; this is the safety net
        error = exc.errors()[0]
        raise Invalid(error["msg"], field=str(error["loc"][0]) if error["loc"] else "order_id") from exc


def _identity(column: str, value: str, *, channel: str) -> IdentityIn:
    kind = BUYER_COLUMNS[column]
    namespace = channel if kind is IdentityKind.MARKETPLACE_BUYER else ""
    try:
        return IdentityIn(kind=kind, value=value, namespace=namespace)
    except ValidationError as exc:
        raise Invalid(exc.errors()[0]["msg"], field=column) from exc


def _whole(row: dict[str, str], column: str, *, minimum: int = 0, maximum: int = MAX_FEN) -> int:
    text = row.get(column, "")
    if not text.isascii() or not text.isdecimal() or not minimum <= int(text) <= maximum:
        raise Invalid(f"{column} must be a whole number from {minimum} to {maximum}, got {text[:40]!r}",
                      field=column)
    return int(text)


def _time(row: dict[str, str], column: str, *, timezone: str) -> datetime:
    try:
        return parse_local(row.get(column, ""), assume_zone=timezone)
    except ValueError as exc:
        raise Invalid(f"not a time: {row.get(column, '')!r}", field=column) from exc


def _reported(item: Parsed, error: DomainError) -> ImportErrorOut:
    first = error.errors[0] if error.errors else None
    field_name = first.field if first else "record"
    # The customer service speaks of identities[i]; the person fixing the file thinks in columns.
    if field_name.startswith("identities[") and item.identity_columns:
        index = int(field_name[len("identities["):].split("]")[0])
        field_name = item.identity_columns[index] if index < len(item.identity_columns) else field_name
    return ImportErrorOut(line=item.line, field=field_name, message=first.message if first else error.detail)
