"""A customer's group-buy rows under merge, export and erase (the data registry's functions)."""

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from yutang.groupbuy.models import Entry, EntryLine, GroupBuy, GroupBuyItem, Take


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: entries follow the customer; returns how many moved."""
    return session.execute(update(Entry).where(Entry.customer_id == from_id).values(customer_id=to_id)).rowcount or 0


def move_takes(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge: units held per item are added to the winner's (one row per item and customer)."""
    moved = 0
    for take in list(session.scalars(select(Take).where(Take.customer_id == from_id))):
        winner = session.scalar(select(Take).where(Take.item_id == take.item_id, Take.customer_id == to_id))
        if winner is None:
            take.customer_id = to_id
        else:
            winner.quantity += take.quantity
            session.execute(delete(Take).where(Take.id == take.id))
        moved += 1
    session.flush()
    return moved


def export(session: Session, *, customer_id: int) -> list[dict]:
    """A customer's group-buy entries with their lines."""
    entries = session.execute(select(Entry, GroupBuy.title).join(GroupBuy, GroupBuy.id == Entry.groupbuy_id)
                              .where(Entry.customer_id == customer_id).order_by(Entry.id))
    found = []
    for entry, title in entries:
        lines = session.execute(select(GroupBuyItem.sku, EntryLine)
                                .join(GroupBuyItem, GroupBuyItem.id == EntryLine.item_id)
                                .where(EntryLine.entry_id == entry.id).order_by(EntryLine.item_id))
        found.append({"groupbuy": title, "number": entry.number, "remark": entry.remark,
                      "joined_at": entry.created_at.isoformat(), "lines": [
                          {"sku": sku, "quantity": line.quantity, "status": line.status, "paid_fen": line.paid_fen,
                           "refunded_fen": line.refunded_fen} for sku, line in lines]})
    return found


def erase(session: Session, *, customer_id: int) -> None:
    """Blank the remark and the shown name of an erased customer's entries; quantities stay for production."""
    session.execute(update(Entry).where(Entry.customer_id == customer_id).values(remark=None, shown_name="*"))
