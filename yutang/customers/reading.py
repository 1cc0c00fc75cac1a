"""Finding and showing customers: who an actor may see, search, identities, the API shape."""

from sqlalchemy import Row, Select, Subquery, func, select
from sqlalchemy.orm import Session

from yutang.customers import identities, listing
from yutang.customers.models import Customer, CustomerIdentity
from yutang.customers.schemas import CustomerOut, IdentityIn, IdentityOut
from yutang.kit.errors import NotFound
from yutang.kit.pii import mask_name
from yutang.workspaces.access import Actor, Permission

ACTIVE = "active"
MERGED = "merged"
ERASED = "erased"


def pii_key(session: Session) -> str:
    # The HMAC key is configuration, carried by the session factory so services need no settings argument.
    return session.info["pii_key"]


def visible(actor: Actor) -> Select:
    """Select of the customers this actor may see (workspace, and a guide's own customers only)."""
    query = select(Customer).where(Customer.workspace_id == actor.workspace_id)
    if actor.sees_own_customers_only:
        query = query.where(Customer.assigned_member_id.in_(sorted(actor.owners_seen)))
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
    criteria = listing.Criteria(q=q, name=name, identity=identity, channel_id=channel_id, status=status,
                                restrict_to=restrict_to)
    query = listing.matching(session, actor=actor, criteria=criteria, base=visible(actor))
    if before_id is not None:
        query = query.where(Customer.id < before_id)
    return list(session.scalars(query.order_by(Customer.id.desc()).limit(limit)))


def matching_ids(session: Session, *, actor: Actor, criteria: listing.Criteria) -> Select:
    """Subquery of the ids of the customers the actor may see that a search matches."""
    actor.require(Permission.READ)
    return listing.matching(session, actor=actor, criteria=criteria, base=visible_ids(actor))


def count_matching(session: Session, *, actor: Actor, criteria: listing.Criteria) -> int:
    """How many customers the actor may see a search matches."""
    return session.scalar(select(func.count()).select_from(
        matching_ids(session, actor=actor, criteria=criteria).subquery()))


def page_matching(session: Session, *, actor: Actor, criteria: listing.Criteria, sort: str = "created",
                  descending: bool = True, offset: int = 0, limit: int = 50,
                  facts: Subquery | None = None) -> list[int]:
    """The ids of one page of a search's matches in the chosen order (see listing.page_ids)."""
    return listing.page_ids(session, matched=matching_ids(session, actor=actor, criteria=criteria), sort=sort,
                            descending=descending, offset=offset, limit=limit, facts=facts)


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


def display_names(session: Session, *, actor: Actor, customer_ids: list[int]) -> dict[int, str]:
    """The names of those of the customers the actor may see, masked unless their role may see personal data."""
    see_pii = actor.can(Permission.SEE_PII)
    names: dict[int, str] = {}
    for start in range(0, len(customer_ids), 1_000):
        query = visible(actor).with_only_columns(Customer.id, Customer.name).where(
            Customer.id.in_(customer_ids[start:start + 1_000]))
        names.update({cid: (name if see_pii else mask_name(name)) for cid, name in session.execute(query) if name})
    return names


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


def visible_by_id(session: Session, *, actor: Actor, customer_ids: set[int] | list[int]) -> list[Customer]:
    """The customers with these ids the actor may see (any status), by id."""
    return list(session.scalars(visible(actor).where(Customer.id.in_(sorted(customer_ids))).order_by(Customer.id)))


def active_ids(*, workspace_id: int) -> Select:
    """Subquery of the ids of the workspace's active customers (no role filter: for workspace-wide counts)."""
    return select(Customer.id).where(Customer.workspace_id == workspace_id, Customer.status == ACTIVE)


def visible_active(session: Session, *, actor: Actor, customer_ids: list[int]) -> set[int]:
    """Those of the ids that are active customers the actor may see."""
    wanted = sorted(set(customer_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), 1000):
        found.update(session.scalars(visible_ids(actor).where(Customer.id.in_(wanted[start:start + 1000]),
                                                              Customer.status == ACTIVE)))
    return found


def sending_facts(session: Session, *, actor: Actor, customer_ids: list[int]) -> list[Row]:
    """For bulk sends, plain rows (id, name, city, status, refuses_personalised) of the customers the actor may
    see; rows, not ORM objects, since at broadcast sizes the identity map is most of the cost."""
    return list(session.execute(visible(actor).with_only_columns(
        Customer.id, Customer.name, Customer.city, Customer.status, Customer.refuses_personalised)
        .where(Customer.id.in_(customer_ids))).all())


def identity_values(session: Session, *, customer_ids: list[int], kind: str,
                    namespace: str | None = None) -> dict[int, str]:
    """Each customer's newest identity value of a kind (in a namespace, when given): the address on a channel."""
    found: dict[int, str] = {}
    for start in range(0, len(customer_ids), 1000):
        query = select(CustomerIdentity.customer_id, CustomerIdentity.value).where(
            CustomerIdentity.customer_id.in_(customer_ids[start:start + 1000]), CustomerIdentity.kind == kind)
        if namespace is not None:
            query = query.where(CustomerIdentity.namespace == namespace)
        for customer_id, value in session.execute(query.order_by(CustomerIdentity.id)):
            found[customer_id] = value  # ascending ids: the newest is written last
    return found


def count_active(session: Session, *, actor: Actor) -> int:
    """How many active customers the actor can see."""
    return session.scalar(select(func.count()).select_from(visible(actor).where(Customer.status == ACTIVE).subquery()))
