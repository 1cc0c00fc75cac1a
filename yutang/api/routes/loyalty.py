"""Loyalty: settings, the points ledger (earn, redeem, reverse, adjust, balance, history), liability report."""

from fastapi import APIRouter, Query, Request

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.api.pages import Page, page_of
from yutang.kit.pagination import decode_cursor
from yutang.loyalty import config, points
from yutang.loyalty.awards import Awarder
from yutang.loyalty.schemas import (
    AdjustIn,
    BalanceOut,
    EarnIn,
    EntryOut,
    LiabilityOut,
    RedeemIn,
    ReverseIn,
    SettingsIn,
    SettingsOut,
)

router = APIRouter(prefix="/loyalty", tags=["loyalty"])


def awarder(request: Request) -> Awarder:
    """The app's points awarder (one per process, so concurrent requests commit together; the runtime starts and
    stops it)."""
    return request.app.state.workers.awarder


@router.get("/settings", response_model=SettingsOut)
def get_settings(request: Request, actor: ActorDep):
    """The workspace's loyalty settings (defaults until changed)."""
    with read_only(request) as session:
        return config.settings_of(session, workspace_id=actor.workspace_id)


@router.put("/settings", response_model=SettingsOut)
def put_settings(request: Request, actor: ActorDep, data: SettingsIn):
    """Replace the loyalty settings (owner only)."""
    with unit_of_work(request) as session:
        return config.update_settings(session, actor=actor, data=data)


@router.post("/points/earn", response_model=EntryOut)
def earn(request: Request, actor: ActorDep, data: EarnIn):
    """Award points (a one-off bonus); the same idempotency key again returns the first entry."""
    # Concurrent requests share one transaction (group commit); each is answered after that commit.
    entry, _ = awarder(request).award(actor, customer_id=data.customer_id, points=data.points,
                                      key=data.idempotency_key, reason=data.reason,
                                      source_type=data.source_type or "bonus", source_ref=data.source_ref)
    return entry


@router.post("/points/redeem", response_model=EntryOut)
def redeem(request: Request, actor: ActorDep, data: RedeemIn):
    """Spend points first-expiring-first; 409 not-enough-points when the lots hold too few."""
    with unit_of_work(request) as session:
        entry, _ = points.redeem(session, actor=actor, customer_id=data.customer_id, points=data.points,
                                 key=data.idempotency_key, reason=data.reason, source_ref=data.source_ref)
        return entry


@router.post("/points/reverse", response_model=EntryOut | None)
def reverse(request: Request, actor: ActorDep, data: ReverseIn):
    """Take back (part of) an earn entry; null when nothing of it is left to reverse."""
    with unit_of_work(request) as session:
        entry, _ = points.reverse(session, actor=actor, entry_id=data.entry_id, key=data.idempotency_key,
                                  points=data.points, reason=data.reason)
        return entry


@router.post("/points/adjust", response_model=EntryOut)
def adjust(request: Request, actor: ActorDep, data: AdjustIn):
    """An operator's correction, positive or negative (audited)."""
    with unit_of_work(request) as session:
        entry, _ = points.adjust(session, actor=actor, customer_id=data.customer_id, points=data.points,
                                 key=data.idempotency_key, reason=data.reason)
        return entry


@router.get("/points/liability", response_model=LiabilityOut)
def liability(request: Request, actor: ActorDep):
    """Outstanding points by expiry month, valued at the configured rate."""
    with read_only(request) as session:
        return points.liability(session, actor=actor)


@router.get("/points/entries/{entry_id}", response_model=EntryOut)
def get_entry(request: Request, actor: ActorDep, entry_id: IdPath):
    """One ledger entry."""
    with read_only(request) as session:
        return points.get_entry(session, actor=actor, entry_id=entry_id)


@router.get("/customers/{customer_id}/points", response_model=BalanceOut)
def balance(request: Request, actor: ActorDep, customer_id: IdPath):
    """A customer's balance, lots with points left and next expiry."""
    with read_only(request) as session:
        return points.balance(session, actor=actor, customer_id=customer_id)


@router.get("/customers/{customer_id}/points/entries", response_model=Page[EntryOut])
def history(request: Request, actor: ActorDep, customer_id: IdPath, cursor: str | None = None,
            limit: int = Query(50, ge=1, le=500)):
    """A customer's ledger, newest first."""
    with read_only(request) as session:
        rows = points.history(session, actor=actor, customer_id=customer_id, before_id=decode_cursor(cursor),
                              limit=limit + 1)
        return page_of([EntryOut.model_validate(r) for r in rows], ids=[r.id for r in rows], limit=limit)
