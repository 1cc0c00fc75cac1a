"""Referral programmes (老带新 / 任务宝 / 群裂变) and KOC distribution (分销): codes, touches, the review queue, the
share tree, distributors and bindings. Commissions go to the one ledger (/v1/commissions)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.commissions import service as commissions
from yutang.commissions.schemas import EntryOut
from yutang.referral import service
from yutang.referral.schemas import (
    AttributionOut,
    BindIn,
    BindingOut,
    CodeIn,
    CodeOut,
    DistributorIn,
    DistributorOut,
    DistributorPatch,
    ProgrammeIn,
    ProgrammeOut,
    ReviewIn,
    TouchIn,
    TreeOut,
)

router = APIRouter(prefix="/referral", tags=["referral"])
OptionalId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


@router.get("/programmes", response_model=list[ProgrammeOut])
def list_programmes(request: Request, actor: ActorDep):
    """Programmes, newest first."""
    with read_only(request) as session:
        return service.list_programmes(session, actor=actor)


@router.post("/programmes", response_model=ProgrammeOut, status_code=201)
def create_programme(request: Request, actor: ActorDep, data: ProgrammeIn):
    """A programme; commission depth over 2, a recruiting reward, a paid entry product or a reward for sharing are
    refused with the rule named (config.<field>), and nothing is written."""
    with unit_of_work(request) as session:
        return service.create_programme(session, actor=actor, data=data)


@router.get("/programmes/{programme_id}", response_model=ProgrammeOut)
def get_programme(request: Request, actor: ActorDep, programme_id: IdPath):
    """One programme."""
    with read_only(request) as session:
        return service.get_programme(session, actor=actor, programme_id=programme_id)


@router.get("/programmes/{programme_id}/tree", response_model=TreeOut)
def get_tree(request: Request, actor: ActorDep, programme_id: IdPath):
    """The share tree (分享裂变图): who invited whom, K-factor, cycle time, cost per valid invitee, flag rate."""
    with read_only(request) as session:
        rows, figures = service.tree(session, actor=actor, programme_id=programme_id)
        edges = [{"inviter_id": r.inviter_id, "customer_id": r.customer_id, "state": r.state,
                  "touched_at": r.touched_at.isoformat()} for r in rows]
        return TreeOut(edges=edges, **figures.__dict__)


@router.post("/programmes/{programme_id}/codes", response_model=CodeOut, status_code=201)
def issue_code(request: Request, actor: ActorDep, programme_id: IdPath, data: CodeIn):
    """A participant's invite code (the same again if they have one); its `state` goes on a WeCom contact-way code."""
    with unit_of_work(request) as session:
        return service.issue_code(session, actor=actor, programme_id=programme_id, customer_id=data.customer_id)


@router.post("/touches", response_model=AttributionOut, status_code=201)
def touch(request: Request, actor: ActorDep, data: TouchIn):
    """An invitee arrives through a code: first touch in the window wins; an existing customer is refused."""
    with unit_of_work(request) as session:
        return service.touch(session, actor=actor, code=data.code, customer_id=data.customer_id, at=data.at,
                             device=data.device)


@router.get("/attributions", response_model=list[AttributionOut])
def list_attributions(request: Request, actor: ActorDep, programme_id: OptionalId = None,
                      state: Annotated[str | None, Query(max_length=16)] = None):
    """Referrals, newest first; state=flagged is the review queue."""
    with read_only(request) as session:
        return service.list_attributions(session, actor=actor, programme_id=programme_id, state=state)


@router.post("/attributions/{attribution_id}/review", response_model=AttributionOut)
def review(request: Request, actor: ActorDep, attribution_id: IdPath, data: ReviewIn):
    """Approve or void a flagged referral."""
    with unit_of_work(request) as session:
        return service.review(session, actor=actor, attribution_id=attribution_id, decision=data.decision,
                              reason=data.reason)


@router.post("/settle", response_model=dict[str, int])
def settle(request: Request, actor: ActorDep):
    """Issue through loyalty the rewards whose hold is over, and reached tiers (also run nightly)."""
    with unit_of_work(request) as session:
        return {"issued": service.settle(session, actor=actor)}


@router.get("/distributors", response_model=list[DistributorOut])
def list_distributors(request: Request, actor: ActorDep):
    """Distributors."""
    with read_only(request) as session:
        return service.list_distributors(session, actor=actor)


@router.post("/distributors", response_model=DistributorOut, status_code=201)
def apply_distributor(request: Request, actor: ActorDep, data: DistributorIn):
    """A customer applies to distribute (no fee, no purchase to qualify)."""
    with unit_of_work(request) as session:
        return service.apply_distributor(session, actor=actor, programme_id=data.programme_id,
                                         customer_id=data.customer_id, parent_code=data.parent_code)


@router.get("/distributors/{distributor_id}", response_model=DistributorOut)
def get_distributor(request: Request, actor: ActorDep, distributor_id: IdPath):
    """One distributor."""
    with read_only(request) as session:
        return service.get_distributor(session, actor=actor, distributor_id=distributor_id)


@router.patch("/distributors/{distributor_id}", response_model=DistributorOut)
def set_status(request: Request, actor: ActorDep, distributor_id: IdPath, data: DistributorPatch):
    """Approve or suspend a distributor."""
    with unit_of_work(request) as session:
        return service.set_status(session, actor=actor, distributor_id=distributor_id, status=data.status)


@router.post("/bindings", response_model=BindingOut, status_code=201)
def bind(request: Request, actor: ActorDep, data: BindIn):
    """Bind a customer to a distributor through their code; a binding in force is protected until it expires."""
    with unit_of_work(request) as session:
        return service.bind(session, actor=actor, code=data.code, customer_id=data.customer_id, at=data.at)


@router.post("/orders/{order_id}/commissions", response_model=list[EntryOut], status_code=201)
def commission_order(request: Request, actor: ActorDep, order_id: IdPath):
    """Post a paid order's commissions now (the order.paid subscriber does this by itself; posting twice writes
    nothing more) and list the order's entries; refused for an order that was not paid."""
    with unit_of_work(request) as session:
        service.commission_order(session, actor=actor, order_id=order_id)
        return commissions.list_entries(session, actor=actor, order_id=order_id)
