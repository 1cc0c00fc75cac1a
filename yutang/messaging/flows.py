"""Messaging use cases that span more than one unit of work, called alike by the API and the console."""

from sqlalchemy.orm import Session, sessionmaker

from yutang.messaging import channel_configs
from yutang.messaging.adapters.base import CheckResult
from yutang.storage.engine import read_only
from yutang.workspaces.access import Actor, Permission


def check_channel(factory: sessionmaker[Session], *, actor: Actor, config_id: int) -> CheckResult:
    """Test a channel adapter against its peer (owners): the configuration is read in one unit, and the peer is
    called after it closes, as the sender does, so a slow peer holds no transaction."""
    actor.require(Permission.ADMIN)
    with read_only(factory) as session:
        config = channel_configs.get_channel(session, actor=actor, config_id=config_id)
        adapter = channel_configs.adapter_for(session, config)
    try:
        return adapter.check()
    finally:
        adapter.close()
