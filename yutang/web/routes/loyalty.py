"""Loyalty pages: earn rules, tiers, coupon templates with statistics, the points liability, the task review
queue (approve / reject with a reason), and the points and coupons section of the customer archive."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import ValidationError

from yutang.kit.errors import DomainError, Invalid
from yutang.kit.money import yuan_to_fen
from yutang.loyalty import coupons, point_tasks, points, rules, tiers
from yutang.loyalty.schemas import Benefit, CouponKind, CouponTemplateIn, EarnRuleIn, ReviewIn, TierIn
from yutang.segments import service as segments_service
from yutang.web.deps import CaughtUp, ConsoleRoute, Page, console, form_errors, is_htmx
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
            "templates": {t.id: t.name for t in coupons.list_templates(session, actor=actor)},
            "customer_id": customer_id, "can_issue": actor.can(Permission.WRITE), "issue_key": secrets.token_hex(12)}


@router.post("/loyalty/customers/{customer_id}/coupons")
def issue_to_customer(request: Request, customer_id: int, template_id: Annotated[str, Form()] = "",
                      key: Annotated[str, Form()] = ""):
    """Issue one coupon to the customer from their archive; the form's key makes a repeated submit issue one."""
    with console(request) as page:
        if not template_id.isdigit():
            raise Invalid(page.gettext("Choose a coupon to issue."), field="template_id")
        if not key:
            raise Invalid(page.gettext("The form has expired; please try again."), field="key")
        coupons.issue(page.session, actor=page.actor, template_id=int(template_id), customer_id=customer_id,
                      key=f"console:{key}", reason="console: issued from the archive")
        return RedirectResponse(f"/console/customers/{customer_id}#loyalty", status_code=303)


def _overview(page: Page, **extra) -> dict:
    session, actor = page.session, page.actor
    return {"section": "loyalty", "tab": "overview", "rules": rules.list_rules(session, actor=actor),
            "tiers": tiers.list_tiers(session, actor=actor), "tier_basis": tiers.basis(session, actor=actor),
            "liability": points.liability(session, actor=actor),
            "can_admin": actor.can(Permission.ADMIN), "benefits": list(Benefit), "rule_form": {}, "tier_form": {},
            "rule_errors": {}, "tier_errors": {}} | extra


@router.get("/loyalty")
def overview(request: Request):
    """Earn rules, tiers and the points liability, with forms to add rules and tiers."""
    with console(request) as page:
        return page.render("loyalty/overview.html", **_overview(page))


def _blank_none(value: str) -> str | None:
    return value.strip() or None


@router.post("/loyalty/rules")
def create_rule(request: Request, name: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "order",
                points_per_yuan: Annotated[str, Form()] = "", excluded: Annotated[str, Form()] = "",
                event_name: Annotated[str, Form()] = "", points_each: Annotated[str, Form()] = "",
                daily_cap: Annotated[str, Form()] = "", total_cap: Annotated[str, Form()] = ""):
    """Add an earn rule; errors come back next to their fields."""
    form = {"name": name, "kind": kind, "points_per_yuan": points_per_yuan, "excluded": excluded,
            "event_name": event_name, "points_each": points_each, "daily_cap": daily_cap, "total_cap": total_cap}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                data = EarnRuleIn(name=name.strip(), kind=kind, points_per_yuan=points_per_yuan or 0,
                                  excluded_categories=[c.strip() for c in excluded.split(",") if c.strip()],
                                  event_name=_blank_none(event_name), points=points_each or 0,
                                  daily_cap=_blank_none(daily_cap), total_cap=_blank_none(total_cap))
                rules.create_rule(page.session, actor=page.actor, data=data)
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("name", "points_per_yuan", "event_name", "points",
                                                            "daily_cap", "total_cap"))
            return page.render("loyalty/overview.html", status=422,
                               **_overview(page, rule_form=form, rule_errors=errors))
        return RedirectResponse("/console/loyalty#rules", status_code=303)


@router.post("/loyalty/tiers")
def create_tier(request: Request, name: Annotated[str, Form()] = "", rank: Annotated[str, Form()] = "",
                threshold: Annotated[str, Form()] = "", multiplier_pct: Annotated[str, Form()] = "100",
                benefits: Annotated[list[str], Form()] = ()):
    """Add a tier; errors come back next to their fields."""
    form = {"name": name, "rank": rank, "threshold": threshold, "multiplier_pct": multiplier_pct,
            "benefits": list(benefits)}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                if tiers.basis(page.session, actor=page.actor) == "spend" and threshold.strip():
                    try:
                        threshold = str(yuan_to_fen(threshold))
                    except ValueError as exc:
                        raise Invalid(page.gettext("Enter an amount in yuan, e.g. 1000 or 99.50."),
                                      field="threshold") from exc
                data = TierIn(name=name.strip(), rank=rank, threshold=threshold, multiplier_pct=multiplier_pct,
                              benefits=list(benefits))
                tiers.create_tier(page.session, actor=page.actor, data=data)
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("name", "rank", "threshold", "multiplier_pct"))
            return page.render("loyalty/overview.html", status=422,
                               **_overview(page, tier_form=form, tier_errors=errors))
        return RedirectResponse("/console/loyalty#tiers", status_code=303)


