"""Group-buy use cases of several units of work, shared by the API, the console, the CLI and the cut-off job."""

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from yutang.groupbuy import cutoff
from yutang.groupbuy.schemas import CutoffOut
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict
from yutang.storage.engine import unit_of_work
from yutang.workspaces.access import system_actor


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
