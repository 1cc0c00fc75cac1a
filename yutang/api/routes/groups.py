"""Customer groups (社群), group QR codes and group health."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.groups import service
from yutang.groups.schemas import (
    ActivityIn,
    ActivityOut,
    CustomerGroupOut,
    GroupCodeIn,
    GroupCodeOut,
    GroupCodeStatsOut,
    GroupOut,
    GroupSendIn,
    GroupSendOut,
    GroupSyncIn,
    GroupSyncOut,
    HealthOut,
    MemberOut,
    MomentIn,
    MomentOut,
    OwnerHealthOut,
    StatsPullIn,
    StatsPullOut,
)

router = APIRouter(prefix="/groups", tags=["groups"])


def _out(group, members: int) -> GroupOut:
    return GroupOut.model_validate(group).model_copy(update={"members": members})


@router.post("/wecom-sync", response_model=GroupSyncOut)
def sync_groups(request: Request, actor: ActorDep, data: GroupSyncIn):
    """Pull WeCom's customer groups with their members; external members become customers through OneID."""
    with unit_of_work(request) as session:
        return service.sync_groups(session, actor=actor, config_id=data.config_id,
                                    page_size=data.page_size)


@router.get("", response_model=list[GroupOut])
def list_groups(request: Request, actor: ActorDep, include_dismissed: bool = False):
    """Customer groups with their member counts."""
    with read_only(request) as session:
        return [_out(g, n) for g, n in service.list_groups(session, actor=actor,
                                                            include_dismissed=include_dismissed)]


@router.get("/customers/{customer_id}", response_model=list[CustomerGroupOut])
def groups_of_customer(request: Request, actor: ActorDep, customer_id: IdPath):
    """The groups a customer is or was in."""
    with read_only(request) as session:
        return service.customer_groups(session, actor=actor, customer_id=customer_id)


@router.post("/statistics/pull", response_model=StatsPullOut)
def pull_statistics(request: Request, actor: ActorDep, data: StatsPullIn):
    """Pull WeCom's per-owner group statistics (groupchat/statistic) for each day, stored per owner and day."""
    with unit_of_work(request) as session:
        return service.pull_statistics(session, actor=actor, config_id=data.config_id, start=data.start,
                                       end=data.end)


@router.get("/health", response_model=list[HealthOut])
def group_health(request: Request, actor: ActorDep, as_of: date | None = None,
                 owner_userid: Annotated[str | None, Query(max_length=64)] = None, silent: bool = False):
    """Each live group's health up to a day (today): members, joins, quits, messages, who spoke; silent flagged."""
    with read_only(request) as session:
        return service.group_health(session, actor=actor, as_of=as_of, owner_userid=owner_userid,
                                    silent_only=silent)


@router.get("/health/owners", response_model=list[OwnerHealthOut])
def owner_health(request: Request, actor: ActorDep, as_of: date | None = None):
    """Group health per owner, with WeCom's statistics over 30 days."""
    with read_only(request) as session:
        return service.owner_health(session, actor=actor, as_of=as_of)


@router.get("/codes", response_model=list[GroupCodeOut])
def list_codes(request: Request, actor: ActorDep, include_deleted: bool = False):
    """Group QR codes, newest first."""
    with read_only(request) as session:
        return service.list_codes(session, actor=actor, include_deleted=include_deleted)


@router.post("/codes", response_model=GroupCodeOut, status_code=201)
def create_code(request: Request, actor: ActorDep, data: GroupCodeIn):
    """A group QR code (群活码) over up to five groups, its state naming the source."""
    with unit_of_work(request) as session:
        return service.create_code(session, actor=actor, data=data)


@router.get("/codes/{group_code_id}", response_model=GroupCodeOut)
def get_code(request: Request, actor: ActorDep, group_code_id: IdPath):
    """One group code."""
    with read_only(request) as session:
        return service.get_code(session, actor=actor, code_id=group_code_id)


