"""Dead letters of the event loader: list, show, replay after a fix, discard."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from yutang.api.deps import ActorDep, IdPath, unit_of_work
from yutang.events import deadletters, flows
from yutang.events.schemas import DeadLetterOut, DeadLetterPage, DeadLetterStage, DeadLetterStatus

router = APIRouter(prefix="/events/dead-letters", tags=["sources"])


@router.get("", response_model=DeadLetterPage)
def list_dead_letters(request: Request, actor: ActorDep, status: DeadLetterStatus | None = None,
                      stage: DeadLetterStage | None = None, limit: Annotated[int, Query(ge=1, le=200)] = 50,
                      offset: Annotated[int, Query(ge=0, le=2**31)] = 0):
    """Messages the loader set aside in this workspace, most recently seen first (`raw` only for roles that see
    personal data)."""
    with unit_of_work(request) as session:
        letters, total = deadletters.list_dead_letters(session, actor=actor, status=status, stage=stage,
                                                       limit=limit, offset=offset)
        return DeadLetterPage(items=[deadletters.present(actor, letter) for letter in letters], total=total)


@router.get("/{dead_letter_id}", response_model=DeadLetterOut)
def show_dead_letter(request: Request, actor: ActorDep, dead_letter_id: IdPath):
    """One dead letter with its error."""
    with unit_of_work(request) as session:
        return deadletters.present(actor, deadletters.get_dead_letter(session, actor=actor,
                                                                      dead_letter_id=dead_letter_id))


@router.post("/{dead_letter_id}/replay", response_model=DeadLetterOut)
def replay_dead_letter(request: Request, actor: ActorDep, dead_letter_id: IdPath):
    """Send the message through the pipeline again (operators and owners); if it fails again it is open again."""
    with unit_of_work(request) as session:
        letter = flows.replay_dead_letter(session, actor=actor, journal=request.app.state.pipeline.journal,
                                          dead_letter_id=dead_letter_id)
        return deadletters.present(actor, letter)


@router.post("/{dead_letter_id}/discard", response_model=DeadLetterOut)
def discard_dead_letter(request: Request, actor: ActorDep, dead_letter_id: IdPath):
    """Give up on a dead letter (operators and owners); it stays listed as discarded."""
    with unit_of_work(request) as session:
        return deadletters.present(actor, deadletters.discard(session, actor=actor, dead_letter_id=dead_letter_id))
