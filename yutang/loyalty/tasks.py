"""Loyalty jobs (nightly): expire points lots, expire coupons, review tiers at period end. Each opens its own
units of work, one account or batch at a time, and is safe to run again (expire entries are keyed per lot)."""

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.clock import utcnow
from yutang.loyalty import coupons, points, tiers
from yutang.storage.engine import unit_of_work


def expire_points(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Write expire entries for every lot past its date; returns how many entries were written."""
    now = now or utcnow()
    written = 0
    while True:
        with unit_of_work(factory) as session:
            due = points.due_accounts(session, now=now)
        if not due:
            return written
        before = written
        for workspace_id, customer_id in due:
            with unit_of_work(factory) as session:
                written += len(points.expire_customer(session, workspace_id=workspace_id, customer_id=customer_id,
                                                      now=now))
        if written == before:  # nothing expirable after all (never loop on rows the ledger will not touch)
            return written


def expire_coupons(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Mark coupons past their end expired; returns how many."""
    now = now or utcnow()
    total = 0
    while True:
        with unit_of_work(factory) as session:
            done = coupons.expire_due(session, now=now)
        total += done
        if not done:
            return total


def review_tiers(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Re-rate customers whose tier period (plus grace) has ended; returns how many changed tier."""
    now = now or utcnow()
    with unit_of_work(factory) as session:
        workspaces = tiers.due_workspaces(session, now=now)
    changed = 0
    for workspace_id in workspaces:
        while True:
            with unit_of_work(factory) as session:
                reviewed, moved = tiers.review_due(session, workspace_id=workspace_id, now=now)
            changed += moved
            if not reviewed:
                break
    return changed


def nightly(factory: sessionmaker[Session], *, now: datetime | None = None) -> dict[str, int]:
    """All of the above, as the CLI's `yutang loyalty nightly` runs them."""
    now = now or utcnow()
    return {"points_expired": expire_points(factory, now=now), "coupons_expired": expire_coupons(factory, now=now),
            "tiers_changed": review_tiers(factory, now=now)}
