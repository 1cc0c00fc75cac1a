"""Create, change and list channels; record acquisition costs."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yutang.channels.models import Channel, ChannelCost
from yutang.channels.schemas import ChannelCostIn, ChannelIn, ChannelPatch
from yutang.kit.errors import Conflict, NotFound
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission


def create_channel(session: Session, *, actor: Actor, data: ChannelIn) -> Channel:
    """Register a touchpoint; its code is unique in the workspace."""
    actor.require(Permission.BULK)
    if _by_code(session, actor.workspace_id, data.code) is not None:
        raise Conflict(f"a channel with code {data.code!r} exists already", field="code")
    channel = Channel(workspace_id=actor.workspace_id, **data.model_dump(mode="json"))
    session.add(channel)
    session.flush()
    workspaces_service.record(session, actor=actor, action="channel.created", entity_type="channel",
                              entity_id=channel.id, changes=data.model_dump(mode="json"))
    return channel


def update_channel(session: Session, *, actor: Actor, channel_id: int, data: ChannelPatch) -> Channel:
    """Change a channel's name, role, domain or settings."""
    actor.require(Permission.BULK)
    channel = get_channel(session, actor=actor, channel_id=channel_id)
    changes = data.changes()
    for key, value in changes.items():
        setattr(channel, key, value)
    workspaces_service.record(session, actor=actor, action="channel.updated", entity_type="channel",
                              entity_id=channel.id, changes=changes)
    return channel


def _by_code(session: Session, workspace_id: int, code: str) -> Channel | None:
    return session.scalar(select(Channel).where(Channel.workspace_id == workspace_id, Channel.code == code))


def get_channel(session: Session, *, actor: Actor, channel_id: int) -> Channel:
    """A channel of the actor's workspace by id."""
    return get_in_workspace(session, Channel, channel_id, workspace_id=actor.workspace_id, what="channel",
                            field="channel_id")


def find_channel(session: Session, *, actor: Actor, code: str, field: str = "channel") -> Channel:
    """A channel of the actor's workspace by code."""
    channel = _by_code(session, actor.workspace_id, code)
    if channel is None:
        raise NotFound(f"no channel with code {code!r}", field=field)
    return channel


def channels_by_id(session: Session, *, actor: Actor, ids: set[int]) -> dict[int, Channel]:
    """Channels of the workspace keyed by id, for labelling."""
    if not ids:
        return {}
    rows = session.scalars(select(Channel).where(Channel.workspace_id == actor.workspace_id, Channel.id.in_(ids)))
    return {row.id: row for row in rows}


def list_channels(session: Session, *, actor: Actor) -> list[Channel]:
    """All channels of the workspace, by code."""
    actor.require(Permission.READ)
    query = select(Channel).where(Channel.workspace_id == actor.workspace_id).order_by(Channel.code)
    return list(session.scalars(query))


def add_cost(session: Session, *, actor: Actor, channel_id: int, data: ChannelCostIn) -> ChannelCost:
    """Record spend on a channel over a period."""
    actor.require(Permission.BULK)
    channel = get_channel(session, actor=actor, channel_id=channel_id)
    cost = ChannelCost(workspace_id=actor.workspace_id, channel_id=channel.id, **data.model_dump())
    session.add(cost)
    session.flush()
    workspaces_service.record(session, actor=actor, action="channel.cost_added", entity_type="channel",
                              entity_id=channel.id, changes=data.model_dump(mode="json"))
    return cost


def list_costs(session: Session, *, actor: Actor, channel_id: int) -> list[ChannelCost]:
    """Cost entries of a channel, oldest period first."""
    actor.require(Permission.READ)
    channel = get_channel(session, actor=actor, channel_id=channel_id)
    return list(session.scalars(select(ChannelCost).where(ChannelCost.channel_id == channel.id)
                                .order_by(ChannelCost.period_start, ChannelCost.id)))


def total_costs(session: Session, *, actor: Actor) -> dict[int, int]:
    """Total recorded spend per channel id, in fen."""
    actor.require(Permission.READ)
    rows = session.execute(select(ChannelCost.channel_id, func.sum(ChannelCost.amount_fen))
                           .where(ChannelCost.workspace_id == actor.workspace_id)
                           .group_by(ChannelCost.channel_id))
    return {channel_id: int(total) for channel_id, total in rows}
