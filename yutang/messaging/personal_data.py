"""The messaging domain's entries in the per-customer data registry, with the export and merge steps the
service does not already offer."""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yutang.kit.personal_data import KEEP, CustomerTable, collect, delete, move, scrub
from yutang.messaging import service
from yutang.messaging.models import Broadcast, BroadcastRecipient, Message, Thread, WeComContact
from yutang.messaging.schemas import MessageOut, RecipientOut, ThreadOut


def export_messages(session: Session, *, customer_id: int) -> list[dict[str, Any]]:
    """Every message to or from the customer, with its address and content, unmasked."""
    rows = session.scalars(select(Message).where(Message.customer_id == customer_id).order_by(Message.id))
    return [MessageOut.model_validate(m).model_dump(mode="json") | {"payload": m.payload} for m in rows]


def export_threads(session: Session, *, customer_id: int) -> list[dict[str, Any]]:
    """The customer's inbox conversations (their messages are under `messages`)."""
    rows = session.scalars(select(Thread).where(Thread.customer_id == customer_id).order_by(Thread.id))
    return [ThreadOut.model_validate(t).model_dump(mode="json") for t in rows]


def export_recipients(session: Session, *, customer_id: int) -> list[dict[str, Any]]:
    """What each broadcast decided for the customer: sent or suppressed, and why."""
    rows = session.execute(select(BroadcastRecipient, Broadcast.name)
                           .join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
                           .where(BroadcastRecipient.customer_id == customer_id).order_by(BroadcastRecipient.id))
    return [RecipientOut.model_validate(r).model_dump(mode="json", exclude={"status"})
            | {"broadcast_id": r.broadcast_id, "broadcast": name} for r, name in rows]


def export_wecom_contacts(session: Session, *, customer_id: int) -> list[dict[str, Any]]:
    """The WeCom external-contact links staff hold to the customer."""
    rows = session.scalars(select(WeComContact).where(WeComContact.customer_id == customer_id)
                           .order_by(WeComContact.id))
    return [{"channel_config_id": c.channel_config_id, "external_userid": c.external_userid,
             "staff_userid": c.staff_userid, "state": c.state,
             "added_at": c.added_at.isoformat() if c.added_at else None,
             "removed_at": c.removed_at.isoformat() if c.removed_at else None} for c in rows]


def move_recipients(session: Session, *, from_id: int, to_id: int) -> int:
    """A merged customer's broadcast outcomes go to the winner, except for broadcasts that reached both."""
    both = select(BroadcastRecipient.broadcast_id).where(BroadcastRecipient.customer_id == to_id)
    result = session.execute(update(BroadcastRecipient).where(BroadcastRecipient.customer_id == from_id,
                                                              BroadcastRecipient.broadcast_id.not_in(both))
                             .values(customer_id=to_id))
    return result.rowcount or 0


def erase_threads(session: Session, *, customer_id: int) -> None:
    """Blank the subjects of the customer's conversations (taken from what they wrote)."""
    session.execute(update(Thread).where(Thread.customer_id == customer_id).values(subject=None))


MERGE = move("messages", service.move_customer)
TABLES = (
    CustomerTable(Message, merge=MERGE, export=collect("messages", export_messages),
                  erase=scrub("address", "body", "subject", "payload", fn=service.erase),
                  reason="rows stay for delivery figures; the address and content identify the person"),
    CustomerTable(Thread, merge=MERGE, export=collect("inbox_threads", export_threads),
                  erase=scrub("subject", fn=erase_threads),
                  reason="conversations stay for response-time figures; the subject quotes the customer"),
    CustomerTable(WeComContact, merge=MERGE, export=collect("wecom_contacts", export_wecom_contacts),
                  erase=delete(service.erase), reason="WeCom ids that reach the person through staff"),
    CustomerTable(BroadcastRecipient, merge=move("broadcast_recipients", move_recipients),
                  export=collect("broadcast_recipients", export_recipients), erase=KEEP,
                  reason="a broadcast's outcome per customer (no content) keeps its report true; where a broadcast "
                         "reached both merged records the loser's outcome stays with the tombstone"),
)
