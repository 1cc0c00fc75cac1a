"""The customer timeline: what the customer did (warehouse events), bought (warehouse orders) and how they were
touched (the OLTP audit log), merged newest first and keyset-paged with one opaque cursor across the three.

Order: by time, newest first; at the same instant changes come before orders before events; within a kind by its
own key, newest first (events: message id; orders and changes: id). A cursor is the (at, kind, ref) of the last
entry shown, and each source resumes strictly after it, so paging never skips or repeats an entry however the
sources interleave. Events and orders are read from the warehouse: the caller catches the pipeline up first when it
must see its own writes (the API and the console do).
"""

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from phonenumbers import NumberParseException
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.events.schemas import TimelineEntry, TimelinePage
from yutang.kit.errors import Invalid
from yutang.kit.pii import mask_email, mask_name, mask_phone
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

KINDS = ("event", "order", "change")
# At one instant the higher rank comes first (the page is newest first).
RANK = {kind: rank for rank, kind in enumerate(KINDS)}
MAX_LIMIT = 500
# Traits and profile fields that identify a person: masked for roles that may not see personal data.
HIDDEN = {"birthday", "address"}


def _mask_phone(text: str) -> str:
    try:
        return mask_phone(text)
    except NumberParseException:  # not a number at all: hide all but its first character
        return mask_name(text)


MASKED = {"phone": _mask_phone, "email": mask_email, "name": mask_name, "firstName": mask_name,
          "lastName": mask_name, "first_name": mask_name, "last_name": mask_name}


class Warehouse(Protocol):
    """The read side of a warehouse backend (yutang.warehouse.backends)."""

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        """Rows of one statement with %(name)s parameters."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last entry's time, kind and ref."""

    at: datetime
    kind: str
    ref: str

    @property
    def key(self) -> int:
        """The ref as the integer id it is for orders and changes."""
        return int(self.ref)


def encode_cursor(cursor: Cursor) -> str:
    """An opaque cursor resuming after the entry."""
    text = json.dumps({"at": cursor.at.astimezone(UTC).isoformat(), "kind": cursor.kind, "ref": cursor.ref})
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> Cursor | None:
    """The position a cursor resumes after, or None for the first page; a bad cursor names the field."""
    if not text:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode()))
        cursor = Cursor(at=datetime.fromisoformat(data["at"]), kind=data["kind"], ref=data["ref"])
        if cursor.at.tzinfo is None or cursor.kind not in KINDS or not isinstance(cursor.ref, str):
            raise ValueError
        if cursor.kind != "event" and not (cursor.ref.isascii() and cursor.ref.isdigit()):
            raise ValueError  # orders and changes resume after an integer id
        return cursor
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Invalid("cursor is not one this API issued", field="cursor") from exc


def parse_kinds(values: set[str] | list[str] | None) -> set[str]:
    """The kinds asked for (all when none are); an unknown kind names the field."""
    if not values:
        return set(KINDS)
    unknown = sorted(set(values) - set(KINDS))
    if unknown:
        raise Invalid(f"unknown kind {unknown[0]!r}: use event, order or change", field="kind")
    return set(values)


def timeline(session: Session, *, actor: Actor, warehouse: Warehouse, customer_id: int,
             kinds: set[str] | None = None, event: str | None = None, before: Cursor | None = None,
             limit: int = 50) -> TimelinePage:
    """One page of a customer's timeline, newest first; `event` keeps only events of that name."""
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    wanted = parse_kinds(kinds)
    if event is not None:
        if kinds and "event" not in wanted:
            raise Invalid("the event filter selects events: ask for kind=event too", field="event")
        wanted = {"event"}
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    see_pii = actor.can(Permission.SEE_PII)
    entries: list[TimelineEntry] = []
    # Each source gives its own newest limit+1 after the cursor; the merged newest limit+1 are among them.
    if "event" in wanted:
        entries += _events(warehouse, actor.workspace_id, customer.id, event, before, limit + 1, see_pii=see_pii)
    if "order" in wanted:
        entries += _orders(warehouse, actor.workspace_id, customer.id, before, limit + 1)
    if "change" in wanted:
        entries += _changes(session, actor, customer.id, before, limit + 1, see_pii=see_pii)
    # Stable: entries of one kind at one instant keep their source's order (the warehouse compares strings).
    entries.sort(key=lambda entry: (entry.at, RANK[entry.kind]), reverse=True)
    if len(entries) <= limit:
        return TimelinePage(items=entries)
    last = entries[limit - 1]
    return TimelinePage(items=entries[:limit], next_cursor=encode_cursor(Cursor(at=last.at, kind=last.kind,
                                                                                 ref=last.ref)))


