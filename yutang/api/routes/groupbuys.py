"""Group-buys (接龙): set-up, the join a mini program calls, the public list, cut-off, production, pick-up, refunds."""

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from yutang.api.deps import ActorDep, IdPath, database, read_only, unit_of_work
from yutang.groupbuy import flows, service
from yutang.groupbuy.schemas import (
    AfterSaleOut,
    CutoffOut,
    EndingIn,
    EntryLineOut,
    EntryOut,
    ForecastOut,
    GroupBuyIn,
    GroupBuyOut,
    GroupBuyPatch,
    JoinIn,
    LeaderIn,
    LeaderOut,
    PickRow,
    PlanRow,
    PointIn,
    PointOut,
    PublicEntryOut,
    RefundIn,
    Status,
    VerifyIn,
)
from yutang.kit.clock import utcnow
from yutang.kit.fields import NonNegative

router = APIRouter(prefix="/groupbuys", tags=["groupbuys"])
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("", response_model=list[GroupBuyOut])
def list_groupbuys(request: Request, actor: ActorDep, status: Status | None = None, limit: Limit = 50):
    """The workspace's group-buys, newest first, with their items."""
    with read_only(request) as session:
        return [service.present(session, groupbuy=g)
                for g in service.list_groupbuys(session, actor=actor, status=status, limit=limit)]


@router.post("", response_model=GroupBuyOut, status_code=201)
def create_groupbuy(request: Request, actor: ActorDep, data: GroupBuyIn):
    """A draft group-buy; a 定金 above 20% of its item's price is refused naming the item."""
    with unit_of_work(request) as session:
        return service.present(session, groupbuy=service.create_groupbuy(session, actor=actor, data=data))


@router.get("/production-plan", response_model=list[PlanRow])
def production_plan(request: Request, actor: ActorDep, since: date | None = None, until: date | None = None):
    """Units to make per SKU per production date."""
    with read_only(request) as session:
        return service.production_plan(session, actor=actor, since=since, until=until)


@router.get("/forecast", response_model=list[ForecastOut])
def forecast(request: Request, actor: ActorDep):
    """Per SKU: the suggested quantity for the next production date from history by weekday, and the
    actual-versus-forecast error of recent rounds."""
    with read_only(request) as session:
        return service.forecasts(session, actor=actor, today=utcnow().astimezone(ZoneInfo(actor.timezone)).date())


@router.get("/leaders", response_model=list[LeaderOut])
def list_leaders(request: Request, actor: ActorDep):
    """Community leaders (团长) and their commission rates."""
    with read_only(request) as session:
        return service.list_leaders(session, actor=actor)


@router.post("/leaders", response_model=LeaderOut, status_code=201)
def create_leader(request: Request, actor: ActorDep, data: LeaderIn):
    """A community leader."""
    with unit_of_work(request) as session:
        return LeaderOut.model_validate(service.create_leader(session, actor=actor, data=data))


@router.get("/points", response_model=list[PointOut])
def list_points(request: Request, actor: ActorDep):
    """Pick-up points."""
    with read_only(request) as session:
        return service.list_points(session, actor=actor)


@router.post("/points", response_model=PointOut, status_code=201)
def create_point(request: Request, actor: ActorDep, data: PointIn):
    """A pick-up point at a store or a leader's."""
    with unit_of_work(request) as session:
        return PointOut.model_validate(service.create_point(session, actor=actor, data=data))


@router.get("/{groupbuy_id}", response_model=GroupBuyOut)
def get_groupbuy(request: Request, actor: ActorDep, groupbuy_id: IdPath):
    """One group-buy with its items and what each has taken."""
    with read_only(request) as session:
        return service.present(session, groupbuy=service.get_groupbuy(session, actor=actor, groupbuy_id=groupbuy_id))


@router.patch("/{groupbuy_id}", response_model=GroupBuyOut)
def update_groupbuy(request: Request, actor: ActorDep, groupbuy_id: IdPath, data: GroupBuyPatch):
    """Change a group-buy; once published its prices and deposits are refused if changed."""
    with unit_of_work(request) as session:
        return service.present(session, groupbuy=service.update_groupbuy(session, actor=actor,
                                                                          groupbuy_id=groupbuy_id, data=data))


