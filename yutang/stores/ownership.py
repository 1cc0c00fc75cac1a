"""One owning guide per customer: the rule, the protection period, claims, moves by hand and their history."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerPatch
from yutang.kit.clock import utcnow
from yutang.kit.errors import Forbidden
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.stores.directory import get_store, member, staff_of_member
from yutang.stores.models import Ownership, OwnershipChange, OwnershipSettings
from yutang.stores.schemas import (
    ClaimIn,
    OwnerOut,
    OwnershipChangeOut,
    OwnershipReason,
    OwnershipRule,
    OwnershipSettingsIn,
    ReassignIn,
)
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission, Role


def settings_of(session: Session, *, actor: Actor) -> OwnershipSettings:
    """The workspace's ownership rule and protection period (defaults until set)."""
    actor.require(Permission.READ)
    found = session.scalar(select(OwnershipSettings).where(OwnershipSettings.workspace_id == actor.workspace_id))
    return found or OwnershipSettings(workspace_id=actor.workspace_id, rule=OwnershipRule.FIRST_ADD_WINS.value,
                                      protection_days=30)


def put_settings(session: Session, *, actor: Actor, data: OwnershipSettingsIn) -> OwnershipSettings:
    """Set the ownership rule and protection period."""
    actor.require(Permission.MANAGE)
    found = session.scalar(select(OwnershipSettings).where(OwnershipSettings.workspace_id == actor.workspace_id))
    if found is None:
        found = OwnershipSettings(workspace_id=actor.workspace_id)
        session.add(found)
    found.rule, found.protection_days = data.rule.value, data.protection_days
    session.flush()
    workspaces_service.record(session, actor=actor, action="ownership.settings", entity_type="workspace",
                              entity_id=actor.workspace_id, changes=data.model_dump(mode="json"))
    return found


def _current(session: Session, actor: Actor, customer_id: int) -> Ownership | None:
    return session.scalar(select(Ownership).where(Ownership.workspace_id == actor.workspace_id,
                                                  Ownership.customer_id == customer_id))


def move(session: Session, *, actor: Actor, customer_id: int, member_id: int | None, store_id: int | None,
         reason: OwnershipReason, note: str | None = None, now: datetime | None = None) -> Ownership:
    """Make `member_id` the customer's owner (None: release them), protected for the workspace's period; recorded."""
    now = now or utcnow()
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    settings = settings_of(session, actor=actor)
    current = _current(session, actor, customer.id)
    previous = current.member_id if current is not None else customer.assigned_member_id
    if current is None:
        current = Ownership(workspace_id=actor.workspace_id, customer_id=customer.id)
        session.add(current)
    current.member_id, current.store_id, current.since, current.reason = member_id, store_id, now, reason.value
    current.protected_until = (now + timedelta(days=settings.protection_days)
                               if member_id is not None and settings.protection_days else None)
    if customer.assigned_member_id != member_id:
        customers_service.update_customer(session, actor=actor, customer_id=customer.id,
                                          data=CustomerPatch(assigned_member_id=member_id))
    session.add(OwnershipChange(workspace_id=actor.workspace_id, customer_id=customer.id, from_member_id=previous,
                                to_member_id=member_id, store_id=store_id, reason=reason.value, note=note,
                                by_member_id=actor.member_id, changed_at=now))
    session.flush()
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.OWNER_CHANGED, entity_id=customer.id,
                payload={"customer_id": customer.id, "from_member_id": previous, "to_member_id": member_id,
                         "store_id": store_id, "reason": reason.value})
    return current


def _store_of(session: Session, actor: Actor, member_id: int) -> int | None:
    staff = staff_of_member(session, workspace_id=actor.workspace_id, member_id=member_id)
    return staff.store_id if staff is not None else None