def _coupons(page: Page, **extra) -> dict:
    templates = coupons.list_templates(page.session, actor=page.actor)
    return {"section": "loyalty", "tab": "coupons", "templates": templates,
            "stats": coupons.stats(page.session, actor=page.actor, template_ids=[t.id for t in templates]),
            "can_manage": page.actor.can(Permission.BULK), "kinds": list(CouponKind), "form": {},
            "errors": {}, "segments": segments_service.list_segments(page.session, actor=page.actor, limit=200)
            if page.actor.can(Permission.BULK) else [], "issue_key": secrets.token_hex(12), "issue_form": {},
            "issue_errors": {}, "issued": None} | extra


@router.get("/loyalty/coupons")
def coupon_templates(request: Request):
    """Coupon templates with issued, redeemed, redemption rate and GMV, and a form to add one."""
    with console(request) as page:
        return page.render("loyalty/coupons.html", **_coupons(page))


@router.post("/loyalty/coupons")
def create_template(request: Request, name: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "fixed",
                    value_yuan: Annotated[str, Form()] = "", percent_off: Annotated[str, Form()] = "",
                    cap_yuan: Annotated[str, Form()] = "", threshold_yuan: Annotated[str, Form()] = "",
                    gift_sku: Annotated[str, Form()] = "", valid_days: Annotated[str, Form()] = "",
                    total_stock: Annotated[str, Form()] = "", per_customer_limit: Annotated[str, Form()] = "1"):
    """Add a coupon template (amounts in yuan); errors come back next to their fields."""
    form = {"name": name, "kind": kind, "value_yuan": value_yuan, "percent_off": percent_off, "cap_yuan": cap_yuan,
            "threshold_yuan": threshold_yuan, "gift_sku": gift_sku, "valid_days": valid_days,
            "total_stock": total_stock, "per_customer_limit": per_customer_limit}
    with console(request) as page:
        try:
            with page.session.begin_nested():
                data = CouponTemplateIn(
                    name=name.strip(), kind=kind, value_fen=_fen(value_yuan, "value_fen"),
                    percent_off=percent_off or 0, cap_fen=_fen(cap_yuan, "cap_fen") or None,
                    threshold_fen=_fen(threshold_yuan, "threshold_fen"), gift_sku=_blank_none(gift_sku),
                    valid_days=_blank_none(valid_days), total_stock=_blank_none(total_stock),
                    per_customer_limit=per_customer_limit or 1)
                coupons.create_template(page.session, actor=page.actor, data=data)
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc, page.gettext, fields=("name", "value_fen", "percent_off", "cap_fen",
                                                            "threshold_fen", "gift_sku", "valid_days",
                                                            "total_stock"))
            return page.render("loyalty/coupons.html", status=422, **_coupons(page, form=form, errors=errors))
        return RedirectResponse("/console/loyalty/coupons", status_code=303)


@router.post("/loyalty/coupons/issue")
def issue_to_segment(request: Request, pipeline: CaughtUp, template_id: Annotated[str, Form()] = "",
                     segment_id: Annotated[str, Form()] = "", key: Annotated[str, Form()] = ""):
    """Issue a template's coupons to a segment's members; the form's key makes a repeated submit issue nothing."""
    form = {"template_id": template_id, "segment_id": segment_id}
    with console(request) as page:
        errors = {field: page.gettext("This field is required.")
                  for field, value in form.items() if not value.isdigit()}
        if not key:
            errors[""] = page.gettext("The form has expired; please try again.")
        if not errors:
            try:
                with page.session.begin_nested():
                    done = coupons.bulk_issue(page.session, actor=page.actor, template_id=int(template_id),
                                              key=f"console:{key}", segment_id=int(segment_id),
                                              membership=pipeline.segments, reason="console: segment issue")
            except DomainError as exc:
                errors = form_errors(exc, page.gettext, fields=("template_id", "segment_id"))
        if errors:
            return page.render("loyalty/coupons.html", status=422, **_coupons(
                page, issue_form=form, issue_errors=errors, issue_key=key or secrets.token_hex(12)))
        return page.render("loyalty/coupons.html", **_coupons(page, issued={
            "issued": done.issued, "already": done.already, "skipped": sum(done.skipped.values())}))


def _fen(text: str, field: str) -> int:
    if not text.strip():
        return 0
    try:
        return yuan_to_fen(text.strip())
    except (ValueError, ArithmeticError) as exc:
        raise Invalid("not an amount in yuan", field=field) from exc


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
