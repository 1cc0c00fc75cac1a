"""Loyalty programme: earn rules, tiers, coupon templates and coupons, point tasks and their review queue."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse

from yutang.api.deps import ActorDep, CaughtUp, IdPath, read_only, unit_of_work
from yutang.api.pages import Page, page_of
from yutang.kit.errors import NotFound
from yutang.kit.fields import INT64_MAX
from yutang.kit.pagination import decode_cursor
from yutang.loyalty import coupons, point_tasks, rules, tiers
from yutang.loyalty.schemas import (
    BulkIssueIn,
    BulkIssueOut,
    CouponOut,
    CouponRedeemIn,
    CouponTemplateIn,
    CouponTemplateOut,
    CustomerTierOut,
    EarnRuleIn,
    EarnRuleOut,
    IssueIn,
    PointTaskIn,
    PointTaskOut,
    ReviewIn,
    SubmissionOut,
    TemplateStats,
    TierIn,
    TierOut,
)

router = APIRouter(prefix="/loyalty", tags=["loyalty"])


@router.get("/rules", response_model=list[EarnRuleOut])
def list_rules(request: Request, actor: ActorDep):
    """Earn rules."""
    with read_only(request) as session:
        return rules.list_rules(session, actor=actor)


@router.post("/rules", response_model=EarnRuleOut, status_code=201)
def create_rule(request: Request, actor: ActorDep, data: EarnRuleIn):
    """Add an earn rule (per paid order or per event)."""
    with unit_of_work(request) as session:
        return rules.create_rule(session, actor=actor, data=data)


@router.put("/rules/{rule_id}", response_model=EarnRuleOut)
def update_rule(request: Request, actor: ActorDep, rule_id: IdPath, data: EarnRuleIn):
    """Replace an earn rule."""
    with unit_of_work(request) as session:
        return rules.update_rule(session, actor=actor, rule_id=rule_id, data=data)


@router.get("/tiers", response_model=list[TierOut])
def list_tiers(request: Request, actor: ActorDep):
    """Tiers, lowest first."""
    with read_only(request) as session:
        return tiers.list_tiers(session, actor=actor)


@router.post("/tiers", response_model=TierOut, status_code=201)
def create_tier(request: Request, actor: ActorDep, data: TierIn):
    """Add a tier."""
    with unit_of_work(request) as session:
        return tiers.create_tier(session, actor=actor, data=data)


@router.put("/tiers/{tier_id}", response_model=TierOut)
def update_tier(request: Request, actor: ActorDep, tier_id: IdPath, data: TierIn):
    """Replace a tier."""
    with unit_of_work(request) as session:
        return tiers.update_tier(session, actor=actor, tier_id=tier_id, data=data)


@router.get("/customers/{customer_id}/tier", response_model=CustomerTierOut)
def customer_tier(request: Request, actor: ActorDep, customer_id: IdPath):
    """A customer's tier, benefits, qualifying figure and history."""
    with read_only(request) as session:
        return tiers.customer_tier(session, actor=actor, customer_id=customer_id)


@router.get("/customers/{customer_id}/coupons", response_model=list[CouponOut])
def customer_coupons(request: Request, actor: ActorDep, customer_id: IdPath):
    """A customer's coupons, newest first."""
    with read_only(request) as session:
        return coupons.coupons_of(session, actor=actor, customer_id=customer_id)


@router.get("/coupon-templates", response_model=list[CouponTemplateOut])
def list_templates(request: Request, actor: ActorDep):
    """Coupon templates, newest first."""
    with read_only(request) as session:
        return coupons.list_templates(session, actor=actor)


@router.post("/coupon-templates", response_model=CouponTemplateOut, status_code=201)
def create_template(request: Request, actor: ActorDep, data: CouponTemplateIn):
    """Add a coupon template."""
    with unit_of_work(request) as session:
        return coupons.create_template(session, actor=actor, data=data)


@router.put("/coupon-templates/{coupon_template_id}", response_model=CouponTemplateOut)
def update_template(request: Request, actor: ActorDep, coupon_template_id: IdPath, data: CouponTemplateIn):
    """Replace a coupon template."""
    with unit_of_work(request) as session:
        return coupons.update_template(session, actor=actor, template_id=coupon_template_id, data=data)


@router.get("/coupon-templates/{coupon_template_id}/stats", response_model=TemplateStats)
def template_stats(request: Request, actor: ActorDep, coupon_template_id: IdPath):
    """Issued, redeemed, redemption rate and GMV of orders that used the template's coupons."""
    with read_only(request) as session:
        coupons.get_template(session, actor=actor, template_id=coupon_template_id)
        return coupons.stats(session, actor=actor, template_ids=[coupon_template_id])[coupon_template_id]


