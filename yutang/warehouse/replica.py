"""Apply outbox changes to the warehouse replicas and record Yutang's own events, idempotently.

Topics and payloads are the contract with the domains that emit them (see ARCHITECTURE.md).
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from typing import Any

from yutang.warehouse.backends import Tx
from yutang.warehouse.own_events import SOURCE, TOPIC_EVENTS, OwnEvent, events_of

# Yutang's own changes land in the events table under these names (documented in docs/events.md).
EVENT_NAMES = TOPIC_EVENTS
INTERNAL_SOURCE = SOURCE


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


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def apply(tx: Tx, changes: list[Change]) -> None:
    """Apply a batch in order; re-applying the same batch leaves the warehouse as it was.

    Consecutive changes of one topic with a set-based handler are applied together (new people arrive by the
    thousand); every other change is applied on its own, in order.
    """
    eventful = [f"{INTERNAL_SOURCE}:outbox:{change.id}" for change in changes if change.topic in EVENT_NAMES]
    if eventful:
        tx.execute("DELETE FROM events WHERE source = %(s)s "
                   "AND message_id IN (SELECT unnest(CAST(%(m)s AS VARCHAR[])))", {"s": INTERNAL_SOURCE, "m": eventful})
    for topic, run in groupby(changes, key=lambda change: change.topic):
        run = list(run)
        if topic in BULK_HANDLERS:
            BULK_HANDLERS[topic](tx, run)
        elif topic in HANDLERS:
            for change in run:
                HANDLERS[topic](tx, change)
        if topic in EVENT_NAMES:
            _record_events(tx, run)


def touched(changes: list[Change]) -> dict[int, set[int]]:
    """The customers a batch of changes concerns, by workspace."""
    result: dict[int, set[int]] = {}
    for change in changes:
        p = change.payload
        ids = {p.get("customer_id"), p.get("winner_id")}
        if change.topic == "message.batch":
            ids.update(m[1] for m in p["messages"])
        if change.topic.startswith("customer."):
            ids.add(p.get("id", change.entity_id))
        result.setdefault(change.workspace_id, set()).update(i for i in ids if i)
    return result


def _rows(events: list[OwnEvent]) -> list[dict]:
    return [{"workspace_id": e.workspace_id, "message_id": e.id, "type": "track", "event": e.name,
             "customer_id": e.customer_id, "properties": json.dumps(e.properties, ensure_ascii=False),
             "ts": e.occurred_at, "received_at": e.occurred_at, "source": SOURCE} for e in events]


def _record_events(tx: Tx, changes: list[Change]) -> None:
    tx.insert_rows("events", _rows([event for change in changes for event in events_of(change)]))


def _message_batch(tx: Tx, change: Change) -> None:
    # Many messages queued (or suppressed) at once: one event each, keyed by the outbox row and the message.
    rows = _rows(events_of(change))
    tx.execute("DELETE FROM events WHERE source = %(s)s AND message_id IN (SELECT unnest(CAST(%(m)s AS VARCHAR[])))",
               {"s": SOURCE, "m": [row["message_id"] for row in rows]})
    tx.insert_rows("events", rows)


def _customers_changed(tx: Tx, changes: list[Change]) -> None:
    latest = {change.payload["id"]: change for change in changes}  # a later state of the same person wins
    tx.upsert_rows("customers", [
        {"workspace_id": change.workspace_id, "id": p["id"], "status": p["status"], "gender": p.get("gender"),
         "birthday": _day(p.get("birthday")), "province": p.get("province"), "city": p.get("city"),
         "first_channel_id": p.get("first_channel_id"), "source_campaign": p.get("source_campaign"),
         "merged_into_id": p.get("merged_into_id"), "refuses_personalised": bool(p.get("refuses_personalised")),
         "assigned_member_id": p.get("assigned_member_id"), "first_seen_at": _time(p.get("first_seen_at")),
         "updated_at": change.created_at}
        for change in latest.values() for p in (change.payload,)], key="id")
    tx.execute("DELETE FROM identities WHERE customer_id IN (SELECT unnest(CAST(%(c)s AS BIGINT[])))",
               {"c": list(latest)})
    tx.insert_rows("identities", [{"workspace_id": change.workspace_id, "customer_id": customer_id,
                                   "kind": i["kind"], "namespace": i["namespace"]}
                                  for customer_id, change in latest.items() for i in change.payload["identities"]])


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


BULK_HANDLERS = {
    "customer.changed": _customers_changed,
}
HANDLERS = {
    "membership.changed": _membership_changed,
    "tag.added": _tag_added,
    "tag.removed": _tag_removed,
    "order.changed": _order_changed,
    "customer.merged": _customer_merged,
    "customer.erased": _customer_erased,
    "message.batch": _message_batch,
    "consent.changed": _consent_changed,
}