@router.delete("/codes/{group_code_id}", response_model=GroupCodeOut)
def delete_code(request: Request, actor: ActorDep, group_code_id: IdPath):
    """Delete the code in WeCom; its figures stay."""
    with unit_of_work(request) as session:
        return service.delete_code(session, actor=actor, code_id=group_code_id)


@router.get("/codes/{group_code_id}/stats", response_model=GroupCodeStatsOut)
def code_stats(request: Request, actor: ActorDep, group_code_id: IdPath):
    """Joins, quits and members staying through one code."""
    with read_only(request) as session:
        return service.code_stats(session, actor=actor, code_id=group_code_id)


@router.post("/sends", response_model=GroupSendOut, status_code=201)
def create_send(request: Request, actor: ActorDep, data: GroupSendIn):
    """A message to one owner's customer groups through WeCom, which the owner confirms by send_at (a staff task)."""
    with unit_of_work(request) as session:
        return service.send_to_groups(session, actor=actor, data=data)


@router.get("/sends", response_model=list[GroupSendOut])
def list_sends(request: Request, actor: ActorDep):
    """Group sends, the latest first."""
    with read_only(request) as session:
        return service.list_sends(session, actor=actor)


@router.get("/sends/{group_send_id}", response_model=GroupSendOut)
def get_send(request: Request, actor: ActorDep, group_send_id: IdPath):
    """One group send with its result per group."""
    with read_only(request) as session:
        return service.get_send(session, actor=actor, send_id=group_send_id)


@router.post("/sends/{group_send_id}/sync", response_model=GroupSendOut)
def sync_send(request: Request, actor: ActorDep, group_send_id: IdPath):
    """Read WeCom's answer: the owner's confirmation and each group's result."""
    with unit_of_work(request) as session:
        return service.sync_send(session, actor=actor, send_id=group_send_id)


@router.post("/moments", response_model=MomentOut, status_code=201)
def publish_moment(request: Request, actor: ActorDep, data: MomentIn):
    """A Moments post (客户朋友圈) for chosen staff to publish to customers with chosen WeCom tags."""
    with unit_of_work(request) as session:
        return service.publish_moment(session, actor=actor, data=data)


@router.get("/moments", response_model=list[MomentOut])
def list_moments(request: Request, actor: ActorDep):
    """Moments posts, the latest first."""
    with read_only(request) as session:
        return service.list_moments(session, actor=actor)


@router.get("/moments/{moment_id}", response_model=MomentOut)
def get_moment(request: Request, actor: ActorDep, moment_id: IdPath):
    """One Moments post with who published it, comments and likes."""
    with read_only(request) as session:
        return service.get_moment(session, actor=actor, moment_id=moment_id)


@router.post("/moments/{moment_id}/sync", response_model=MomentOut)
def sync_moment(request: Request, actor: ActorDep, moment_id: IdPath):
    """Read WeCom's answers: the moment id, who published, comments and likes."""
    with unit_of_work(request) as session:
        return service.sync_moment(session, actor=actor, moment_id=moment_id)


@router.get("/{group_chat_id}", response_model=GroupOut)
def get_group(request: Request, actor: ActorDep, group_chat_id: IdPath):
    """One group."""
    with read_only(request) as session:
        return _out(*service.group_with_count(session, actor=actor, group_id=group_chat_id))


@router.get("/{group_chat_id}/members", response_model=list[MemberOut])
def members(request: Request, actor: ActorDep, group_chat_id: IdPath, current: bool = True):
    """A group's members (former ones too with current=false)."""
    with read_only(request) as session:
        return service.members_of(session, actor=actor, group_id=group_chat_id, current=current)


@router.post("/{group_chat_id}/activity", response_model=ActivityOut)
def record_activity(request: Request, actor: ActorDep, group_chat_id: IdPath, data: ActivityIn):
    """Record one group's talk on a day (from the chat archive or an import): messages and who spoke."""
    with unit_of_work(request) as session:
        return service.record_activity(session, actor=actor, group_id=group_chat_id, data=data)
