"""A workspace's loyalty settings (expiry policy, negative balances, valuation, tier window)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.kit.clock import utcnow
from yutang.loyalty.models import LoyaltySettings
from yutang.loyalty.schemas import SettingsIn
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

DEFAULTS = SettingsIn()


def settings_of(session: Session, *, workspace_id: int) -> LoyaltySettings:
    """The stored settings, or the defaults (not stored) when the workspace never changed them."""
    row = session.scalar(select(LoyaltySettings).where(LoyaltySettings.workspace_id == workspace_id))
    return row or LoyaltySettings(workspace_id=workspace_id, **DEFAULTS.model_dump())


def update_settings(session: Session, *, actor: Actor, data: SettingsIn) -> LoyaltySettings:
    """Replace the workspace's loyalty settings."""
    actor.require(Permission.ADMIN)
    row = session.scalar(select(LoyaltySettings).where(LoyaltySettings.workspace_id == actor.workspace_id)
                         .with_for_update())
    if row is None:
        row = LoyaltySettings(workspace_id=actor.workspace_id)
        session.add(row)
    for name, value in data.model_dump().items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.flush()
    workspaces_service.record(session, actor=actor, action="loyalty.settings_changed", entity_type="workspace",
                              entity_id=actor.workspace_id, changes=data.model_dump())
    return row
