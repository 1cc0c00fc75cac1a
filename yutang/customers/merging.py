"""Merge and erase, the customer-domain part (archive composes the other domains), and merge history."""

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from yutang.customers.consents import consent_ledger, current_consents
from yutang.customers.memberships import emit_membership, memberships_of
from yutang.customers.models import ConsentEntry, Customer, CustomerIdentity, CustomerNote, MergeRecord
from yutang.customers.notes import notes_of
from yutang.customers.profile import PROFILE_FIELDS, apply_fields, emit_changed, jsonable
from yutang.customers.reading import ERASED, MERGED, identities_of
from yutang.customers.schemas import ConsentChannel, CustomerFields
from yutang.kit.clock import utcnow
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor


def merges_of(session: Session, *, customer_id: int) -> list[MergeRecord]:
    """Merges this customer took part in, newest first."""
    return list(session.scalars(select(MergeRecord).where(or_(MergeRecord.winner_id == customer_id,
                                                               MergeRecord.loser_id == customer_id))
                                .order_by(MergeRecord.id.desc())))


def merged_into(session: Session, *, customer_id: int) -> list[int]:
    """Ids of the customers merged into this one (their tombstones point here, chains included)."""
    return list(session.scalars(select(Customer.id).where(Customer.merged_into_id == customer_id)
                                .order_by(Customer.id)))


def absorb(session: Session, *, actor: Actor, winner: Customer, loser: Customer, reason: str,
           moved_elsewhere: dict[str, int]) -> MergeRecord:
    """Move the loser's identities, memberships, consents and notes to the winner and tombstone the loser."""
    snapshot = {**{f: jsonable(getattr(loser, f)) for f in PROFILE_FIELDS},
                "attributes": loser.attributes, "first_channel_id": loser.first_channel_id,
                "identities": [{"kind": i.kind, "namespace": i.namespace, "value": i.value}
                               for i in identities_of(session, customer_ids=[loser.id])[loser.id]]}
    moved = dict(moved_elsewhere)
    moved["identities"] = _move(session, CustomerIdentity, loser.id, winner.id)
    moved["consents"] = _move(session, ConsentEntry, loser.id, winner.id)
    moved["notes"] = _move(session, CustomerNote, loser.id, winner.id)
    moved["memberships"] = _move_memberships(session, loser.id, winner.id)
    apply_fields(winner, CustomerFields(**{f: getattr(loser, f) for f in PROFILE_FIELDS}), overwrite=False)
    winner.attributes = {**(loser.attributes or {}), **(winner.attributes or {})}
    if winner.first_seen_at and loser.first_seen_at and loser.first_seen_at < winner.first_seen_at:
        # The earlier first touch is the true one: the person came in through the loser's channel.
        winner.first_seen_at = loser.first_seen_at
        winner.first_channel_id = loser.first_channel_id or winner.first_channel_id
        winner.source_campaign = loser.source_campaign or winner.source_campaign
    winner.first_channel_id = winner.first_channel_id or loser.first_channel_id
    winner.assigned_member_id = winner.assigned_member_id or loser.assigned_member_id
    winner.refuses_personalised = "withdrawn" == current_consents(
        session, customer_id=winner.id).get(ConsentChannel.PERSONALISED_MARKETING.value, "granted")
    winner.updated_at = utcnow()
    loser.status = MERGED
    loser.merged_into_id = winner.id
    loser.updated_at = utcnow()
    # Earlier merges into the loser now point at the winner, so a chain never needs two hops.
    session.execute(update(Customer).where(Customer.merged_into_id == loser.id, Customer.id != loser.id)
                    .values(merged_into_id=winner.id))
    record = MergeRecord(workspace_id=actor.workspace_id, winner_id=winner.id, loser_id=loser.id, reason=reason,
                         member_id=actor.member_id, moved=moved, loser_snapshot=snapshot)
    session.add(record)
    session.flush()
    workspaces_service.record(session, actor=actor, action="customer.merged", entity_type="customer",
                              entity_id=winner.id, changes={"loser_id": loser.id, "reason": reason, "moved": moved})
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.CUSTOMER_MERGED, entity_id=winner.id,
                payload={"winner_id": winner.id, "loser_id": loser.id, "reason": reason})
    emit_changed(session, customer=winner)
    emit_changed(session, customer=loser)
    for membership in memberships_of(session, customer_id=winner.id):
        emit_membership(session, membership)
    return record


