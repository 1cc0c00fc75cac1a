"""The consent ledger: decisions appended, and the status in force per channel computed here only."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.customers.models import ConsentEntry
from yutang.customers.profile import emit_changed, require_active
from yutang.customers.reading import get_customer
from yutang.customers.schemas import ConsentChannel, ConsentIn, ConsentStatus
from yutang.kit.clock import utcnow
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


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
    outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.CONSENT_CHANGED, entity_id=customer.id,
                payload={"customer_id": customer.id, "channel": data.channel.value, "status": data.status.value,
                         "occurred_at": entry.occurred_at.isoformat()})
    emit_changed(session, customer=customer)
    return entry


def consent_ledger(session: Session, *, customer_id: int) -> list[ConsentEntry]:
    """All consent entries of a customer, in the order they took effect."""
    return list(session.scalars(select(ConsentEntry).where(ConsentEntry.customer_id == customer_id)
                                .order_by(ConsentEntry.occurred_at, ConsentEntry.id)))


def in_force(session: Session, *, customer_ids: list[int], channel: str | None = None) -> dict[int, dict[str, str]]:
    """The status in force per customer and channel: the ledger's latest entry (by occurred_at, then id) wins.

    The one place that decides which consent holds; a customer without entries maps to an empty dict.
    """
    result: dict[int, dict[str, str]] = {cid: {} for cid in customer_ids}
    for start in range(0, len(customer_ids), 1000):  # stay well under any bind-parameter limit
        query = (select(ConsentEntry.customer_id, ConsentEntry.channel, ConsentEntry.status)
                 .where(ConsentEntry.customer_id.in_(customer_ids[start:start + 1000])))
        if channel is not None:
            query = query.where(ConsentEntry.channel == channel)
        for customer_id, entry_channel, status in session.execute(
                query.order_by(ConsentEntry.occurred_at, ConsentEntry.id)):
            result[customer_id][entry_channel] = status
    return result


def current_consents(session: Session, *, customer_id: int) -> dict[str, str]:
    """The status in force per channel (the latest entry wins)."""
    return in_force(session, customer_ids=[customer_id])[customer_id]


def withdrawn(session: Session, *, customer_ids: list[int], channel: str | None) -> set[int]:
    """Those of the customers whose consent in force on the channel is withdrawn (none when no channel)."""
    if not channel:
        return set()
    return {cid for cid, status in in_force(session, customer_ids=customer_ids, channel=channel).items()
            if status.get(channel) == ConsentStatus.WITHDRAWN.value}
