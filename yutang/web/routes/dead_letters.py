"""The dead-letters page: event messages the loader set aside, with replay and discard."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from yutang.events import deadletters, flows
from yutang.events.schemas import DeadLetterStatus
from yutang.web.deps import ConsoleRoute, console
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)
PATH = "/console/events/dead-letters"


@router.get("/events/dead-letters")
def dead_letter_list(request: Request, status: str = "open"):
    """Dead letters of the workspace, open ones first by default."""
    chosen = DeadLetterStatus(status) if status in set(DeadLetterStatus) else None
    with console(request) as page:
        letters, total = deadletters.list_dead_letters(page.session, actor=page.actor, status=chosen, limit=100)
        return page.render("events/dead_letters.html", letters=[deadletters.present(page.actor, x) for x in letters],
                           total=total, chosen=chosen.value if chosen else "", statuses=list(DeadLetterStatus),
                           can_replay=page.actor.can(Permission.BULK))


@router.post("/events/dead-letters/{dead_letter_id}")
def act_on_dead_letter(request: Request, dead_letter_id: int, action: Annotated[str, Form()] = ""):
    """Replay or discard one dead letter, then back to the list."""
    with console(request) as page:
        if action == "replay":
            flows.replay_dead_letter(page.session, actor=page.actor, journal=request.app.state.pipeline.journal,
                                     dead_letter_id=dead_letter_id)
        elif action == "discard":
            deadletters.discard(page.session, actor=page.actor, dead_letter_id=dead_letter_id)
    return RedirectResponse(PATH, status_code=303)