def _move(session: Session, model, from_id: int, to_id: int) -> int:
    result = session.execute(update(model).where(model.customer_id == from_id).values(customer_id=to_id))
    return result.rowcount or 0


def _move_memberships(session: Session, from_id: int, to_id: int) -> int:
    kept = {m.channel_id: m for m in memberships_of(session, customer_id=to_id)}
    moved = 0
    for membership in memberships_of(session, customer_id=from_id):
        mine = kept.get(membership.channel_id)
        if mine is None:
            membership.customer_id = to_id
            moved += 1
            continue
        mine.joined_at = min(mine.joined_at, membership.joined_at)
        if membership.left_at is None:
            mine.left_at = None
        session.delete(membership)
    session.flush()
    return moved


def export(session: Session, *, customer: Customer) -> dict[str, Any]:
    """Everything the customer domain holds on one customer, unmasked, for a data-subject export."""
    return {
        "profile": {f: jsonable(getattr(customer, f)) for f in PROFILE_FIELDS}
        | {"id": customer.id, "status": customer.status, "attributes": customer.attributes,
           "first_channel_id": customer.first_channel_id, "source_campaign": customer.source_campaign,
           "first_seen_at": jsonable(customer.first_seen_at), "created_at": jsonable(customer.created_at),
           "refuses_personalised": customer.refuses_personalised},
        "identities": [{"kind": i.kind, "namespace": i.namespace, "value": i.value,
                        "created_at": i.created_at.isoformat()}
                       for i in identities_of(session, customer_ids=[customer.id])[customer.id]],
        "channel_memberships": [{"channel_id": m.channel_id, "joined_at": jsonable(m.joined_at),
                                 "left_at": jsonable(m.left_at)}
                                for m in memberships_of(session, customer_id=customer.id)],
        "consents": [{"channel": c.channel, "status": c.status, "method": c.method, "source": c.source,
                      "occurred_at": c.occurred_at.isoformat()}
                     for c in consent_ledger(session, customer_id=customer.id)],
        "notes": [{"body": n.body, "created_at": n.created_at.isoformat()}
                  for n in notes_of(session, customer_id=customer.id)],
    }


def erase(session: Session, *, actor: Actor, customer: Customer) -> None:
    """Remove personal data (profile, identities, notes, merge snapshots); keep an anonymous tombstone."""
    for field in PROFILE_FIELDS:
        setattr(customer, field, None)
    customer.attributes = {}
    customer.status = ERASED
    customer.erased_at = utcnow()
    customer.updated_at = customer.erased_at
    session.execute(delete(CustomerIdentity).where(CustomerIdentity.customer_id == customer.id))
    session.execute(delete(CustomerNote).where(CustomerNote.customer_id == customer.id))
    session.execute(update(ConsentEntry).where(ConsentEntry.customer_id == customer.id).values(source=None))
    session.execute(update(MergeRecord).where(or_(MergeRecord.winner_id == customer.id,
                                                  MergeRecord.loser_id == customer.id)).values(loser_snapshot={}))
    # Customers merged into this one are the same person: their tombstones are scrubbed too.
    for ghost in session.scalars(select(Customer).where(Customer.merged_into_id == customer.id)):
        for field in PROFILE_FIELDS:
            setattr(ghost, field, None)
        ghost.attributes = {}
        ghost.erased_at = customer.erased_at
        session.execute(delete(CustomerIdentity).where(CustomerIdentity.customer_id == ghost.id))
    emit_changed(session, customer=customer)
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.CUSTOMER_ERASED, entity_id=customer.id,
                payload={"id": customer.id})
