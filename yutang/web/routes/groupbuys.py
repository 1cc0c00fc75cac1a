"""The group-buy pages: every group-buy with the production plan, one group-buy's live list (masked names), cut-off
result and pick lists, and verification of pick-up codes on a phone."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from yutang.groupbuy import flows, service
from yutang.groupbuy.schemas import VerifyIn
from yutang.kit.errors import DomainError
from yutang.web.deps import ConsoleRoute, Page, console, database, form_errors
from yutang.web.i18n import N_

router = APIRouter(route_class=ConsoleRoute)

# The reasons a code is refused, as the service words them (translated where they are shown).
REFUSALS = (N_("no entry has this code"), N_("the group-buy has not been cut off yet"),
            N_("this item was cancelled at the cut-off"), N_("this code was verified already"),
            N_("this line was marked as not collected"), N_("this line was refunded"))


@router.get("/groupbuys")
def groupbuy_list(request: Request):
    """Group-buys newest first, and how many units to make per SKU per production date."""
    with console(request, read_only=True) as page:
        groupbuys = service.list_groupbuys(page.session, actor=page.actor, limit=100)
        counts = {g.id: service.entry_count(page.session, groupbuy_id=g.id) for g in groupbuys}
        plan = service.production_plan(page.session, actor=page.actor)
        return page.render("groupbuys/list.html", groupbuys=groupbuys, counts=counts, plan=plan)


def _detail(page: Page, groupbuy_id: int, **extra):
    groupbuy = service.get_groupbuy(page.session, actor=page.actor, groupbuy_id=groupbuy_id)
    return {"groupbuy": service.present(page.session, groupbuy=groupbuy),
            "entries": service.public_list(page.session, actor=page.actor, groupbuy_id=groupbuy.id, limit=500),
            "picks": service.pick_lists(page.session, actor=page.actor, groupbuy_id=groupbuy.id),
            "errors": {}, "verified": None} | extra


@router.get("/groupbuys/{groupbuy_id}")
def groupbuy_view(request: Request, groupbuy_id: int):
    """One group-buy: its items with what was taken and the cut-off's decision, the live list and the pick lists."""
    with console(request, read_only=True) as page:
        return page.render("groupbuys/detail.html", **_detail(page, groupbuy_id))


@router.post("/groupbuys/{groupbuy_id}/cutoff")
def cut_off(request: Request, groupbuy_id: int):
    """Cut the group-buy off now."""
    with console(request) as page:
        try:
            with page.session.begin_nested():
                service.cut_off(page.session, actor=page.actor, groupbuy_id=groupbuy_id, early=True)
        except DomainError as exc:
            errors = form_errors(exc, page.gettext, fields=())
            return page.render("groupbuys/detail.html", status=409, **_detail(page, groupbuy_id, errors=errors))
    flows.tell_after_cut_off(database(request).factory, actor=page.actor, groupbuy_id=groupbuy_id)
    return RedirectResponse(f"/console/groupbuys/{groupbuy_id}", status_code=303)


@router.post("/groupbuys/{groupbuy_id}/verify")
def verify(request: Request, groupbuy_id: int, code: Annotated[str, Form()] = ""):
    """Hand an entry over against its pick-up code; the reason is shown when it is refused."""
    with console(request) as page:
        try:
            with page.session.begin_nested():
                entry = service.verify(page.session, actor=page.actor, groupbuy_id=groupbuy_id,
                                       code=VerifyIn(code=code.strip()).code)
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("code",))
            return page.render("groupbuys/detail.html", status=422,
                               **_detail(page, groupbuy_id, errors=errors, code=code))
        return page.render("groupbuys/detail.html", **_detail(page, groupbuy_id, verified=entry.number))