@router.post("/coupon-templates/{coupon_template_id}/issue", response_model=CouponOut)
def issue(request: Request, actor: ActorDep, coupon_template_id: IdPath, data: IssueIn):
    """Issue one coupon to a customer (or as a reward); the same key returns the first coupon."""
    with unit_of_work(request) as session:
        coupon, _ = coupons.issue(session, actor=actor, template_id=coupon_template_id, customer_id=data.customer_id,
                                  key=data.idempotency_key, reason=data.reason)
        return coupon


@router.post("/coupon-templates/{coupon_template_id}/issue-bulk", response_model=BulkIssueOut)
def issue_bulk(request: Request, actor: ActorDep, pipeline: CaughtUp, coupon_template_id: IdPath,
               data: BulkIssueIn):
    """Issue to a list of customers, everyone with a tag or a segment's members; repeats with the same key issue
    nothing more."""
    with unit_of_work(request) as session:
        return coupons.bulk_issue(session, actor=actor, template_id=coupon_template_id, key=data.idempotency_key,
                                  customer_ids=data.customer_ids, tag_id=data.tag_id, segment_id=data.segment_id,
                                  membership=pipeline.segments,
                                  reason=data.reason)


@router.get("/coupons/{coupon_id}", response_model=CouponOut)
def get_coupon(request: Request, actor: ActorDep, coupon_id: IdPath):
    """One coupon."""
    with read_only(request) as session:
        return coupons.get_coupon(session, actor=actor, coupon_id=coupon_id)


@router.post("/coupons/{coupon_id}/redeem", response_model=CouponOut)
def redeem(request: Request, actor: ActorDep, coupon_id: IdPath, data: CouponRedeemIn):
    """Redeem against an order exactly once; another order gets 409 coupon-unavailable."""
    with unit_of_work(request) as session:
        coupon, _ = coupons.redeem(session, actor=actor, coupon_id=coupon_id, data=data)
        return coupon


@router.get("/tasks", response_model=list[PointTaskOut])
def list_tasks(request: Request, actor: ActorDep):
    """Point tasks."""
    with read_only(request) as session:
        return point_tasks.list_tasks(session, actor=actor)


@router.post("/tasks", response_model=PointTaskOut, status_code=201)
def create_task(request: Request, actor: ActorDep, data: PointTaskIn):
    """Add a point task."""
    with unit_of_work(request) as session:
        return point_tasks.create_task(session, actor=actor, data=data)


@router.post("/tasks/{task_id}/submissions", response_model=SubmissionOut, status_code=201)
def submit(request: Request, actor: ActorDep, task_id: IdPath, customer_id: Annotated[int, Form(ge=1, le=INT64_MAX)],
           image: UploadFile = File(...), note: Annotated[str, Form(max_length=2000)] = ""):
    """A customer's proof (multipart: customer_id, note, image); the same picture seen before is flagged."""
    data = image.file.read(point_tasks.MAX_IMAGE_BYTES + 1)
    with unit_of_work(request) as session:
        return point_tasks.submit(session, actor=actor, task_id=task_id, customer_id=customer_id, note=note,
                                  image=data, store_dir=request.app.state.settings.data_dir)


@router.get("/submissions", response_model=Page[SubmissionOut])
def review_queue(request: Request, actor: ActorDep, status: str | None = Query("pending"),
                 cursor: str | None = None, limit: int = Query(50, ge=1, le=500)):
    """Submissions of a status (pending by default), newest first."""
    with read_only(request) as session:
        rows = point_tasks.queue(session, actor=actor, status=status or None, before_id=decode_cursor(cursor),
                                 limit=limit + 1)
        return page_of([SubmissionOut.model_validate(r) for r in rows], ids=[r.id for r in rows], limit=limit)


@router.post("/submissions/{submission_id}/review", response_model=SubmissionOut)
def review(request: Request, actor: ActorDep, submission_id: IdPath, data: ReviewIn):
    """Approve (points awarded once) or reject with a reason."""
    with unit_of_work(request) as session:
        return point_tasks.review(session, actor=actor, submission_id=submission_id, data=data)


@router.get("/submissions/{submission_id}/image", response_class=FileResponse)
def submission_image(request: Request, actor: ActorDep, submission_id: IdPath):
    """The proof image."""
    with read_only(request) as session:
        submission = point_tasks.get_submission(session, actor=actor, submission_id=submission_id)
        path = submission.image_path
    if not path:
        raise NotFound("the image was erased", field="submission_id")
    return FileResponse(path)
