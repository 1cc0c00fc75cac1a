"""Apply outbox changes to the warehouse replicas and record Yutang's own events, idempotently.

Topics and payload shapes are the contract with the domains that emit them (storage/topics.py); each handler
here takes its topic's payload type. A new topic the warehouse keeps gets a handler in HANDLERS (or
BULK_HANDLERS) and, if it is an event, a name in EVENT_NAMES and docs/events.md.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from typing import Any, cast

from yutang.storage.topics import (
    ConsentChanged,
    CustomerChanged,
    CustomerErased,
    CustomerMerged,
    GroupMembers,
    MembershipChanged,
    MessageBatch,
    OrderChanged,
    Topic,
)
from yutang.warehouse.backends import Tx
from yutang.warehouse.own_events import SOURCE, TOPIC_EVENTS, OwnEvent, events_of

# Yutang's own changes land in the events table under these names (own_events.py; docs/events.md).
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
        tx.execute("DELETE FROM events WHERE source = %(source)s "
                   "AND message_id IN (SELECT unnest(CAST(%(message_ids)s AS VARCHAR[])))",
                   {"source": INTERNAL_SOURCE, "message_ids": eventful})
    for topic, run in groupby(changes, key=lambda change: change.topic):
        run = list(run)
        if topic in BULK_HANDLERS:
            BULK_HANDLERS[topic](tx, run)
        elif topic in HANDLERS:
            for change in run:
                HANDLERS[topic](tx, change, change.payload)
        if topic in EVENT_NAMES:
            _record_events(tx, run)


def touched(changes: list[Change]) -> dict[int, set[int]]:
    """The customers a batch of changes concerns, by workspace."""
    result: dict[int, set[int]] = {}
    for change in changes:
        payload = change.payload
        ids = {payload.get("customer_id"), payload.get("winner_id")}
        if change.topic == Topic.MESSAGE_BATCH:
            ids.update(message[1] for message in payload["messages"])
        if change.topic == Topic.GROUP_MEMBERS:
            ids.update(row[0] for row in payload["joined"] + payload["left"])
        if change.topic.startswith("customer."):
            ids.add(payload.get("id", change.entity_id))
        result.setdefault(change.workspace_id, set()).update(i for i in ids if i)
    return result


def _rows(events: list[OwnEvent]) -> list[dict]:
    return [{"workspace_id": e.workspace_id, "message_id": e.id, "type": "track", "event": e.name,
             "customer_id": e.customer_id, "properties": json.dumps(e.properties, ensure_ascii=False),
             "ts": e.occurred_at, "received_at": e.recorded_at, "source": SOURCE} for e in events]


def _record_events(tx: Tx, changes: list[Change]) -> None:
    tx.insert_rows("events", _rows([event for change in changes for event in events_of(change)]))


def _message_batch(tx: Tx, change: Change, _batch: MessageBatch) -> None:
    # Many messages queued (or suppressed) at once: one event each, keyed by the outbox row and the message.
    rows = _rows(events_of(change))
    tx.execute("DELETE FROM events WHERE source = %(source)s "
               "AND message_id IN (SELECT unnest(CAST(%(message_ids)s AS VARCHAR[])))",
               {"source": SOURCE, "message_ids": [row["message_id"] for row in rows]})
    tx.insert_rows("events", rows)


def _group_members(tx: Tx, change: Change, members: GroupMembers) -> None:
    # The replica of who is in which group (segments read it), then one event per customer joining or leaving.
    rows = {row[0]: {"workspace_id": change.workspace_id, "customer_id": row[0], "group_id": members["group_id"],
                     "owner_userid": members["owner_userid"], "joined_at": _time(row[1]), "left_at": None}
            for row in members["joined"]}
    if rows:
        tx.insert_rows("group_members", list(rows.values()),
                       conflict="ON CONFLICT (customer_id, group_id) DO UPDATE SET owner_userid = "
                                "excluded.owner_userid, joined_at = excluded.joined_at, left_at = NULL")
    for customer_id, at in members["left"]:
        tx.execute("UPDATE group_members SET left_at = %(at)s WHERE customer_id = %(customer_id)s "
                   "AND group_id = %(group_id)s",
                   {"at": _time(at), "customer_id": customer_id, "group_id": members["group_id"]})
    tx.execute("UPDATE group_members SET owner_userid = %(owner)s WHERE group_id = %(group_id)s "
               "AND owner_userid <> %(owner)s", {"owner": members["owner_userid"], "group_id": members["group_id"]})
    rows_ = _rows(events_of(change))
    tx.execute("DELETE FROM events WHERE source = %(source)s "
               "AND message_id IN (SELECT unnest(CAST(%(message_ids)s AS VARCHAR[])))",
               {"source": SOURCE, "message_ids": [row["message_id"] for row in rows_]})
    tx.insert_rows("events", rows_)


def _customers_changed(tx: Tx, changes: list[Change]) -> None:
    latest = {cast(CustomerChanged, change.payload)["id"]: change for change in changes}  # a later state wins
    states = {customer_id: cast(CustomerChanged, change.payload) for customer_id, change in latest.items()}
    tx.upsert_rows("customers", [
        {"workspace_id": change.workspace_id, "id": customer_id, "status": state["status"],
         "gender": state.get("gender"), "birthday": _day(state.get("birthday")), "province": state.get("province"),
         "city": state.get("city"), "first_channel_id": state.get("first_channel_id"),
         "source_campaign": state.get("source_campaign"), "merged_into_id": state.get("merged_into_id"),
         "refuses_personalised": bool(state.get("refuses_personalised")),
         "assigned_member_id": state.get("assigned_member_id"), "first_seen_at": _time(state.get("first_seen_at")),
         "updated_at": change.created_at}
        for customer_id, change in latest.items() for state in (states[customer_id],)], key="id")
    tx.execute("DELETE FROM identities WHERE customer_id IN (SELECT unnest(CAST(%(customer_ids)s AS BIGINT[])))",
               {"customer_ids": list(latest)})
    tx.insert_rows("identities", [{"workspace_id": change.workspace_id, "customer_id": customer_id,
                                   "kind": identity["kind"], "namespace": identity["namespace"]}
                                  for customer_id, change in latest.items()
                                  for identity in states[customer_id]["identities"]])


def _membership_changed(tx: Tx, change: Change, membership: MembershipChanged) -> None:
    tx.execute(
        "INSERT INTO memberships (workspace_id, customer_id, channel_id, joined_at, left_at) "
        "VALUES (%(workspace_id)s, %(customer_id)s, %(channel_id)s, %(joined_at)s, %(left_at)s) "
        "ON CONFLICT (customer_id, channel_id) "
        "DO UPDATE SET joined_at = excluded.joined_at, left_at = excluded.left_at",
        {"workspace_id": change.workspace_id, "customer_id": membership["customer_id"],
         "channel_id": membership["channel_id"], "joined_at": _time(membership["joined_at"]),
         "left_at": _time(membership.get("left_at"))})


def _tags_added(tx: Tx, changes: list[Change]) -> None:
    # Bulk tagging emits one change per customer: one statement for the run (first time per pair wins).
    first: dict[tuple[int, int], Change] = {}
    for change in changes:
        first.setdefault((change.payload["customer_id"], change.payload["tag_id"]), change)
    tx.execute("INSERT INTO customer_tags (workspace_id, customer_id, tag_id, added_at) "
               "SELECT unnest(CAST(%(workspace_ids)s AS BIGINT[])), unnest(CAST(%(customer_ids)s AS BIGINT[])), "
               "unnest(CAST(%(tag_ids)s AS BIGINT[])), unnest(CAST(%(added_at)s AS TIMESTAMPTZ[])) "
               "ON CONFLICT (customer_id, tag_id) DO NOTHING",
               {"workspace_ids": [c.workspace_id for c in first.values()],
                "customer_ids": [customer_id for customer_id, _ in first],
                "tag_ids": [tag_id for _, tag_id in first], "added_at": [c.created_at for c in first.values()]})


def _tags_removed(tx: Tx, changes: list[Change]) -> None:
    by_tag: dict[int, set[int]] = {}
    for change in changes:
        by_tag.setdefault(change.payload["tag_id"], set()).add(change.payload["customer_id"])
    for tag_id, customer_ids in by_tag.items():
        tx.execute("DELETE FROM customer_tags WHERE tag_id = %(tag_id)s "
                   "AND customer_id IN (SELECT unnest(CAST(%(customer_ids)s AS BIGINT[])))",
                   {"tag_id": tag_id, "customer_ids": sorted(customer_ids)})


def _order_changed(tx: Tx, change: Change, order: OrderChanged) -> None:
    tx.execute(
        "INSERT INTO orders (workspace_id, id, customer_id, channel_id, external_id, status, total_fen, paid_fen, "
        "refunded_fen, placed_at, paid_at) VALUES (%(workspace_id)s, %(order_id)s, %(customer_id)s, "
        "%(channel_id)s, %(external_id)s, %(status)s, %(total_fen)s, %(paid_fen)s, %(refunded_fen)s, "
        "%(placed_at)s, %(paid_at)s) ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, "
        "status = excluded.status, total_fen = excluded.total_fen, paid_fen = excluded.paid_fen, "
        "refunded_fen = excluded.refunded_fen, placed_at = excluded.placed_at, paid_at = excluded.paid_at",
        {"workspace_id": change.workspace_id, "order_id": order["id"], "customer_id": order["customer_id"],
         "channel_id": order["channel_id"], "external_id": order["external_id"], "status": order["status"],
         "total_fen": order["total_fen"], "paid_fen": order["paid_fen"], "refunded_fen": order["refunded_fen"],
         "placed_at": _time(order["placed_at"]), "paid_at": _time(order.get("paid_at"))})
    # Lines are upserted and only those past the new last line deleted: DuckDB may refuse a key deleted and
    # inserted again in one transaction (its indexes' over-eager constraint check), as a batch changing an order
    # twice would do.
    tx.execute("DELETE FROM order_lines WHERE order_id = %(order_id)s AND line_no > %(lines)s",
               {"order_id": order["id"], "lines": len(order["lines"])})
    tx.executemany("INSERT INTO order_lines (workspace_id, order_id, line_no, sku, category, quantity, amount_fen) "
                   "VALUES (%(workspace_id)s, %(order_id)s, %(line_no)s, %(sku)s, %(category)s, %(quantity)s, "
                   "%(amount_fen)s) ON CONFLICT (order_id, line_no) DO UPDATE SET sku = excluded.sku, "
                   "category = excluded.category, quantity = excluded.quantity, amount_fen = excluded.amount_fen",
                   [{"workspace_id": change.workspace_id, "order_id": order["id"], "line_no": line_no,
                     "sku": line["sku"], "category": line.get("category"), "quantity": line["quantity"],
                     "amount_fen": line["amount_fen"]} for line_no, line in enumerate(order["lines"], start=1)])


def _customer_merged(tx: Tx, change: Change, merge: CustomerMerged) -> None:
    pair = {"winner": merge["winner_id"], "loser": merge["loser_id"]}
    # Rows both customers had stay once (the winner's); the loser's others move over, as in the OLTP store.
    tx.execute("DELETE FROM customer_tags WHERE customer_id = %(loser)s AND tag_id IN "
               "(SELECT tag_id FROM customer_tags WHERE customer_id = %(winner)s)", pair)
    tx.execute("DELETE FROM memberships WHERE customer_id = %(loser)s AND channel_id IN "
               "(SELECT channel_id FROM memberships WHERE customer_id = %(winner)s)", pair)
    tx.execute("DELETE FROM group_members WHERE customer_id = %(loser)s AND group_id IN "
               "(SELECT group_id FROM group_members WHERE customer_id = %(winner)s)", pair)
    for table in ("customer_tags", "memberships", "group_members", "orders", "events"):
        tx.execute(f"UPDATE {table} SET customer_id = %(winner)s WHERE customer_id = %(loser)s", pair)
    tx.execute("DELETE FROM identities WHERE customer_id = %(loser)s", pair)
    _consents_merged(tx, pair)


def _consent_changed(tx: Tx, change: Change, consent: ConsentChanged) -> None:
    # The ledger's latest entry is in force: an entry older than the one held changes nothing.
    tx.execute("INSERT INTO consents (workspace_id, customer_id, channel, status, occurred_at) "
               "VALUES (%(workspace_id)s, %(customer_id)s, %(channel)s, %(status)s, %(occurred_at)s) "
               "ON CONFLICT (customer_id, channel) DO UPDATE "
               "SET status = excluded.status, occurred_at = excluded.occurred_at "
               "WHERE excluded.occurred_at >= consents.occurred_at",
               {"workspace_id": change.workspace_id, "customer_id": consent["customer_id"],
                "channel": consent["channel"], "status": consent["status"],
                "occurred_at": _time(consent["occurred_at"])})


def _consents_merged(tx: Tx, pair: dict[str, int]) -> None:
    # The merged ledger's latest entry per channel wins, whichever customer it came from.
    tx.execute("DELETE FROM consents WHERE customer_id = %(winner)s AND EXISTS (SELECT 1 FROM consents loser "
               "WHERE loser.customer_id = %(loser)s AND loser.channel = consents.channel "
               "AND loser.occurred_at > consents.occurred_at)", pair)
    tx.execute("UPDATE consents SET customer_id = %(winner)s WHERE customer_id = %(loser)s AND channel NOT IN "
               "(SELECT channel FROM consents WHERE customer_id = %(winner)s)", pair)
    tx.execute("DELETE FROM consents WHERE customer_id = %(loser)s", pair)


def _customer_erased(tx: Tx, change: Change, erased: CustomerErased) -> None:
    # Keep what happened and when (aggregates); drop what identifies the person.
    customer = {"customer_id": erased["id"]}
    tx.execute("UPDATE events SET user_id = NULL, anonymous_id = NULL, context = NULL "
               "WHERE customer_id = %(customer_id)s", customer)
    tx.execute("UPDATE events SET properties = NULL WHERE customer_id = %(customer_id)s AND type = 'identify'",
               customer)
    tx.execute("DELETE FROM identities WHERE customer_id = %(customer_id)s", customer)


# Handlers take (tx, change, payload), the payload typed by its topic (storage/topics.py).
BULK_HANDLERS: dict[str, Callable[[Tx, list[Change]], None]] = {
    Topic.CUSTOMER_CHANGED: _customers_changed,
    Topic.TAG_ADDED: _tags_added,
    Topic.TAG_REMOVED: _tags_removed,
}
HANDLERS: dict[str, Callable[[Tx, Change, Any], None]] = {
    Topic.MEMBERSHIP_CHANGED: _membership_changed,
    Topic.ORDER_CHANGED: _order_changed,
    Topic.CUSTOMER_MERGED: _customer_merged,
    Topic.CUSTOMER_ERASED: _customer_erased,
    Topic.MESSAGE_BATCH: _message_batch,
    Topic.GROUP_MEMBERS: _group_members,
    Topic.CONSENT_CHANGED: _consent_changed,
}
