"""Group-buy use cases of several units of work, shared by the API, the console, the CLI and the cut-off job."""

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from yutang.groupbuy import cutoff, notices
from yutang.groupbuy.schemas import CutoffOut
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, DomainError
from yutang.storage.engine import unit_of_work
from yutang.workspaces.access import Actor, system_actor

log = logging.getLogger(__name__)


def cut_off_due(factory: sessionmaker[Session], *, now: datetime | None = None) -> list[CutoffOut]:
    """Cut off every open group-buy whose time has come, one unit of work each (one failing leaves the others)."""
    now = now or utcnow()
    with unit_of_work(factory) as session:
        due = cutoff.due(session, now=now)
    done = []
    for workspace_id, groupbuy_id in due:
        try:
            with unit_of_work(factory) as session:
                done.append(cutoff.cut_off(session, actor=system_actor(workspace_id), groupbuy_id=groupbuy_id,
                                           now=now))
        except Conflict:
            continue  # cut off by hand meanwhile
    return done


def tell_buyers(factory: sessionmaker[Session], *, actor: Actor, groupbuy_id: int) -> int:
    """Queue a closed group-buy's cut-off notices, one unit of work per batch; returns how many entries were
    covered. A failing batch (the channel turned off) stays for the next run."""
    told = 0
    while True:  # one unit of work per batch: a large group-buy never holds one long transaction
        with unit_of_work(factory) as session:
            covered = notices.notify(session, actor=actor, groupbuy_id=groupbuy_id)
        if not covered:
            return told
        told += covered


def tell_after_cut_off(factory: sessionmaker[Session], *, actor: Actor, groupbuy_id: int) -> int:
    """Right after a cut-off by hand commits: tell the buyers now; what fails waits for the cut-off job."""
    try:
        return tell_buyers(factory, actor=actor, groupbuy_id=groupbuy_id)
    except DomainError as exc:
        log.warning("group-buy %s: cut-off notices wait: %s", groupbuy_id, exc)
        return 0


def tell_due(factory: sessionmaker[Session]) -> int:
    """Queue the notices of every closed group-buy whose buyers are not all told (after a cut-off, or a crash)."""
    with unit_of_work(factory) as session:
        due = notices.pending(session)
    told = 0
    for workspace_id, groupbuy_id in due:
        told += tell_after_cut_off(factory, actor=system_actor(workspace_id), groupbuy_id=groupbuy_id)
    return told