def claim(session: Session, *, actor: Actor, customer_id: int, data: ClaimIn,
          now: datetime | None = None) -> tuple[Ownership | None, str]:
    """A staff member added the customer: the rule decides whether they (or their store) own them now.

    Outcomes: `owned` (no owner before), `kept` (the owner stays), `protected` (another owner within the
    protection period), `moved` (store assignment, protection over: the new store's staff member takes over).
    """
    actor.require(Permission.WRITE)
    now = now or utcnow()
    member(session, actor=actor, member_id=data.member_id, field="member_id")
    store_id = data.store_id
    if store_id is not None:
        get_store(session, actor=actor, store_id=store_id)
    else:
        store_id = _store_of(session, actor, data.member_id)
    settings = settings_of(session, actor=actor)
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    current = _current(session, actor, customer.id)
    owner = current.member_id if current is not None else customer.assigned_member_id
    rule = OwnershipRule(settings.rule)
    if owner is None:
        by_store = rule is OwnershipRule.STORE_ASSIGNMENT
        reason = OwnershipReason.STORE_ASSIGNMENT if by_store else OwnershipReason.FIRST_ADD
        return move(session, actor=actor, customer_id=customer.id, member_id=data.member_id, store_id=store_id,
                    reason=reason, now=now), "owned"
    if owner == data.member_id or rule is OwnershipRule.FIRST_ADD_WINS:
        return current, "kept"
    if current is not None and current.protected_until is not None and now < current.protected_until:
        return current, "protected"
    if current is not None and current.store_id == store_id:
        return current, "kept"
    return move(session, actor=actor, customer_id=customer.id, member_id=data.member_id, store_id=store_id,
                reason=OwnershipReason.RULE, now=now), "moved"


def reassign(session: Session, *, actor: Actor, customer_id: int, data: ReassignIn) -> Ownership:
    """Give a customer to another owner by hand (operators; managers within their team), recorded with a note."""
    actor.require(Permission.WRITE)
    customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    if actor.role is Role.GUIDE:
        raise Forbidden("a guide may not reassign customers")
    store_id = None
    if data.member_id is not None:
        member(session, actor=actor, member_id=data.member_id, field="member_id")
        store_id = _store_of(session, actor, data.member_id)
    return move(session, actor=actor, customer_id=customer_id, member_id=data.member_id, store_id=store_id,
                reason=OwnershipReason.MANUAL, note=data.note)


def owner_of(session: Session, *, actor: Actor, customer_id: int, outcome: str | None = None) -> OwnerOut:
    """A customer's owner, store, protection and history."""
    customer = customers_service.get_customer(session, actor=actor, customer_id=customer_id)
    current = _current(session, actor, customer.id)
    history = session.scalars(select(OwnershipChange).where(OwnershipChange.workspace_id == actor.workspace_id,
                                                            OwnershipChange.customer_id == customer.id)
                              .order_by(OwnershipChange.changed_at.desc(), OwnershipChange.id.desc()))
    return OwnerOut(customer_id=customer.id,
                    member_id=current.member_id if current else customer.assigned_member_id,
                    store_id=current.store_id if current else None, since=current.since if current else None,
                    protected_until=current.protected_until if current else None,
                    reason=current.reason if current else None, outcome=outcome,
                    history=[OwnershipChangeOut.model_validate(h) for h in history])


def owned_by(session: Session, *, actor: Actor, member_id: int) -> list[int]:
    """Ids of the customers a member owns, in id order."""
    return list(session.scalars(customers_service.visible_ids(actor)
                                .where(customers_service.Customer.assigned_member_id == member_id)
                                .order_by(customers_service.Customer.id)))


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: the winner keeps its owner (or takes the loser's); the loser's history follows."""
    moved = session.execute(update(OwnershipChange).where(OwnershipChange.customer_id == from_id)
                            .values(customer_id=to_id)).rowcount
    loser = session.scalar(select(Ownership).where(Ownership.customer_id == from_id))
    if loser is not None:
        if session.scalar(select(Ownership.id).where(Ownership.customer_id == to_id)) is None:
            loser.customer_id = to_id
        else:
            session.delete(loser)
        moved += 1
    return moved


def export(session: Session, *, customer_id: int) -> dict:
    """A customer's owner and ownership history, for a data-subject request."""
    current = session.scalar(select(Ownership).where(Ownership.customer_id == customer_id))
    history = session.scalars(select(OwnershipChange).where(OwnershipChange.customer_id == customer_id)
                              .order_by(OwnershipChange.id))
    return {"owner": None if current is None else {"member_id": current.member_id, "store_id": current.store_id,
                                                   "since": current.since.isoformat()},
            "history": [{"from_member_id": h.from_member_id, "to_member_id": h.to_member_id, "reason": h.reason,
                         "note": h.note, "changed_at": h.changed_at.isoformat()} for h in history]}


def erase_notes(session: Session, *, customer_id: int) -> None:
    """Blank the free-text notes of a customer's ownership changes."""
    session.execute(update(OwnershipChange).where(OwnershipChange.customer_id == customer_id,
                                                  OwnershipChange.note.is_not(None)).values(note=None))


def release(session: Session, *, customer_id: int) -> None:
    """Drop an erased customer's owner row."""
    session.execute(delete(Ownership).where(Ownership.customer_id == customer_id))

