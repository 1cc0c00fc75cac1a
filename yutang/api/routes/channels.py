"""Channels (touchpoints) and their acquisition costs."""

from fastapi import APIRouter, Request

from yutang.api.deps import ActorDep, IdPath, read_only, unit_of_work
from yutang.channels import service
from yutang.channels.schemas import ChannelCostIn, ChannelCostOut, ChannelIn, ChannelOut, ChannelPatch

router = APIRouter(prefix="/channels", tags=["channels"])


@router.get("", response_model=list[ChannelOut])
def list_channels(request: Request, actor: ActorDep):
    """All channels of the workspace."""
    with read_only(request) as session:
        return service.list_channels(session, actor=actor)


@router.post("", response_model=ChannelOut, status_code=201)
def create_channel(request: Request, actor: ActorDep, data: ChannelIn):
    """Register a channel."""
    with unit_of_work(request) as session:
        return service.create_channel(session, actor=actor, data=data)


@router.get("/{channel_id}", response_model=ChannelOut)
def get_channel(request: Request, actor: ActorDep, channel_id: IdPath):
    """One channel."""
    with read_only(request) as session:
        return service.get_channel(session, actor=actor, channel_id=channel_id)


@router.patch("/{channel_id}", response_model=ChannelOut)
def update_channel(request: Request, actor: ActorDep, channel_id: IdPath, data: ChannelPatch):
    """Change a channel."""
    with unit_of_work(request) as session:
        return service.update_channel(session, actor=actor, channel_id=channel_id, data=data)


@router.get("/{channel_id}/costs", response_model=list[ChannelCostOut])
def list_costs(request: Request, actor: ActorDep, channel_id: IdPath):
    """Acquisition cost entries of a channel."""
    with read_only(request) as session:
        return service.list_costs(session, actor=actor, channel_id=channel_id)


@router.post("/{channel_id}/costs", response_model=ChannelCostOut, status_code=201)
def add_cost(request: Request, actor: ActorDep, channel_id: IdPath, data: ChannelCostIn):
    """Record spend on a channel over a period (fen)."""
    with unit_of_work(request) as session:
        return service.add_cost(session, actor=actor, channel_id=channel_id, data=data)
