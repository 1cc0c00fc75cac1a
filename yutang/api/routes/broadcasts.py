"""Broadcasts: create (now or scheduled), list, get with the delivery report, cancel, preview the audience after
contact pressure, and the per-customer outcome; plus the workspace's contact-pressure rules."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from yutang.api.deps import ActorDep, CaughtUp, IdPath, read_only, unit_of_work
from yutang.api.pages import Page, page_of
from yutang.journeys import service as journeys_service
from yutang.kit.pagination import decode_cursor
from yutang.messaging import broadcasts
from yutang.messaging.broadcasts import Broadcast
from yutang.messaging.schemas import (
    BroadcastIn,
    BroadcastOut,
    BroadcastPreviewOut,
    PressureIn,
    PressureOut,
    RecipientOut,
)

router = APIRouter(tags=["broadcasts"])
Limit = Annotated[int, Query(ge=1, le=1000)]


def present(session, broadcast: Broadcast) -> BroadcastOut:
    """A broadcast with its messages per delivery state."""
    return BroadcastOut.model_validate(broadcast, from_attributes=True).model_copy(
        update={"by_state": broadcasts.delivery_states(session, broadcast_id=broadcast.id)})


@router.get("/messaging/pressure", response_model=PressureOut)
def get_pressure(request: Request, actor: ActorDep):
    """The contact-pressure rules in force."""
    with read_only(request) as session:
        return broadcasts.get_pressure(session, actor=actor)


@router.put("/messaging/pressure", response_model=PressureOut)
def set_pressure(request: Request, actor: ActorDep, data: PressureIn):
    """Replace the contact-pressure rules (owner). The global holdout's share (`holdout_bp`) is locked while a live
    journey runs an experiment (409)."""
    with unit_of_work(request) as session:
        return broadcasts.set_pressure(session, actor=actor, data=data, experiments=lambda: (
            journeys_service.running_experiments(session, actor=actor)))


@router.post("/broadcasts/preview", response_model=BroadcastPreviewOut)
def preview(request: Request, actor: ActorDep, pipeline: CaughtUp, data: BroadcastIn):
    """The audience before and after suppression, by reason, as if it went out now (or at send_at)."""
    with read_only(request) as session:
        return broadcasts.preview(session, pipeline.warehouse, actor=actor, data=data)


@router.post("/broadcasts", response_model=BroadcastOut, status_code=201)
def create(request: Request, actor: ActorDep, data: BroadcastIn):
    """Schedule a broadcast; without send_at it starts at once (in the background)."""
    with unit_of_work(request) as session:
        broadcast = broadcasts.create(session, actor=actor, data=data)
        out = present(session, broadcast)
    if data.send_at is None:
        request.app.state.broadcaster.wake()
    return out


@router.get("/broadcasts", response_model=Page[BroadcastOut])
def list_broadcasts(request: Request, actor: ActorDep, status: str | None = None, cursor: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """Broadcasts, newest first."""
    with read_only(request) as session:
        rows = broadcasts.list_broadcasts(session, actor=actor, status=status, before_id=decode_cursor(cursor),
                                          limit=limit + 1)
        return page_of([present(session, b) for b in rows], ids=[b.id for b in rows], limit=limit)


@router.get("/broadcasts/{broadcast_id}", response_model=BroadcastOut)
def get(request: Request, actor: ActorDep, broadcast_id: IdPath):
    """A broadcast: its plan summary (by suppression reason) and its messages by delivery state."""
    with read_only(request) as session:
        return present(session, broadcasts.get(session, actor=actor, broadcast_id=broadcast_id))


@router.post("/broadcasts/{broadcast_id}/cancel", response_model=BroadcastOut)
def cancel(request: Request, actor: ActorDep, broadcast_id: IdPath):
    """Cancel a broadcast that has not started."""
    with unit_of_work(request) as session:
        return present(session, broadcasts.cancel(session, actor=actor, broadcast_id=broadcast_id))


@router.get("/broadcasts/{broadcast_id}/recipients", response_model=Page[RecipientOut])
def recipients(request: Request, actor: ActorDep, broadcast_id: IdPath, outcome: str | None = None,
               reason: str | None = None, cursor: str | None = None, limit: Limit = 100):
    """Per customer: sent (with the message's state) or suppressed and why; filter by outcome or reason."""
    with read_only(request) as session:
        rows = broadcasts.recipients(session, actor=actor, broadcast_id=broadcast_id, outcome=outcome, reason=reason,
                                     after_id=decode_cursor(cursor), limit=limit + 1)
        items = [RecipientOut.model_validate(r).model_copy(update={"status": s}) for r, s in rows]
        return page_of(items, ids=[r.id for r, _ in rows], limit=limit)
