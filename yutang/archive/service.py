"""Cross-domain customer operations: OneID upsert (merging linked people), merge, archive, export, erase.

Merge, export and erase walk the per-customer data registry (`archive/registry.py`).
"""

from sqlalchemy.orm import Session

from yutang.archive import registry
from yutang.archive.schemas import ArchiveOut, OrderSummary
from yutang.channels import service as channels_service
from yutang.channels.schemas import ChannelOut
from yutang.customers import service as customers_service
from yutang.customers.schemas import ConsentOut, CustomerIn, MembershipOut, MergeOut, NoteOut
from yutang.customers.service import Customer, MergeRecord
from yutang.groups import service as groups_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid
from yutang.lifecycle import service as lifecycle_service
from yutang.orders import service as orders_service
from yutang.stores import service as stores_service
from yutang.tags import service as tags_service
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

ARCHIVE_ORDERS = 20


def upsert_customer(session: Session, *, actor: Actor, data: CustomerIn,
                    merge_reason: str = "identities link") -> tuple[Customer, str, list[int]]:
    """Find the customer by any identity or create them; identities spanning several customers merge them.

    Returns (customer, 'created' | 'updated' | 'unchanged', ids merged into the customer).
    """
    actor.require(Permission.WRITE)
    found = customers_service.match(session, actor=actor, identities_in=data.identities)
    if not found:
        return customers_service.create(session, actor=actor, data=data), "created", []
    merged: list[int] = []
    if len(found) > 1:
        actor.require(Permission.BULK)
        winner_id = min(found)  # the oldest record keeps its id: links held elsewhere stay valid
        for loser_id in sorted(set(found) - {winner_id}):
            merge(session, actor=actor, winner_id=winner_id, loser_id=loser_id, reason=merge_reason)
            merged.append(loser_id)
        found = [winner_id]
    customer = customers_service.get_customer(session, actor=actor, customer_id=found[0])
    changed = customers_service.update_from(session, actor=actor, customer=customer, data=data)
    return customer, "updated" if changed or merged else "unchanged", merged


def merge(session: Session, *, actor: Actor, winner_id: int, loser_id: int, reason: str) -> MergeRecord:
    """Merge loser into winner in one transaction: what the registry moves moves, the loser becomes a tombstone."""
    actor.require(Permission.BULK)
    if winner_id == loser_id:
        raise Invalid("a customer cannot be merged into itself", field="loser_id")
    locked = customers_service.lock_customers(session, actor=actor, ids=[winner_id, loser_id])
    winner, loser = locked[winner_id], locked[loser_id]
    customers_service.require_active(winner)
    customers_service.require_active(loser)
    moved = registry.move_all(session, from_id=loser.id, to_id=winner.id)
    return customers_service.absorb(session, actor=actor, winner=winner, loser=loser, reason=reason,
                                    moved_elsewhere=moved)


def archive(session: Session, *, actor: Actor, customer_id: int,
            warehouse: lifecycle_service.Warehouse | None = None) -> ArchiveOut:
    """The customer archive: profile, identities, channels, tags, notes, orders, consents, merge history, and
    (given the warehouse) lifecycle stage, RFM and value."""
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    shape = customers_service.present(session, actor=actor, customers=[customer])[0]
    memberships = customers_service.memberships_of(session, customer_id=customer.id)
    channel_ids = {m.channel_id for m in memberships} | ({customer.first_channel_id} - {None})
    channels = channels_service.channels_by_id(session, actor=actor, ids=channel_ids)
    orders = orders_service.list_orders(session, actor=actor, customer_id=customer.id, limit=10_000)
    paid = [o for o in orders if orders_service.is_paid(o.status)]
    paid_times = sorted(o.paid_at for o in paid)
    summary = OrderSummary(orders=len(orders), paid_orders=len(paid), paid_fen=sum(o.paid_fen for o in paid),
                           refunded_fen=sum(o.refunded_fen for o in orders),
                           first_paid_at=paid_times[0] if paid_times else None,
                           last_paid_at=paid_times[-1] if paid_times else None)
    first = channels.get(customer.first_channel_id) if customer.first_channel_id else None
    return ArchiveOut(
        customer=shape,
        first_channel=ChannelOut.model_validate(first) if first else None,
        channels=[MembershipOut.model_validate(m) for m in memberships],
        channel_names={cid: c.name for cid, c in channels.items()},
        tags=tags_service.tags_of(session, customer_id=customer.id),
        notes=[NoteOut.model_validate(n) for n in customers_service.notes_of(session, customer_id=customer.id)],
        orders=orders_service.present(session, orders=orders[:ARCHIVE_ORDERS]),
        order_summary=summary,
        consents=[ConsentOut.model_validate(c)
                  for c in customers_service.consent_ledger(session, customer_id=customer.id)],
        consent_in_force=customers_service.current_consents(session, customer_id=customer.id),
        merges=[MergeOut.model_validate(m) for m in customers_service.merges_of(session, customer_id=customer.id)],
        owner=stores_service.owner_of(session, actor=actor, customer_id=customer.id),
        groups=groups_service.customer_groups(session, actor=actor, customer_id=customer.id),
        scores=lifecycle_service.scores_of(warehouse, actor=actor, customer_id=customer.id) if warehouse else None,
    )


def export(session: Session, *, actor: Actor, customer_id: int) -> dict:
    """Everything held on one customer, unmasked, as JSON-ready data (a PIPL data-subject request)."""
    actor.require(Permission.SEE_PII)
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    data = registry.collect_all(session, customer_id=customer.id)
    data["exported_at"] = utcnow().isoformat()
    workspaces_service.record(session, actor=actor, action="customer.exported", entity_type="customer",
                              entity_id=customer.id)
    return data


def erase(session: Session, *, actor: Actor, customer_id: int) -> Customer:
    """Erase a customer's personal data as the registry says, for the customer and the records merged into them;
    orders, tags and memberships stay for anonymous aggregates."""
    actor.require(Permission.BULK)
    actor.require(Permission.SEE_PII)
    customer = customers_service.lock_customers(session, actor=actor, ids=[customer_id])[customer_id]
    customers_service.require_active(customer)
    same_person = [customer.id, *customers_service.merged_into(session, customer_id=customer.id)]
    registry.erase_all(session, customer_ids=same_person)
    customers_service.erase(session, actor=actor, customer=customer)
    workspaces_service.record(session, actor=actor, action="customer.erased", entity_type="customer",
                              entity_id=customer.id)
    return customer
