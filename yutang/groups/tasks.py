"""Groups job (daily): read WeCom's answers for sends to groups still waiting and for recent Moments posts."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from yutang.groups import moments, sends
from yutang.groups.models import GroupSend, Moment
from yutang.kit.clock import utcnow
from yutang.messaging.wecom import ChannelFailed
from yutang.storage.engine import unit_of_work
from yutang.workspaces.access import Actor

# Comments and likes keep coming for a while after a post: its figures are read again for a week.
MOMENT_FOLLOW = timedelta(days=7)


def sync_waiting(factory: sessionmaker[Session], *, actor: Actor) -> int:
    """Sync every waiting send and every Moments post of the last week, one unit of work each; returns how many were
    read (a refusal by WeCom leaves that one for the next run)."""
    with unit_of_work(factory) as session:
        waiting = list(session.scalars(select(GroupSend.id).where(GroupSend.workspace_id == actor.workspace_id,
                                                                  GroupSend.status == "waiting")))
        recent = list(session.scalars(select(Moment.id).where(Moment.workspace_id == actor.workspace_id,
                                                              Moment.status != "failed",
                                                              Moment.created_at >= utcnow() - MOMENT_FOLLOW)))
    read = 0
    for sync, ids, key in ((sends.sync_send, waiting, "send_id"), (moments.sync_moment, recent, "moment_id")):
        for item in ids:
            try:
                with unit_of_work(factory) as session:
                    sync(session, actor=actor, **{key: item})
                read += 1
            except ChannelFailed:
                continue
    return read
