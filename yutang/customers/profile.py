"""A customer's profile fields and state: change them, refuse changes to tombstones, tell the warehouse."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.customers.models import Customer, CustomerIdentity
from yutang.customers.reading import ERASED, MERGED, get_customer
from yutang.customers.schemas import CustomerFields, CustomerPatch
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission, Role

PROFILE_FIELDS = ("name", "gender", "birthday", "province", "city")
# What the warehouse replica holds of a customer (never names or identity values).
STATE_FIELDS = ("id", "status", "gender", "birthday", "province", "city", "first_channel_id", "source_campaign",
                "merged_into_id", "refuses_personalised", "assigned_member_id", "first_seen_at")


def apply_fields(customer: Customer, data: CustomerFields, *, overwrite: bool) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    for name in PROFILE_FIELDS:
        value = getattr(data, name)
        if value is None:
            continue
        if hasattr(value, "value"):
            value = value.value
        current = getattr(customer, name)
        if current != value and (overwrite or current is None):
            setattr(customer, name, value)
            changed[name] = value
    if data.attributes:
        merged = dict(customer.attributes or {})
        merged.update(data.attributes)
        if merged != customer.attributes:
            customer.attributes = merged
            changed["attributes"] = sorted(data.attributes)
    return changed


def update_customer(session: Session, *, actor: Actor, customer_id: int, data: CustomerPatch) -> Customer:
    """Change profile fields or the assigned guide (guides may not reassign)."""
    actor.require(Permission.WRITE)
    customer = get_customer(session, actor=actor, customer_id=customer_id)
    require_active(customer)
    changed = apply_fields(customer, data, overwrite=True)
    provided = data.model_fields_set
    if "assigned_member_id" in provided and data.assigned_member_id != customer.assigned_member_id:
        if actor.role is Role.GUIDE:
            raise Invalid("a guide may not reassign customers", field="assigned_member_id")
        if actor.sees_own_customers_only and data.assigned_member_id not in actor.owners_seen:
            raise Invalid("a manager may reassign only within their store or region", field="assigned_member_id")
        if data.assigned_member_id is not None:
            workspaces_service.get_member(session, actor=actor, member_id=data.assigned_member_id)
        customer.assigned_member_id = data.assigned_member_id
        changed["assigned_member_id"] = data.assigned_member_id
    if "source_campaign" in provided and data.source_campaign != customer.source_campaign:
        customer.source_campaign = data.source_campaign
        changed["source_campaign"] = data.source_campaign
    if changed:
        customer.updated_at = utcnow()
        workspaces_service.record(session, actor=actor, action="customer.updated", entity_type="customer",
                                  entity_id=customer.id, changes=changed)
        emit_changed(session, customer=customer)
    return customer


def require_active(customer: Customer) -> None:
    """Raise Conflict for merged or erased customers, which take no new data."""
    if customer.status == MERGED:
        raise Conflict(f"customer {customer.id} was merged into {customer.merged_into_id}", field="customer_id")
    if customer.status == ERASED:
        raise Conflict(f"customer {customer.id} was erased", field="customer_id")


def seen_at(session: Session, *, customer: Customer, at: datetime) -> None:
    """Move first_seen_at back to `at` when something older (an order, an event) shows up."""
    if customer.first_seen_at is None or at < customer.first_seen_at:
        customer.first_seen_at = at
        emit_changed(session, customer=customer)


def seen_many(session: Session, *, actor: Actor, earliest: dict[int, datetime]) -> int:
    """seen_at for many customers at once (the event loader's batches); returns how many moved back."""
    ids = sorted(earliest)
    later = []
    for start in range(0, len(ids), 1000):
        later += [customer_id for customer_id, first_seen in session.execute(
            select(Customer.id, Customer.first_seen_at).where(Customer.workspace_id == actor.workspace_id,
                                                              Customer.id.in_(ids[start:start + 1000])))
                  if first_seen is None or earliest[customer_id] < first_seen]
    for customer in session.scalars(select(Customer).where(Customer.id.in_(later)).order_by(Customer.id)):
        seen_at(session, customer=customer, at=earliest[customer.id])
    return len(later)


def emit_changed(session: Session, *, customer: Customer) -> None:
    """Tell the warehouse a customer's new state: profile and identity kinds, never phone or email values."""
    session.flush()
    kinds = session.execute(select(CustomerIdentity.kind, CustomerIdentity.namespace).distinct()
                            .where(CustomerIdentity.customer_id == customer.id)).all()
    outbox.emit(session, workspace_id=customer.workspace_id, topic=Topic.CUSTOMER_CHANGED, entity_id=customer.id,
                payload=state_payload({name: getattr(customer, name) for name in STATE_FIELDS}, kinds))


def state_payload(values: dict[str, Any], kinds: list[tuple[str, str]]) -> dict[str, Any]:
    state = {name: jsonable(values.get(name)) for name in STATE_FIELDS}
    state["refuses_personalised"] = bool(state["refuses_personalised"])
    return {**state, "identities": [{"kind": kind, "namespace": namespace} for kind, namespace in kinds]}


def jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
