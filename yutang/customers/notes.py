"""Staff notes on a customer."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.customers.models import CustomerNote
from yutang.customers.profile import require_active
from yutang.customers.reading import get_customer
from yutang.customers.schemas import NoteIn
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


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