@router.post("/{groupbuy_id}/publish", response_model=GroupBuyOut)
def publish(request: Request, actor: ActorDep, groupbuy_id: IdPath):
    """Open a draft for joining; its prices are frozen from now on."""
    with unit_of_work(request) as session:
        return service.present(session, groupbuy=service.publish(session, actor=actor, groupbuy_id=groupbuy_id))


@router.post("/{groupbuy_id}/cutoff", response_model=CutoffOut)
def cut_off(request: Request, actor: ActorDep, groupbuy_id: IdPath):
    """Cut off now (early by hand, or late if the job has not run): each item goes ahead or is cancelled by its
    minimum; cancelled lines are refunded, confirmed ones asked for their balance."""
    with unit_of_work(request) as session:
        done = service.cut_off(session, actor=actor, groupbuy_id=groupbuy_id, early=True)
    flows.tell_after_cut_off(database(request).factory, actor=actor, groupbuy_id=groupbuy_id)
    return done


@router.post("/{groupbuy_id}/entries", response_model=EntryOut, status_code=201,
             responses={200: {"description": "the request key was used before: the first entry, unchanged"}})
def join(request: Request, response: Response, actor: ActorDep, groupbuy_id: IdPath, data: JoinIn):
    """Join (跟团), as a mini program does: a 跟团号, quantities within the per-person limit and the cap, a pick-up
    point and a remark. A repeated request key returns the first entry (200)."""
    with unit_of_work(request) as session:
        entry, created = service.join(session, actor=actor, groupbuy_id=groupbuy_id, data=data)
        if not created:
            response.status_code = 200
        return service.present_entries(session, entries=[entry])[0]


@router.get("/{groupbuy_id}/entries", response_model=list[EntryOut])
def list_entries(request: Request, actor: ActorDep, groupbuy_id: IdPath, after_number: NonNegative = 0,
                 limit: Limit = 100):
    """Entries by 跟团号 with their lines and codes (a guide sees their own customers')."""
    with read_only(request) as session:
        return service.present_entries(session, entries=service.list_entries(
            session, actor=actor, groupbuy_id=groupbuy_id, after_number=after_number, limit=limit))


@router.get("/{groupbuy_id}/public", response_model=list[PublicEntryOut])
def public_list(request: Request, actor: ActorDep, groupbuy_id: IdPath, after_number: NonNegative = 0,
                limit: Limit = 200):
    """The list buyers see: 跟团号, masked name (王*) and quantities."""
    with read_only(request) as session:
        return service.public_list(session, actor=actor, groupbuy_id=groupbuy_id, after_number=after_number,
                                   limit=limit)


@router.get("/{groupbuy_id}/pick-lists", response_model=list[PickRow])
def pick_lists(request: Request, actor: ActorDep, groupbuy_id: IdPath):
    """Units per pick-up point and SKU."""
    with read_only(request) as session:
        return service.pick_lists(session, actor=actor, groupbuy_id=groupbuy_id)


@router.post("/{groupbuy_id}/verify", response_model=EntryOut)
def verify(request: Request, actor: ActorDep, groupbuy_id: IdPath, data: VerifyIn):
    """Hand an entry over against its code (核销); a second verification is refused."""
    with unit_of_work(request) as session:
        entry = service.verify(session, actor=actor, groupbuy_id=groupbuy_id, code=data.code)
        return service.present_entries(session, entries=[entry])[0]


@router.post("/{groupbuy_id}/endings", response_model=EntryLineOut)
def end_line(request: Request, actor: ActorDep, groupbuy_id: IdPath, data: EndingIn):
    """A confirmed line not picked up: a no-show (a 定金 is forfeited) or the shop's default (returned double)."""
    with unit_of_work(request) as session:
        return EntryLineOut.model_validate(service.end_line(session, actor=actor, groupbuy_id=groupbuy_id, data=data))


@router.post("/{groupbuy_id}/refunds", response_model=AfterSaleOut)
def refund(request: Request, actor: ActorDep, groupbuy_id: IdPath, data: RefundIn):
    """An after-sales refund; fresh goods without return. Answers the line's revenue, cost and profit after it."""
    with unit_of_work(request) as session:
        return service.refund(session, actor=actor, groupbuy_id=groupbuy_id, data=data)
