"""Which customers a search matches: free text (name, any id, `#id`, a phone's last four digits), channel,
status and a customer-id subquery; one Select shared by the list, its count, bulk tagging and export."""

import re
from dataclasses import dataclass

from sqlalchemy import Select, Subquery, or_, select
from sqlalchemy.orm import Session

from yutang.customers import identities
from yutang.customers.models import ChannelMembership, Customer, CustomerIdentity
from yutang.customers.schemas import IdentityIn, IdentityKind
from yutang.kit.errors import Invalid
from yutang.workspaces.access import Actor

_CUSTOMER_ID = re.compile(r"#?\s*(\d{1,18})")
_PHONE_TAIL = re.compile(r"\d{4}")


@dataclass(frozen=True)
class Criteria:
    """A search as the list, bulk tagging and export take it."""

    q: str | None = None
    name: str | None = None
    identity: IdentityIn | None = None
    channel_id: int | None = None
    status: str | None = "active"
    restrict_to: Select | None = None


def matching(session: Session, *, actor: Actor, criteria: Criteria, base: Select) -> Select:
    """`base` (a Select over Customer the actor may see) narrowed to the customers the criteria match."""
    query = base
    if criteria.status:
        query = query.where(Customer.status == criteria.status)
    if criteria.name:
        query = query.where(Customer.name.contains(criteria.name, autoescape=True))
    if criteria.q and criteria.q.strip():
        query = query.where(text_match(session, actor=actor, text=criteria.q))
    if criteria.identity is not None:
        query = query.where(Customer.id.in_(identity_match(session, actor=actor, identity=criteria.identity)))
    if criteria.channel_id is not None:
        members = select(ChannelMembership.customer_id).where(
            ChannelMembership.channel_id == criteria.channel_id, ChannelMembership.workspace_id == actor.workspace_id,
            ChannelMembership.left_at.is_(None))
        query = query.where(or_(Customer.first_channel_id == criteria.channel_id, Customer.id.in_(members)))
    if criteria.restrict_to is not None:
        query = query.where(Customer.id.in_(criteria.restrict_to))
    return query


def text_match(session: Session, *, actor: Actor, text: str):
    """What a search box matches: the name, any identity exactly, the id shown as `#29169` or `29169`, and
    a phone whose last four digits (手机尾号) are the text."""
    text = text.strip()
    clauses = [Customer.name.contains(text, autoescape=True),
               Customer.id.in_(_identity_text_match(session, actor, text))]
    if found := _CUSTOMER_ID.fullmatch(text):
        clauses.append(Customer.id == int(found.group(1)))
    if _PHONE_TAIL.fullmatch(text):
        clauses.append(Customer.id.in_(
            select(CustomerIdentity.customer_id).where(CustomerIdentity.workspace_id == actor.workspace_id,
                                                       CustomerIdentity.kind == IdentityKind.PHONE.value,
                                                       CustomerIdentity.value.endswith(text))))
    return or_(*clauses)


def identity_match(session: Session, *, actor: Actor, identity: IdentityIn) -> Select:
    """Ids of the customers holding exactly this identity."""
    try:
        _, lookup = identities.normalise(identity, pii_key=session.info["pii_key"])
    except ValueError as exc:
        raise Invalid(str(exc), field="identity") from exc
    return select(CustomerIdentity.customer_id).where(
        CustomerIdentity.workspace_id == actor.workspace_id, CustomerIdentity.kind == identity.kind.value,
        CustomerIdentity.namespace == identity.namespace, CustomerIdentity.lookup == lookup)


def _identity_text_match(session: Session, actor: Actor, text: str) -> Select:
    # Free text may be a phone, an email or any raw id: try each kind that parses, match exactly.
    key = session.info["pii_key"]
    lookups = [text]
    for kind in (IdentityKind.PHONE, IdentityKind.EMAIL):
        try:
            lookups.append(identities.normalise(IdentityIn(kind=kind, value=text), pii_key=key)[1])
        except ValueError:
            continue
    return select(CustomerIdentity.customer_id).where(CustomerIdentity.workspace_id == actor.workspace_id,
                                                      CustomerIdentity.lookup.in_(lookups))


SORTS = ("created", "name", "spend", "last_purchase")


def page_ids(session: Session, *, matched: Select, sort: str, descending: bool, offset: int, limit: int,
             facts: Subquery | None = None) -> list[int]:
    """One page of the ids a search matched (a Select of Customer ids), sorted by name, creation, or a column of
    `facts` (a subquery keyed by customer_id with spend_fen and last_paid_at); blanks last, ties newest first."""
    if sort not in SORTS:
        raise Invalid(f"sort by one of {', '.join(SORTS)}", field="sort")
    query = matched
    if sort == "name":
        key = Customer.name
    elif sort == "created":
        key = Customer.id  # ids grow with creation time, and the id is indexed
    else:
        if facts is None:
            raise Invalid(f"cannot sort by {sort} here", field="sort")
        query = query.outerjoin(facts, facts.c.customer_id == Customer.id)
        key = facts.c.spend_fen if sort == "spend" else facts.c.last_paid_at
    ordered = key.desc().nulls_last() if descending else key.asc().nulls_last()
    query = query.order_by(ordered) if sort == "created" else query.order_by(ordered, Customer.id.desc())
    return list(session.scalars(query.offset(offset).limit(limit)))
