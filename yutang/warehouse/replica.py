"""Apply outbox changes to the warehouse replicas and record Yutang's own events, idempotently.

Topics and payloads are the contract with the domains that emit them (see ARCHITECTURE.md).
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yutang.warehouse.backends import Tx

# Yutang's own changes land in the events table under these names (documented in docs/events.md).
EVENT_NAMES = {
    "order.paid": "Order Paid",
    "order.refunded": "Order Refunded",
    "tag.added": "Tag Added",
    "tag.removed": "Tag Removed",
    "consent.changed": "Consent Changed",
    "customer.merged": "Customer Merged",
}
INTERNAL_SOURCE = "yutang"


@dataclass(frozen=True)
class Change:
    """One outbox row as the relay hands it over."""

    id: int
    workspace_id: int
    topic: str
    entity_id: int | None
    payload: dict[str, Any]
    created_at: datetime


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def apply(tx: Tx, changes: list[Change]) -> None:
    """Apply a batch in order; re-applying the same batch leaves the warehouse as it was."""
    message_ids = [f"{INTERNAL_SOURCE}:outbox:{change.id}" for change in changes]
    tx.executemany("DELETE FROM events WHERE message_id = %(m)s", [{"m": m} for m in message_ids])
    for change, message_id in zip(changes, message_ids, strict=True):
        handler = HANDLERS.get(change.topic)
        if handler is not None:
            handler(tx, change)
        if change.topic in EVENT_NAMES:
            _record_event(tx, change, message_id)


def touched(changes: list[Change]) -> dict[int, set[int]]:
    """The customers a batch of changes concerns, by workspace."""
    result: dict[int, set[int]] = {}
    for change in changes:
        p = change.payload
        ids = {p.get("customer_id"), p.get("winner_id")}
        if change.topic.startswith("customer."):
            ids.add(p.get("id", change.entity_id))
        result.setdefault(change.workspace_id, set()).update(i for i in ids if i)
    return result


def _record_event(tx: Tx, change: Change, message_id: str) -> None:
    payload = change.payload
    customer_id = payload.get("customer_id") or payload.get("winner_id") or change.entity_id
    tx.execute(
        "INSERT INTO events (workspace_id, message_id, type, event, customer_id, properties, ts, received_at, source) "
        "VALUES (%(w)s, %(m)s, 'track', %(e)s, %(c)s, %(p)s, %(t)s, %(t)s, %(s)s)",
        {"w": change.workspace_id, "m": message_id, "e": EVENT_NAMES[change.topic], "c": customer_id,
         "p": json.dumps(payload, ensure_ascii=False), "t": change.created_at, "s": INTERNAL_SOURCE})


def _customer_changed(tx: Tx, change: Change) -> None:
    p = change.payload
    tx.execute(
        "INSERT INTO customers (workspace_id, id, status, gender, birthday, province, city, first_channel_id, "
        "source_campaign, merged_into_id, refuses_personalised, assigned_member_id, first_seen_at, updated_at) "
        "VALUES (%(w)s, %(id)s, %(status)s, %(gender)s, %(birthday)s, %(province)s, %(city)s, %(first_channel_id)s, "
        "%(source_campaign)s, %(merged_into_id)s, %(refuses)s, %(assigned)s, %(first_seen_at)s, %(updated_at)s) "
        "ON CONFLICT (id) DO UPDATE SET status = excluded.status, gender = excluded.gender, "
        "birthday = excluded.birthday, province = excluded.province, city = excluded.city, "
        "first_channel_id = excluded.first_channel_id, source_campaign = excluded.source_campaign, "
        "merged_into_id = excluded.merged_into_id, refuses_personalised = excluded.refuses_personalised, "
        "assigned_member_id = excluded.assigned_member_id, first_seen_at = excluded.first_seen_at, "
        "updated_at = excluded.updated_at",
        {"w": change.workspace_id, "id": p["id"], "status": p["status"], "gender": p.get("gender"),
         "birthday": p.get("birthday"), "province": p.get("province"), "city": p.get("city"),
         "first_channel_id": p.get("first_channel_id"), "source_campaign": p.get("source_campaign"),
         "merged_into_id": p.get("merged_into_id"), "refuses": bool(p.get("refuses_personalised")),
         "assigned": p.get("assigned_member_id"), "first_seen_at": _time(p.get("first_seen_at")),
         "updated_at": change.created_at})
    tx.execute("DELETE FROM identities WHERE customer_id = %(c)s", {"c": p["id"]})
    tx.executemany("INSERT INTO identities (workspace_id, customer_id, kind, namespace) "
                   "VALUES (%(w)s, %(c)s, %(k)s, %(n)s)",
                   [{"w": change.workspace_id, "c": p["id"], "k": i["kind"], "n": i["namespace"]}
                    for i in p.get("identities", [])])


def _membership_changed(tx: Tx, change: Change) -> None:
    p = change.payload
    tx.execute(
        "INSERT INTO memberships (workspace_id, customer_id, channel_id, joined_at, left_at) "
        "VALUES (%(w)s, %(c)s, %(ch)s, %(j)s, %(l)s) ON CONFLICT (customer_id, channel_id) "
        "DO UPDATE SET joined_at = excluded.joined_at, left_at = excluded.left_at",
        {"w": change.workspace_id, "c": p["customer_id"], "ch": p["channel_id"], "j": _time(p["joined_at"]),
         "l": _time(p.get("left_at"))})


def _tag_added(tx: Tx, change: Change) -> None:
    p = change.payload
    tx.execute("INSERT INTO customer_tags (workspace_id, customer_id, tag_id, added_at) "
               "VALUES (%(w)s, %(c)s, %(t)s, %(at)s) ON CONFLICT (customer_id, tag_id) DO NOTHING",
               {"w": change.workspace_id, "c": p["customer_id"], "t": p["tag_id"], "at": change.created_at})


def _tag_removed(tx: Tx, change: Change) -> None:
    p = change.payload
    tx.execute("DELETE FROM customer_tags WHERE customer_id = %(c)s AND tag_id = %(t)s",
               {"c": p["customer_id"], "t": p["tag_id"]})


def _order_changed(tx: Tx, change: Change) -> None:
    p = change.payload
    tx.execute(
        "INSERT INTO orders (workspace_id, id, customer_id, channel_id, external_id, status, total_fen, paid_fen, "
        "refunded_fen, placed_at, paid_at) VALUES (%(w)s, %(id)s, %(c)s, %(ch)s, %(x)s, %(s)s, %(t)s, %(p)s, %(r)s, "
        "%(placed)s, %(paid)s) ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, "
        "status = excluded.status, total_fen = excluded.total_fen, paid_fen = excluded.paid_fen, "
        "refunded_fen = excluded.refunded_fen, placed_at = excluded.placed_at, paid_at = excluded.paid_at",
        {"w": change.workspace_id, "id": p["id"], "c": p["customer_id"], "ch": p["channel_id"], "x": p["external_id"],
         "s": p["status"], "t": p["total_fen"], "p": p["paid_fen"], "r": p["refunded_fen"],
         "placed": _time(p["placed_at"]), "paid": _time(p.get("paid_at"))})
    tx.execute("DELETE FROM order_lines WHERE order_id = %(o)s", {"o": p["id"]})
    tx.executemany("INSERT INTO order_lines (workspace_id, order_id, line_no, sku, category, quantity, amount_fen) "
                   "VALUES (%(w)s, %(o)s, %(n)s, %(sku)s, %(cat)s, %(q)s, %(a)s)",
                   [{"w": change.workspace_id, "o": p["id"], "n": n, "sku": line["sku"], "cat": line.get("category"),
                     "q": line["quantity"], "a": line["amount_fen"]} for n, line in enumerate(p["lines"], start=1)])


def _customer_merged(tx: Tx, change: Change) -> None:
    ids = {"w": change.payload["winner_id"], "l": change.payload["loser_id"]}
    # Rows both customers had stay once (the winner's); the loser's others move over, as in the OLTP store.
    tx.execute("DELETE FROM customer_tags WHERE customer_id = %(l)s AND tag_id IN "
               "(SELECT tag_id FROM customer_tags WHERE customer_id = %(w)s)", ids)
    tx.execute("DELETE FROM memberships WHERE customer_id = %(l)s AND channel_id IN "
               "(SELECT channel_id FROM memberships WHERE customer_id = %(w)s)", ids)
    for table in ("customer_tags", "memberships", "orders", "events"):
        tx.execute(f"UPDATE {table} SET customer_id = %(w)s WHERE customer_id = %(l)s", ids)
    tx.execute("DELETE FROM identities WHERE customer_id = %(l)s", ids)
    _consents_merged(tx, change)


def _consent_changed(tx: Tx, change: Change) -> None:
    # The ledger's latest entry is in force: an entry older than the one held changes nothing.
    p = change.payload
    tx.execute("INSERT INTO consents (workspace_id, customer_id, channel, status, occurred_at) "
               "VALUES (%(w)s, %(c)s, %(ch)s, %(s)s, %(at)s) ON CONFLICT (customer_id, channel) DO UPDATE "
               "SET status = excluded.status, occurred_at = excluded.occurred_at "
               "WHERE excluded.occurred_at >= consents.occurred_at",
               {"w": change.workspace_id, "c": p["customer_id"], "ch": p["channel"], "s": p["status"],
                "at": _time(p["occurred_at"])})


def _consents_merged(tx: Tx, change: Change) -> None:
    # The merged ledger's latest entry per channel wins, whichever customer it came from.
    ids = {"w": change.payload["winner_id"], "l": change.payload["loser_id"]}
    tx.execute("DELETE FROM consents WHERE customer_id = %(w)s AND EXISTS (SELECT 1 FROM consents loser "
               "WHERE loser.customer_id = %(l)s AND loser.channel = consents.channel "
               "AND loser.occurred_at > consents.occurred_at)", ids)
    tx.execute("UPDATE consents SET customer_id = %(w)s WHERE customer_id = %(l)s AND channel NOT IN "
               "(SELECT channel FROM consents WHERE customer_id = %(w)s)", ids)
    tx.execute("DELETE FROM consents WHERE customer_id = %(l)s", ids)


def _customer_erased(tx: Tx, change: Change) -> None:
    # Keep what happened and when (aggregates); drop what identifies the person.
    customer = {"c": change.payload["id"]}
    tx.execute("UPDATE events SET user_id = NULL, anonymous_id = NULL, context = NULL WHERE customer_id = %(c)s",
               customer)
    tx.execute("UPDATE events SET properties = NULL WHERE customer_id = %(c)s AND type = 'identify'", customer)
    tx.execute("DELETE FROM identities WHERE customer_id = %(c)s", customer)


HANDLERS = {
    "customer.changed": _customer_changed,
    "membership.changed": _membership_changed,
    "tag.added": _tag_added,
    "tag.removed": _tag_removed,
    "order.changed": _order_changed,
    "customer.merged": _customer_merged,
    "customer.erased": _customer_erased,
    "consent.changed": _consent_changed,
}
