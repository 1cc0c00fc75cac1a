"""The loyalty domain's entry for other domains: a customer's loyalty data on merge, export and erase.

The work itself lives in the submodules (points, tiers, coupons, point_tasks, rules); archive calls only this.
"""

from sqlalchemy.orm import Session

from yutang.loyalty import coupons, point_tasks, points, tiers

tier_names_of = tiers.tier_names_of


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Merge a customer's points (lots and ledger, with a merge entry), tier, coupons and task submissions."""
    return (points.move_customer(session, from_id=from_id, to_id=to_id)
            + tiers.move_customer(session, from_id=from_id, to_id=to_id)
            + coupons.move_customer(session, from_id=from_id, to_id=to_id)
            + point_tasks.move_customer(session, from_id=from_id, to_id=to_id))


def export(session: Session, *, customer_id: int) -> dict:
    """Everything loyalty holds on a customer."""
    return {"points": points.export(session, customer_id=customer_id),
            "tier": tiers.export(session, customer_id=customer_id),
            "coupons": coupons.export(session, customer_id=customer_id),
            "task_submissions": point_tasks.export(session, customer_id=customer_id)}


def erase(session: Session, *, customer_id: int) -> None:
    """Strip personal data: free-text reasons and notes, and proof images."""
    points.erase(session, customer_id=customer_id)
    point_tasks.erase(session, customer_id=customer_id)
