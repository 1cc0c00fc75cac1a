"""Customers and what hangs directly off them: OneID matching, profile, consents, notes, memberships."""

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.customers import identities
from yutang.customers.models import (
    ChannelMembership,
    ConsentEntry,
    Customer,
    CustomerIdentity,
    CustomerNote,
    MergeRecord,
)
from yutang.customers.schemas import (
    PERSONAL,
    ConsentChannel,
    ConsentIn,
    ConsentStatus,
    CustomerFields,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    IdentityIn,
    IdentityKind,
    IdentityOut,
    NewPerson,
    NoteIn,
)
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, FieldError, Invalid, NotFound
from yutang.kit.pii import mask_name
from yutang.storage import outbox
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission, Role

ACTIVE = "active"
MERGED = "merged"
ERASED = "erased"
PROFILE_FIELDS = ("name", "gender", "birthday", "province", "city")
# What the warehouse replica holds of a customer (never names or identity values).
STATE_FIELDS = ("id", "status", "gender", "birthday", "province", "city", "first_channel_id", "source_campaign",
                "merged_into_id", "refuses_personalised", "assigned_member_id", "first_seen_at")


def _pii_key(session: Session) -> str:
    # The HMAC key is configuration, carried by the session factory so services need no settings argument.
    return session.info["pii_key"]


# ---- reading -------------------------------------------------------------------------------------------


def visible(actor: Actor) -> Select:
    """Select of the customers this actor may see (workspace, and a guide's own customers only)."""
    query = select(Customer).where(Customer.workspace_id == actor.workspace_id)
    if actor.sees_own_customers_only:
        query = query.where(Customer.assigned_member_id == actor.member_id)
    return query


def visible_ids(actor: Actor) -> Select:
    """Subquery of the ids of customers this actor may see."""
    return visible(actor).with_only_columns(Customer.id)


def get_customer(session: Session, *, actor: Actor, customer_id: int, for_update: bool = False) -> Customer:
    """A customer the actor may see, by id (merged and erased tombstones included)."""
    actor.require(Permission.READ)
    query = visible(actor).where(Customer.id == customer_id)
    if for_update:
        query = query.with_for_update()
    customer = session.scalar(query)
    if customer is None:
        raise NotFound("no such customer", field="customer_id")
    return customer


def lock_customers(session: Session, *, actor: Actor, ids: list[int]) -> dict[int, Customer]:
    """Lock customer rows in primary-key order (avoids deadlocks when two merges cross)."""
    found = {}
    for customer_id in sorted(set(ids)):
        found[customer_id] = get_customer(session, actor=actor, customer_id=customer_id, for_update=True)
    return found


def search(session: Session, *, actor: Actor, q: str | None = None, name: str | None = None,
           identity: IdentityIn | None = None, channel_id: int | None = None, status: str = ACTIVE,
           restrict_to: Select | None = None, before_id: int | None = None, limit: int = 50) -> list[Customer]:
    """Customers newest first, filtered by free text, name, identity, channel or a customer-id subquery."""
    actor.require(Permission.READ)
    query = visible(actor)
    if status:
        query = query.where(Customer.status == status)
    if name:
        query = query.where(Customer.name.contains(name, autoescape=True))
    if q:
        query = query.where(or_(Customer.name.contains(q.strip(), autoescape=True),
                                Customer.id.in_(_identity_text_match(session, actor, q))))
    if identity is not None:
        query = query.where(Customer.id.in_(_identity_match(session, actor, identity)))
    if channel_id is not None:
        members = select(ChannelMembership.customer_id).where(ChannelMembership.channel_id == channel_id,
                                                              ChannelMembership.workspace_id == actor.workspace_id,
                                                              ChannelMembership.left_at.is_(None))
        query = query.where(or_(Customer.first_channel_id == channel_id, Customer.id.in_(members)))
    if restrict_to is not None:
        query = query.where(Customer.id.in_(restrict_to))
    if before_id is not None:
        query = query.where(Customer.id < before_id)
    return list(session.scalars(query.order_by(Customer.id.desc()).limit(limit)))


