"""Loyalty pages: earn rules, tiers, coupon templates with statistics, the points liability, the task review
queue (approve / reject with a reason), and the points and coupons section of the customer archive."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import ValidationError

from yutang.kit.errors import DomainError
from yutang.loyalty import coupons, point_tasks, points, rules, tiers
from yutang.loyalty.schemas import ReviewIn
from yutang.web.deps import ConsoleRoute, Page, console, form_errors, is_htmx
from yutang.workspaces.access import Permission

router = APIRouter(route_class=ConsoleRoute)


def customer_section(page: Page, customer_id: int) -> dict:
    """What the archive shows of a customer's loyalty: balance, lots, recent entries, tier and coupons."""
    session, actor = page.session, page.actor
    tier_list = {tier.id: tier for tier in tiers.list_tiers(session, actor=actor)}
    return {"points": points.balance(session, actor=actor, customer_id=customer_id),
            "entries": points.history(session, actor=actor, customer_id=customer_id, limit=10),
            "tier": tiers.customer_tier(session, actor=actor, customer_id=customer_id),
            "tier_names": {tid: tier.name for tid, tier in tier_list.items()},
            "coupons": coupons.coupons_of(session, actor=actor, customer_id=customer_id),
            "templates": {t.id: t.name for t in coupons.list_templates(session, actor=actor)}}


@router.get("/loyalty")
def overview(request: Request):
    """Earn rules, tiers and the points liability."""
    with console(request) as page:
        session, actor = page.session, page.actor
        return page.render("loyalty/overview.html", section="loyalty", tab="overview",
                           rules=rules.list_rules(session, actor=actor), tiers=tiers.list_tiers(session, actor=actor),
                           liability=points.liability(session, actor=actor))


@router.get("/loyalty/coupons")
def coupon_templates(request: Request):
    """Coupon templates with issued, redeemed, redemption rate and GMV."""
    with console(request) as page:
        templates = coupons.list_templates(page.session, actor=page.actor)
        stats = coupons.stats(page.session, actor=page.actor, template_ids=[t.id for t in templates])
        return page.render("loyalty/coupons.html", section="loyalty", tab="coupons", templates=templates,
                           stats=stats)


def _queue(page: Page, status: str) -> dict:
    session, actor = page.session, page.actor
    found = point_tasks.queue(session, actor=actor, status=status or None, limit=100)
    return {"submissions": found, "shown": status,
            "tasks": {task.id: task for task in point_tasks.list_tasks(session, actor=actor)},
            "can_review": actor.can(Permission.BULK), "errors": {}}


@router.get("/loyalty/review")
def review_queue(request: Request, status: str = "pending"):
    """Point-task submissions waiting for review (or of another status)."""
    with console(request) as page:
        return page.render("loyalty/review.html", section="loyalty", tab="review", **_queue(page, status))


@router.post("/loyalty/review/{submission_id}")
def review(request: Request, submission_id: int, decision: Annotated[str, Form()] = "",
           reason: Annotated[str, Form()] = ""):
    """Approve or reject one submission; HTMX gets its row back, a plain post returns to the queue."""
    errors: dict[str, str] = {}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                data = ReviewIn(approve=decision == "approve", reason=reason.strip() or None)
                point_tasks.review(page.session, actor=page.actor, submission_id=submission_id, data=data)
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("reason",))
            errors.setdefault("reason", errors.pop("", ""))
        if not is_htmx(request) and not errors:
            return RedirectResponse("/console/loyalty/review", status_code=303)
        submission = point_tasks.get_submission(page.session, actor=page.actor, submission_id=submission_id)
        context = _queue(page, "pending") | {"errors": {submission_id: errors.get("reason")} if errors else {}}
        if is_htmx(request):
            return page.render("loyalty/_submission.html", status=422 if errors else 200, submission=submission,
                               **context)
        return page.render("loyalty/review.html", status=422 if errors else 200, section="loyalty", tab="review",
                           **context)


@router.get("/loyalty/submissions/{submission_id}/image")
def submission_image(request: Request, submission_id: int):
    """The proof image, for the review queue."""
    with console(request) as page:
        path = point_tasks.get_submission(page.session, actor=page.actor, submission_id=submission_id).image_path
    return FileResponse(path) if path else Response(status_code=404)
