"""The loyalty domain's entries in the per-customer data registry."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from yutang.kit.personal_data import KEEP, CustomerTable, collect, move, scrub
from yutang.loyalty import service
from yutang.loyalty.models import (
    Coupon,
    CustomerTier,
    PointsAccount,
    PointsEntry,
    PointsLot,
    TaskSubmission,
    TierChange,
)


def erase_coupon_reasons(session: Session, *, customer_id: int) -> None:
    """Blank the free-text reasons staff gave when issuing the customer's coupons."""
    session.execute(update(Coupon).where(Coupon.customer_id == customer_id, Coupon.reason != "")
                    .values(reason="(erased)"))


MERGE = move("loyalty", service.move_customer)
EXPORT = collect("loyalty", service.export)
TABLES = (
    CustomerTable(PointsAccount, merge=MERGE, export=EXPORT, erase=KEEP,
                  reason="balances only; the loser's account folds into the winner's"),
    CustomerTable(PointsEntry, merge=MERGE, export=EXPORT, erase=scrub("reason", fn=service.erase),
                  reason="the ledger stays auditable; operators' free-text reasons may name the person"),
    CustomerTable(PointsLot, merge=MERGE, export=EXPORT, erase=KEEP,
                  reason="points and expiry dates, nothing that identifies anyone"),
    CustomerTable(CustomerTier, merge=MERGE, export=EXPORT, erase=KEEP,
                  reason="the tier held (the higher of two on merge); no personal content"),
    CustomerTable(TierChange, merge=MERGE, export=EXPORT, erase=KEEP,
                  reason="tier history with system reasons; no personal content"),
    CustomerTable(Coupon, merge=MERGE, export=EXPORT, erase=scrub("reason", fn=erase_coupon_reasons),
                  reason="codes and states stay for redemption figures; the issuing reason is free text"),
    CustomerTable(TaskSubmission, merge=MERGE, export=EXPORT, erase=scrub("note", "image_path", fn=service.erase),
                  reason="proof images and notes are personal; the image hash stays to flag re-submissions"),
)