def _identity_match(session: Session, actor: Actor, identity: IdentityIn) -> Select:
    try:
        _, lookup = identities.normalise(identity, pii_key=_pii_key(session))
    except ValueError as exc:
        raise Invalid(str(exc), field="identity") from exc
    return select(CustomerIdentity.customer_id).where(
        CustomerIdentity.workspace_id == actor.workspace_id, CustomerIdentity.kind == identity.kind.value,
        CustomerIdentity.namespace == identity.namespace, CustomerIdentity.lookup == lookup)


def _identity_text_match(session: Session, actor: Actor, text: str) -> Select:
    # Free text may be a phone, an email or any raw id: try each kind that parses, match exactly.
    text = text.strip()
    key = _pii_key(session)
    lookups = [text]
    for kind in (IdentityKind.PHONE, IdentityKind.EMAIL):
        try:
            lookups.append(identities.normalise(IdentityIn(kind=kind, value=text), pii_key=key)[1])
        except ValueError:
            continue
    return select(CustomerIdentity.customer_id).where(CustomerIdentity.workspace_id == actor.workspace_id,
                                                      CustomerIdentity.lookup.in_(lookups))


def identities_of(session: Session, *, customer_ids: list[int]) -> dict[int, list[CustomerIdentity]]:
    """Identities per customer id, oldest first."""
    result: dict[int, list[CustomerIdentity]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return result
    rows = session.scalars(select(CustomerIdentity).where(CustomerIdentity.customer_id.in_(customer_ids))
                           .order_by(CustomerIdentity.id))
    for row in rows:
        result[row.customer_id].append(row)
    return result


def present(session: Session, *, actor: Actor, customers: list[Customer]) -> list[CustomerOut]:
    """API shapes for customers, with identities and personal data masked unless the role may see it."""
    see_pii = actor.can(Permission.SEE_PII)
    by_customer = identities_of(session, customer_ids=[c.id for c in customers])
    out = []
    for customer in customers:
        shape = CustomerOut(
            id=customer.id, status=customer.status,
            name=customer.name if see_pii or not customer.name else mask_name(customer.name),
            gender=customer.gender, birthday=customer.birthday if see_pii else None,
            province=customer.province, city=customer.city, attributes=customer.attributes or {},
            first_channel_id=customer.first_channel_id, source_campaign=customer.source_campaign,
            first_seen_at=customer.first_seen_at, assigned_member_id=customer.assigned_member_id,
            refuses_personalised=customer.refuses_personalised, merged_into_id=customer.merged_into_id,
            created_at=customer.created_at,
            identities=[IdentityOut(id=i.id, kind=i.kind, namespace=i.namespace, created_at=i.created_at,
                                    value=identities.display(i.kind, i.value, see_pii=see_pii))
                        for i in by_customer[customer.id]],
        )
        out.append(shape)
    return out


# ---- OneID ---------------------------------------------------------------------------------------------


def normalise_identities(session: Session, *, identities_in: list[IdentityIn],
                         field: str = "identities") -> list[tuple[IdentityIn, str, str]]:
    """Validate and normalise identities; every bad one is named by its index."""
    key = _pii_key(session)
    result, errors = [], []
    for index, identity in enumerate(identities_in):
        try:
            value, lookup = identities.normalise(identity, pii_key=key)
        except ValueError as exc:
            errors.append(FieldError(field=f"{field}[{index}].value", message=str(exc)))
            continue
        result.append((identity, value, lookup))
    if errors:
        raise Invalid(errors[0].message, errors)
    return result


def match(session: Session, *, actor: Actor, identities_in: list[IdentityIn]) -> list[int]:
    """Ids of active customers holding any of the identities, in the order the identities were given."""
    normalised = normalise_identities(session, identities_in=identities_in)
    found: list[int] = []
    for identity, _, lookup in normalised:
        customer_id = session.scalar(
            select(CustomerIdentity.customer_id)
            .join(Customer, Customer.id == CustomerIdentity.customer_id)
            .where(CustomerIdentity.workspace_id == actor.workspace_id, CustomerIdentity.kind == identity.kind.value,
                   CustomerIdentity.namespace == identity.namespace, CustomerIdentity.lookup == lookup,
                   Customer.status == ACTIVE))
        if customer_id is not None and customer_id not in found:
            found.append(customer_id)
    return found


def lookup_many(session: Session, *, actor: Actor, kind: IdentityKind, values: set[str],
                namespace: str = "") -> dict[str, int]:
    """Active customers holding non-personal identities (app user ids, anonymous ids), keyed by value."""
    if kind in PERSONAL or not values:
        return {}
    found: dict[str, int] = {}
    ordered = sorted(values)
    for start in range(0, len(ordered), 1000):  # stay well under any bind-parameter limit
        rows = session.execute(
            select(CustomerIdentity.lookup, CustomerIdentity.customer_id)
            .join(Customer, Customer.id == CustomerIdentity.customer_id)
            .where(CustomerIdentity.workspace_id == actor.workspace_id, CustomerIdentity.kind == kind.value,
                   CustomerIdentity.namespace == namespace, CustomerIdentity.lookup.in_(ordered[start:start + 1000]),
                   Customer.status == ACTIVE))
        found.update(dict(rows.all()))
    return found


def create(session: Session, *, actor: Actor, data: CustomerIn) -> Customer:
    """Create a customer with their identities; an identity already held by someone else is a conflict."""
    actor.require(Permission.WRITE)
    first_channel_id = None
    if data.first_channel:
        first_channel_id = channels_service.find_channel(session, actor=actor, code=data.first_channel,
                                                         field="first_channel").id
    assigned = data.assigned_member_id
    if actor.sees_own_customers_only:
        assigned = actor.member_id
    elif assigned is not None:
        workspaces_service.get_member(session, actor=actor, member_id=assigned)
    customer = Customer(
        workspace_id=actor.workspace_id, status=ACTIVE, first_channel_id=first_channel_id,
        source_campaign=data.source_campaign, first_seen_at=data.first_seen_at or utcnow(),
        assigned_member_id=assigned, attributes={},
    )
    _apply_fields(customer, data, overwrite=True)
    session.add(customer)
    session.flush()
    attach_identities(session, actor=actor, customer=customer, identities_in=data.identities)
    if first_channel_id is not None:
        join_channel(session, actor=actor, customer=customer, channel_id=first_channel_id,
                     joined_at=customer.first_seen_at)
    workspaces_service.record(session, actor=actor, action="customer.created", entity_type="customer",
                              entity_id=customer.id, changes={"identities": [i.kind.value for i in data.identities]})
    emit_changed(session, customer=customer)
    return customer


def create_many(session: Session, *, actor: Actor, people: list[NewPerson],
                profiles: list[CustomerFields | None] | None = None) -> list[int | None]:
    """Create many customers known by identities without a namespace, with optional profiles, in a few statements.

    For event traffic that keeps bringing new people: no channel, nothing to match but the identities. A person
    with an invalid identity, or one already held (or repeated within the call), gets None, for the one-by-one
    upsert.
    """
    actor.require(Permission.WRITE)
    key = _pii_key(session)
    normalised: list[list[tuple[IdentityKind, str, str]]] = []
    wanted: dict[IdentityKind, set[str]] = {}
    for ids, _ in people:
        try:
            triples = [(kind, *identities.normalise(IdentityIn(kind=kind, value=value), pii_key=key))
                       for kind, value in ids]
        except ValueError:  # pydantic's ValidationError included
            triples = []
        normalised.append(triples if all(value for _, value, _ in triples) else [])
        for kind, _, lookup in normalised[-1]:
            wanted.setdefault(kind, set()).add(lookup)
    taken = {(kind, lookup) for kind, lookups in wanted.items()
             for lookup in _held(session, actor=actor, kind=kind, values=lookups)}
    chosen: list[int] = []
    for index, triples in enumerate(normalised):
        keys = {(kind, lookup) for kind, _, lookup in triples}
        if triples and not keys & taken and len(keys) == len(triples):
            taken |= keys
            chosen.append(index)
    if not chosen:
        return [None] * len(people)
    now = utcnow()
    rows = []
    for index in chosen:
        profile = (profiles[index] if profiles else None) or CustomerFields()
        fields = {name: getattr(getattr(profile, name), "value", getattr(profile, name)) for name in PROFILE_FIELDS}
        rows.append({"workspace_id": actor.workspace_id, "status": ACTIVE, "attributes": profile.attributes or {},
                     "refuses_personalised": False, "first_seen_at": people[index][1], "created_at": now, **fields})
    # Core inserts on the tables: the ORM's bulk path costs more per row than the database does.
    customers, held = Customer.__table__, CustomerIdentity.__table__
    ids = list(session.scalars(insert(customers).returning(customers.c.id, sort_by_parameter_order=True), rows))
    session.execute(insert(held), [
        {"workspace_id": actor.workspace_id, "customer_id": customer_id, "kind": kind.value,
         "namespace": "", "value": value, "lookup": lookup, "created_at": now}
        for customer_id, index in zip(ids, chosen, strict=True) for kind, value, lookup in normalised[index]])
    kinds = {customer_id: sorted({kind.value for kind, _, _ in normalised[index]})
             for customer_id, index in zip(ids, chosen, strict=True)}
    workspaces_service.record_many(session, actor=actor, action="customer.created", entity_type="customer",
                                   entries=[(customer_id, {"identities": kinds[customer_id]}) for customer_id in ids])
    outbox.emit_many(session, workspace_id=actor.workspace_id, topic="customer.changed", changes=[
        (customer_id, _state({**row, "id": customer_id}, [(kind, "") for kind in kinds[customer_id]]))
        for customer_id, row in zip(ids, rows, strict=True)])
    result: list[int | None] = [None] * len(people)
    for customer_id, index in zip(ids, chosen, strict=True):
        result[index] = customer_id
    return result


def _held(session: Session, *, actor: Actor, kind: IdentityKind, values: set[str]) -> set[str]:
    # Any holder counts, merged and erased customers included: the unique key spans them all.
    held: set[str] = set()
    ordered = sorted(values)
    for start in range(0, len(ordered), 1000):
        held.update(session.scalars(select(CustomerIdentity.lookup).where(
            CustomerIdentity.workspace_id == actor.workspace_id, CustomerIdentity.kind == kind.value,
            CustomerIdentity.namespace == "", CustomerIdentity.lookup.in_(ordered[start:start + 1000]))))
    return held


def update_from(session: Session, *, actor: Actor, customer: Customer, data: CustomerIn) -> bool:
    """Fold an upsert into an existing customer (given fields overwrite, new identities attach); True if changed."""
    actor.require(Permission.WRITE)
    changed = _apply_fields(customer, data, overwrite=True)
    if data.first_channel and customer.first_channel_id is None:
        customer.first_channel_id = channels_service.find_channel(session, actor=actor, code=data.first_channel,
                                                                  field="first_channel").id
        changed["first_channel_id"] = customer.first_channel_id
    if data.first_channel:
        channel = channels_service.find_channel(session, actor=actor, code=data.first_channel, field="first_channel")
        if join_channel(session, actor=actor, customer=customer, channel_id=channel.id,
                        joined_at=data.first_seen_at) is not None:
            changed["channels"] = channel.id
    if data.source_campaign and not customer.source_campaign:
        customer.source_campaign = data.source_campaign
        changed["source_campaign"] = data.source_campaign
    added = attach_identities(session, actor=actor, customer=customer, identities_in=data.identities)
    if changed or added:
        customer.updated_at = utcnow()
        workspaces_service.record(session, actor=actor, action="customer.updated", entity_type="customer",
                                  entity_id=customer.id,
                                  changes={"fields": sorted(changed), "identities_added": added})
        emit_changed(session, customer=customer)
    return bool(changed or added)


def resolve_or_create(session: Session, *, actor: Actor, data: CustomerIn) -> tuple[Customer, bool]:
    """Find the customer the identities point to (first match wins, no merge) or create one."""
    found = match(session, actor=actor, identities_in=data.identities)
    if not found:
        return create(session, actor=actor, data=data), True
    customer = get_customer(session, actor=actor, customer_id=found[0])
    # Attach only the identities no one else holds: without an explicit merge, one person's id is never moved.
    free = [i for i in data.identities if not match(session, actor=actor, identities_in=[i])]
    update_from(session, actor=actor, customer=customer, data=data.model_copy(update={"identities": free}))
    return customer, False


def _apply_fields(customer: Customer, data: CustomerFields, *, overwrite: bool) -> dict[str, Any]:
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


def attach_identities(session: Session, *, actor: Actor, customer: Customer,
                      identities_in: list[IdentityIn]) -> list[str]:
    """Attach identities to a customer; one held by another customer is a 409 naming it."""
    added = []
    for index, (identity, value, lookup) in enumerate(normalise_identities(session, identities_in=identities_in)):
        holder = session.scalar(select(CustomerIdentity).where(
            CustomerIdentity.workspace_id == actor.workspace_id, CustomerIdentity.kind == identity.kind.value,
            CustomerIdentity.namespace == identity.namespace, CustomerIdentity.lookup == lookup))
        if holder is not None:
            if holder.customer_id != customer.id:
                raise Conflict(f"this {identity.kind.value} belongs to customer {holder.customer_id}; merge instead",
                               field=f"identities[{index}]")
            continue
        session.add(CustomerIdentity(workspace_id=actor.workspace_id, customer_id=customer.id,
                                     kind=identity.kind.value, namespace=identity.namespace, value=value,
                                     lookup=lookup))
        added.append(identity.kind.value)
    session.flush()
    return added


def add_identities(session: Session, *, actor: Actor, customer_id: int, identities_in: list[IdentityIn]) -> Customer:
    """Attach identities to an active customer the actor may change."""
    actor.require(Permission.WRITE)
    customer = get_customer(session, actor=actor, customer_id=customer_id)
    require_active(customer)
    added = attach_identities(session, actor=actor, customer=customer, identities_in=identities_in)
    if added:
        workspaces_service.record(session, actor=actor, action="customer.identities_added", entity_type="customer",
                                  entity_id=customer.id, changes={"kinds": added})
        emit_changed(session, customer=customer)
    return customer


def remove_identity(session: Session, *, actor: Actor, customer: Customer, identity_id: int) -> None:
    """Detach one identity from a customer."""
    actor.require(Permission.WRITE)
    row = session.get(CustomerIdentity, identity_id)
    if row is None or row.customer_id != customer.id:
        raise NotFound("no such identity on this customer", field="identity_id")
    session.delete(row)
    workspaces_service.record(session, actor=actor, action="customer.identity_removed", entity_type="customer",
                              entity_id=customer.id, changes={"kind": row.kind})
    emit_changed(session, customer=customer)


def update_customer(session: Session, *, actor: Actor, customer_id: int, data: CustomerPatch) -> Customer:
    """Change profile fields or the assigned guide (guides may not reassign)."""
    actor.require(Permission.WRITE)
    customer = get_customer(session, actor=actor, customer_id=customer_id)
    require_active(customer)
    changed = _apply_fields(customer, data, overwrite=True)
    provided = data.model_fields_set
    if "assigned_member_id" in provided and data.assigned_member_id != customer.assigned_member_id:
        if actor.role is Role.GUIDE:
            raise Invalid("a guide may not reassign customers", field="assigned_member_id")
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


def emit_changed(session: Session, *, customer: Customer) -> None:
    """Tell the warehouse a customer's new state: profile and identity kinds, never phone or email values."""
    session.flush()
    kinds = session.execute(select(CustomerIdentity.kind, CustomerIdentity.namespace).distinct()
                            .where(CustomerIdentity.customer_id == customer.id)).all()
    outbox.emit(session, workspace_id=customer.workspace_id, topic="customer.changed", entity_id=customer.id,
                payload=_state({name: getattr(customer, name) for name in STATE_FIELDS}, kinds))


def _state(values: dict[str, Any], kinds: list[tuple[str, str]]) -> dict[str, Any]:
    state = {name: _jsonable(values.get(name)) for name in STATE_FIELDS}
    state["refuses_personalised"] = bool(state["refuses_personalised"])
    return {**state, "identities": [{"kind": kind, "namespace": namespace} for kind, namespace in kinds]}


# ---- channels, consents, notes ------------------------------------------------------------------------


def join_channel(session: Session, *, actor: Actor, customer: Customer, channel_id: int,
                 joined_at: datetime | None = None) -> ChannelMembership | None:
    """Record that the customer is present in a channel; returns the membership if it changed, else None."""
    membership = session.scalar(select(ChannelMembership).where(ChannelMembership.customer_id == customer.id,
                                                                ChannelMembership.channel_id == channel_id))
    if membership is None:
        membership = ChannelMembership(workspace_id=actor.workspace_id, customer_id=customer.id,
                                       channel_id=channel_id, joined_at=joined_at or utcnow())
        session.add(membership)
        session.flush()
        _emit_membership(session, membership)
        return membership
    if membership.left_at is not None:
        membership.left_at = None
        _emit_membership(session, membership)
        return membership
    return None


def _emit_membership(session: Session, membership: ChannelMembership) -> None:
    outbox.emit(session, workspace_id=membership.workspace_id, topic="membership.changed",
                entity_id=membership.customer_id,
                payload={"customer_id": membership.customer_id, "channel_id": membership.channel_id,
                         "joined_at": _jsonable(membership.joined_at), "left_at": _jsonable(membership.left_at)})


def leave_channel(session: Session, *, actor: Actor, customer: Customer, channel_id: int,
                  at: datetime | None = None) -> ChannelMembership | None:
    """Record that the customer left a channel (unfollowed, deleted the contact); the membership if it changed."""
    membership = session.scalar(select(ChannelMembership).where(ChannelMembership.customer_id == customer.id,
                                                                ChannelMembership.channel_id == channel_id))
    if membership is None or membership.left_at is not None:
        return None
    membership.left_at = at or utcnow()
    _emit_membership(session, membership)
    return membership


def record_membership(session: Session, *, actor: Actor, customer_id: int, channel_code: str, joined: bool,
                      at: datetime | None = None) -> list[ChannelMembership]:
    """A customer joined (followed, added the contact) or left a channel; returns their memberships."""
    actor.require(Permission.WRITE)
    customer = get_customer(session, actor=actor, customer_id=customer_id)
    require_active(customer)
    channel = channels_service.find_channel(session, actor=actor, code=channel_code, field="channel")
    if joined:
        changed = join_channel(session, actor=actor, customer=customer, channel_id=channel.id, joined_at=at)
    else:
        changed = leave_channel(session, actor=actor, customer=customer, channel_id=channel.id, at=at)
    if changed is not None:
        workspaces_service.record(session, actor=actor, action="customer.joined" if joined else "customer.left",
                                  entity_type="customer", entity_id=customer.id, changes={"channel": channel.code})
    return memberships_of(session, customer_id=customer.id)


def memberships_of(session: Session, *, customer_id: int) -> list[ChannelMembership]:
    """A customer's channel memberships, earliest first."""
    return list(session.scalars(select(ChannelMembership).where(ChannelMembership.customer_id == customer_id)
                                .order_by(ChannelMembership.joined_at, ChannelMembership.id)))


def record_consent(session: Session, *, actor: Actor, customer_id: int, data: ConsentIn) -> ConsentEntry:
    """Append a consent decision; withdrawing personalised marketing sets the refusal flag."""
    actor.require(Permission.WRITE)
    customer = get_customer(session, actor=actor, customer_id=customer_id)
    require_active(customer)
    entry = ConsentEntry(workspace_id=actor.workspace_id, customer_id=customer.id, channel=data.channel.value,
                         status=data.status.value, method=data.method, source=data.source,
                         occurred_at=data.occurred_at or utcnow(), member_id=actor.member_id)
    session.add(entry)
    if data.channel is ConsentChannel.PERSONALISED_MARKETING:
        customer.refuses_personalised = data.status is ConsentStatus.WITHDRAWN
    session.flush()
    workspaces_service.record(session, actor=actor, action="customer.consent", entity_type="customer",
                              entity_id=customer.id,
                              changes={"channel": data.channel.value, "status": data.status.value})
    outbox.emit(session, workspace_id=actor.workspace_id, topic="consent.changed", entity_id=customer.id,
                payload={"customer_id": customer.id, "channel": data.channel.value, "status": data.status.value,
                         "occurred_at": entry.occurred_at.isoformat()})
    emit_changed(session, customer=customer)
    return entry


def consent_ledger(session: Session, *, customer_id: int) -> list[ConsentEntry]:
    """All consent entries of a customer, in the order they took effect."""
    return list(session.scalars(select(ConsentEntry).where(ConsentEntry.customer_id == customer_id)
                                .order_by(ConsentEntry.occurred_at, ConsentEntry.id)))


def current_consents(session: Session, *, customer_id: int) -> dict[str, str]:
    """The status in force per channel (the latest entry wins)."""
    current: dict[str, str] = {}
    for entry in consent_ledger(session, customer_id=customer_id):
        current[entry.channel] = entry.status
    return current


def add_note(session: Session, *, actor: Actor, customer_id: int, data: NoteIn) -> CustomerNote:
    """Add a staff note to a customer."""
    actor.require(Permission.WRITE)
    customer = get_customer(session, actor=actor, customer_id=customer_id)
    require_active(customer)
    note = CustomerNote(workspace_id=actor.workspace_id, customer_id=customer.id, member_id=actor.member_id,
                        body=data.body)
    session.add(note)
    session.flush()
    workspaces_service.record(session, actor=actor, action="customer.note_added", entity_type="customer",
                              entity_id=customer.id, changes={"note_id": note.id})
    return note


def notes_of(session: Session, *, customer_id: int) -> list[CustomerNote]:
    """A customer's notes, newest first."""
    return list(session.scalars(select(CustomerNote).where(CustomerNote.customer_id == customer_id)
                                .order_by(CustomerNote.id.desc())))


def merges_of(session: Session, *, customer_id: int) -> list[MergeRecord]:
    """Merges this customer took part in, newest first."""
    return list(session.scalars(select(MergeRecord).where(or_(MergeRecord.winner_id == customer_id,
                                                               MergeRecord.loser_id == customer_id))
                                .order_by(MergeRecord.id.desc())))


def merged_into(session: Session, *, customer_id: int) -> list[int]:
    """Ids of the customers merged into this one (their tombstones point here, chains included)."""
    return list(session.scalars(select(Customer.id).where(Customer.merged_into_id == customer_id)
                                .order_by(Customer.id)))


# ---- merge and erase (the customer-domain part; archive composes the other domains) ------------------


def absorb(session: Session, *, actor: Actor, winner: Customer, loser: Customer, reason: str,
           moved_elsewhere: dict[str, int]) -> MergeRecord:
    """Move the loser's identities, memberships, consents and notes to the winner and tombstone the loser."""
    snapshot = {**{f: _jsonable(getattr(loser, f)) for f in PROFILE_FIELDS},
                "attributes": loser.attributes, "first_channel_id": loser.first_channel_id,
                "identities": [{"kind": i.kind, "namespace": i.namespace, "value": i.value}
                               for i in identities_of(session, customer_ids=[loser.id])[loser.id]]}
    moved = dict(moved_elsewhere)
    moved["identities"] = _move(session, CustomerIdentity, loser.id, winner.id)
    moved["consents"] = _move(session, ConsentEntry, loser.id, winner.id)
    moved["notes"] = _move(session, CustomerNote, loser.id, winner.id)
    moved["memberships"] = _move_memberships(session, loser.id, winner.id)
    _apply_fields(winner, CustomerFields(**{f: getattr(loser, f) for f in PROFILE_FIELDS}), overwrite=False)
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
    outbox.emit(session, workspace_id=actor.workspace_id, topic="customer.merged", entity_id=winner.id,
                payload={"winner_id": winner.id, "loser_id": loser.id, "reason": reason})
    emit_changed(session, customer=winner)
    emit_changed(session, customer=loser)
    for membership in memberships_of(session, customer_id=winner.id):
        _emit_membership(session, membership)
    return record


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


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
        "profile": {f: _jsonable(getattr(customer, f)) for f in PROFILE_FIELDS}
        | {"id": customer.id, "status": customer.status, "attributes": customer.attributes,
           "first_channel_id": customer.first_channel_id, "source_campaign": customer.source_campaign,
           "first_seen_at": _jsonable(customer.first_seen_at), "created_at": _jsonable(customer.created_at),
           "refuses_personalised": customer.refuses_personalised},
        "identities": [{"kind": i.kind, "namespace": i.namespace, "value": i.value,
                        "created_at": i.created_at.isoformat()}
                       for i in identities_of(session, customer_ids=[customer.id])[customer.id]],
        "channel_memberships": [{"channel_id": m.channel_id, "joined_at": _jsonable(m.joined_at),
                                 "left_at": _jsonable(m.left_at)}
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
    outbox.emit(session, workspace_id=actor.workspace_id, topic="customer.erased", entity_id=customer.id,
                payload={"id": customer.id})


def count_active(session: Session, *, actor: Actor) -> int:
    """How many active customers the actor can see."""
    return session.scalar(select(func.count()).select_from(visible(actor).where(Customer.status == ACTIVE).subquery()))
