"""The referral page: programmes with their share-tree figures, the review queue, the commission ledger's accounts
and the payout batches."""

from fastapi import APIRouter, Request

from yutang.commissions import service as commissions
from yutang.referral import service
from yutang.web.deps import ConsoleRoute, console

router = APIRouter(route_class=ConsoleRoute)


@router.get("/referral")
def referral_overview(request: Request):
    """Programmes (K-factor, cycle time, cost per valid invitee, flag rate), flagged referrals with why, accounts
    by state and payout batches."""
    with console(request, read_only=True) as page:
        programmes = service.list_programmes(page.session, actor=page.actor)
        figures = {p.id: service.tree(page.session, actor=page.actor, programme_id=p.id)[1] for p in programmes}
        flagged = service.list_attributions(page.session, actor=page.actor, state="flagged", limit=50)
        accounts = commissions.list_accounts(page.session, actor=page.actor)[:50]
        batches = commissions.list_batches(page.session, actor=page.actor)[:20]
        return page.render("referral/overview.html", programmes=programmes, figures=figures, flagged=flagged,
                           accounts=accounts, batches=batches)
