"""Stores jobs (daily): fetch yesterday's WeCom contact statistics of every guide, read waiting group sends."""

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from yutang.messaging import service as messaging_service
from yutang.messaging.wecom import ChannelFailed
from yutang.storage.engine import unit_of_work
from yutang.stores import behavior, groupsends
from yutang.workspaces.access import Actor


def fetch_behavior(factory: sessionmaker[Session], *, actor: Actor, now: datetime | None = None) -> int:
    """Yesterday's statistics through each WeCom configuration of the workspace; returns guides fetched."""
    with unit_of_work(factory) as session:
        configs = [c.id for c in messaging_service.list_channels(session, actor=actor) if c.kind == "wecom"]
    fetched = 0
    for config_id in configs:
        with unit_of_work(factory) as session:
            fetched += behavior.fetch_day(session, actor=actor, config_id=config_id,
                                          day=behavior.yesterday(actor, now)).fetched
    return fetched


def sync_group_sends(factory: sessionmaker[Session], *, actor: Actor) -> int:
    """Read every waiting group send's confirmation and results, one unit of work each; returns how many were
    read (a refusal by WeCom leaves that one waiting for the next run)."""
    with unit_of_work(factory) as session:
        waiting = groupsends.waiting_sends(session, workspace_id=actor.workspace_id)
    read = 0
    for task_id in waiting:
        try:
            with unit_of_work(factory) as session:
                groupsends.sync(session, actor=actor, task_id=task_id)
            read += 1
        except ChannelFailed:
            continue
    return read