def _after(kind: str, before: Cursor | None, *, at: str, ref: str, params: dict) -> str:
    """SQL narrowing one source to the entries after the cursor (strictly), in the page's order."""
    if before is None:
        return ""
    params["at"] = before.at
    if before.kind == kind:
        params["ref"] = before.ref if kind == "event" else before.key
        return f" AND ({at} < %(at)s OR ({at} = %(at)s AND {ref} < %(ref)s))"
    # Another kind at the same instant: ours comes after it when ranked lower.
    return f" AND {at} <= %(at)s" if RANK[kind] < RANK[before.kind] else f" AND {at} < %(at)s"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _json(value: Any) -> dict:
    if value is None:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {"value": value}


def _masked(values: dict) -> dict:
    """Personal values masked (phone, email, names) or left out (birthday, address)."""
    shown = {}
    for key, value in values.items():
        if key in HIDDEN and value:
            continue
        mask = MASKED.get(key)
        shown[key] = mask(str(value)) if mask and isinstance(value, str | int) and str(value) else value
    return shown


def _events(warehouse: Warehouse, workspace_id: int, customer_id: int, name: str | None, before: Cursor | None,
            limit: int, *, see_pii: bool) -> list[TimelineEntry]:
    params: dict[str, Any] = {"w": workspace_id, "c": customer_id, "n": limit}
    sql = ("SELECT message_id, type, event, properties, ts, source FROM events "
           "WHERE workspace_id = %(w)s AND customer_id = %(c)s")
    if name is not None:
        params["name"] = name
        sql += " AND COALESCE(event, type) = %(name)s"
    sql += _after("event", before, at="ts", ref="message_id", params=params)
    sql += " ORDER BY ts DESC, message_id DESC LIMIT %(n)s"
    entries = []
    for message_id, type_, event, properties, ts, source in warehouse.query(sql, params):
        properties = _json(properties)
        if type_ == "identify" and not see_pii:  # identify carries traits: phone, email, name …
            properties = _masked(properties)
        entries.append(TimelineEntry(kind="event", at=_utc(ts), name=event or type_, ref=message_id,
                                     detail={"type": type_, "source": source, "properties": properties}))
    return entries


def _orders(warehouse: Warehouse, workspace_id: int, customer_id: int, before: Cursor | None,
            limit: int) -> list[TimelineEntry]:
    params: dict[str, Any] = {"w": workspace_id, "c": customer_id, "n": limit}
    sql = ("SELECT id, external_id, channel_id, status, total_fen, paid_fen, refunded_fen, placed_at, paid_at "
           "FROM orders WHERE workspace_id = %(w)s AND customer_id = %(c)s")
    sql += _after("order", before, at="placed_at", ref="id", params=params)
    rows = warehouse.query(sql + " ORDER BY placed_at DESC, id DESC LIMIT %(n)s", params)
    lines: dict[int, list[dict]] = {row[0]: [] for row in rows}
    if rows:
        ids = {f"o{n}": row[0] for n, row in enumerate(rows)}
        placeholders = ", ".join(f"%({key})s" for key in ids)
        for order_id, line_no, sku, category, quantity, amount_fen in warehouse.query(
                "SELECT order_id, line_no, sku, category, quantity, amount_fen FROM order_lines "
                f"WHERE workspace_id = %(w)s AND order_id IN ({placeholders}) ORDER BY order_id, line_no",
                {"w": workspace_id, **ids}):
            lines[order_id].append({"line_no": line_no, "sku": sku, "category": category, "quantity": quantity,
                                    "amount_fen": amount_fen})
    return [TimelineEntry(kind="order", at=_utc(placed_at), name=external_id, ref=str(order_id),
                          detail={"order_id": order_id, "external_id": external_id, "channel_id": channel_id,
                                  "status": status, "total_fen": total_fen, "paid_fen": paid_fen,
                                  "refunded_fen": refunded_fen, "paid_at": _utc(paid_at) if paid_at else None,
                                  "lines": lines[order_id]})
            for (order_id, external_id, channel_id, status, total_fen, paid_fen, refunded_fen, placed_at,
                 paid_at) in rows]


def _changes(session: Session, actor: Actor, customer_id: int, before: Cursor | None, limit: int, *,
             see_pii: bool) -> list[TimelineEntry]:
    # The history of customers merged into this one is this person's history too.
    ids = [customer_id, *customers_service.merged_into(session, customer_id=customer_id)]
    after = None
    if before is not None:
        # The same narrowing as _after, on the OLTP store: (at, id) strictly after the cursor.
        if before.kind == "change":
            after = (before.at, before.key)
        elif RANK["change"] < RANK[before.kind]:
            after = (before.at, 2**63 - 1)
        else:
            after = (before.at, 0)
    audit = workspaces_service.audit_of(session, actor=actor, entity_type="customer", entity_ids=ids,
                                        before=after, limit=limit)
    return [TimelineEntry(kind="change", at=entry.created_at, name=entry.action, ref=str(entry.id),
                          detail={"action": entry.action, "customer_id": entry.entity_id,
                                  "member_id": entry.member_id,
                                  "changes": entry.changes if see_pii else _masked(entry.changes or {})})
            for entry in audit]
