"""The consent ledger: decisions appended, and the status in force per channel computed here only."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.customers.models import ConsentEntry
from yutang.customers.profile import emit_changed, require_active
from yutang.customers.reading import get_customer
from yutang.customers.schemas import ConsentChannel, ConsentIn, ConsentStatus
from yutang.kit.clock import utcnow
from yutang.storage import outbox
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
