"""OneID: identities normalised and matched, customers created or resolved from them, identities attached."""

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.customers import identities
from yutang.customers.memberships import join_channel
from yutang.customers.models import Customer, CustomerIdentity
from yutang.customers.profile import PROFILE_FIELDS, apply_fields, emit_changed, require_active, state_payload
from yutang.customers.reading import ACTIVE, get_customer, pii_key
from yutang.customers.schemas import PERSONAL, CustomerFields, CustomerIn, IdentityIn, IdentityKind, NewPerson
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, FieldError, Invalid, NotFound
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


def normalise_identities(session: Session, *, identities_in: list[IdentityIn],
                         field: str = "identities") -> list[tuple[IdentityIn, str, str]]:
    """Validate and normalise identities; every bad one is named by its index."""
    key = pii_key(session)
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
        assigned = assigned if assigned in actor.team else actor.member_id
    elif assigned is not None:
        workspaces_service.get_member(session, actor=actor, member_id=assigned)
    customer = Customer(
        workspace_id=actor.workspace_id, status=ACTIVE, first_channel_id=first_channel_id,
        source_campaign=data.source_campaign, first_seen_at=data.first_seen_at or utcnow(),
        assigned_member_id=assigned, attributes={},
    )
    apply_fields(customer, data, overwrite=True)
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
    key = pii_key(session)
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
    outbox.emit_many(session, workspace_id=actor.workspace_id, topic=Topic.CUSTOMER_CHANGED, changes=[
        (customer_id, state_payload({**row, "id": customer_id}, [(kind, "") for kind in kinds[customer_id]]))
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
    changed = apply_fields(customer, data, overwrite=True)
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
