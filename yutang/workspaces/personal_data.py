"""The workspaces domain's entries in the per-customer data registry: the audit log's entries about a customer."""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yutang.kit.personal_data import KEEP, CustomerTable, collect, scrub
from yutang.workspaces.models import AuditEntry

CUSTOMER = "customer"


def export_audit(session: Session, *, customer_id: int) -> list[dict[str, Any]]:
    """What was done to the customer's record, by whom and when."""
    rows = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == CUSTOMER,
                                                    AuditEntry.entity_id == customer_id).order_by(AuditEntry.id))
    return [{"action": a.action, "member_id": a.member_id, "changes": a.changes, "at": a.created_at.isoformat()}
            for a in rows]


def erase_audit(session: Session, *, customer_id: int) -> None:
    """Blank the recorded changes to the customer (they may hold personal data); who did what, when, stays."""
    session.execute(update(AuditEntry).where(AuditEntry.entity_type == CUSTOMER, AuditEntry.entity_id == customer_id)
                    .values(changes={"scrubbed": True}))


TABLES = (
    CustomerTable(AuditEntry, merge=KEEP, export=collect("audit", export_audit),
                  erase=scrub("changes", fn=erase_audit),
                  reason="the audit trail stays with the record it describes; recorded changes may hold personal data",
                  references=("entity_id",), only={"entity_type": CUSTOMER}),
)
