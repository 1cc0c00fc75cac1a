"""Messaging channel configurations: settings checked per kind, secrets sealed, adapters built."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid
from yutang.messaging import vault
from yutang.messaging.adapters import build
from yutang.messaging.adapters.base import ChannelAdapter
from yutang.messaging.models import ChannelConfig, InboxQueue
from yutang.messaging.schemas import ChannelConfigIn, ChannelConfigOut, ChannelConfigPatch
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

# What each kind needs: (settings keys, secret keys).
REQUIRED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "wecom": (("corp_id",), ("corp_secret",)),
    "wechat_oa": (("appid",), ("app_secret",)),
    "wechat_mp": (("appid",), ("app_secret",)),
    "email": (("host", "sender"), ()),
    "sms": (("url",), ("api_key",)),
    "webhook": (("url",), ("secret",)),
    "null": ((), ()),
}


def _secret_key(session: Session) -> str:
    return session.info["pii_key"]


def _check_config(kind: str, settings: dict, secret_values: dict) -> None:
    needed_settings, needed_secrets = REQUIRED[kind]
    for key in needed_settings:
        if not settings.get(key):
            raise Invalid(f"a {kind} channel needs settings.{key}", field=f"settings.{key}")
    for key in needed_secrets:
        if not secret_values.get(key):
            raise Invalid(f"a {kind} channel needs secrets.{key}", field=f"secrets.{key}")
    if kind == "email" and settings.get("port") not in (None, ""):
        port = settings["port"]
        if isinstance(port, bool) or not str(port).isdigit() or not 0 < int(port) < 65536:
            raise Invalid("the SMTP port is a whole number from 1 to 65535", field="settings.port")
    if kind == "webhook" and not str(secret_values["secret"]).startswith("whsec_"):
        raise Invalid("a webhook secret is whsec_ followed by base64", field="secrets.secret")
    if kind == "wecom" and secret_values.get("encoding_aes_key") and len(secret_values["encoding_aes_key"]) != 43:
        raise Invalid("the EncodingAESKey is 43 characters", field="secrets.encoding_aes_key")


def create_channel(session: Session, *, actor: Actor, data: ChannelConfigIn) -> ChannelConfig:
    """Configure a channel; its secrets are encrypted and never shown again."""
    actor.require(Permission.ADMIN)
    _check_config(data.kind.value, data.settings, data.secrets)
    if session.scalar(select(ChannelConfig.id).where(ChannelConfig.workspace_id == actor.workspace_id,
                                                     ChannelConfig.name == data.name)):
        raise Conflict(f"a messaging channel named {data.name!r} exists", field="name")
    acquisition = None
    if data.acquisition_channel:
        acquisition = channels_service.find_channel(session, actor=actor, code=data.acquisition_channel,
                                                    field="acquisition_channel").id
    if data.queue_id is not None:
        _queue(session, actor, data.queue_id)
    config = ChannelConfig(workspace_id=actor.workspace_id, kind=data.kind.value, name=data.name,
                           settings=data.settings, secrets=vault.seal(_secret_key(session), data.secrets),
                           enabled=data.enabled, acquisition_channel_id=acquisition, queue_id=data.queue_id)
    session.add(config)
    session.flush()
    workspaces_service.record(session, actor=actor, action="messaging.channel_created", entity_type="channel_config",
                              entity_id=config.id, changes={"kind": config.kind, "secrets": sorted(data.secrets)})
    return config


def _queue(session: Session, actor: Actor, queue_id: int) -> InboxQueue:
    return get_in_workspace(session, InboxQueue, queue_id, workspace_id=actor.workspace_id, what="queue",
                            field="queue_id")


def update_channel(session: Session, *, actor: Actor, config_id: int, data: ChannelConfigPatch) -> ChannelConfig:
    """Merge settings, replace the given secrets, enable or disable."""
    actor.require(Permission.ADMIN)
    config = get_channel(session, actor=actor, config_id=config_id)
    current = channel_secrets(session, config)
    settings = {**config.settings, **(data.settings or {})}
    new_secrets = {**current, **(data.secrets or {})}
    _check_config(config.kind, settings, new_secrets)
    config.settings = settings
    if data.secrets:
        config.secrets = vault.seal(_secret_key(session), new_secrets)
    if data.enabled is not None:
        config.enabled = data.enabled
    if data.queue_id is not None:
        config.queue_id = _queue(session, actor, data.queue_id).id
    config.updated_at = utcnow()
    workspaces_service.record(session, actor=actor, action="messaging.channel_updated", entity_type="channel_config",
                              entity_id=config.id, changes={"settings": sorted(data.settings or {}),
                                                            "secrets": sorted(data.secrets or {})})
    return config


def get_channel(session: Session, *, actor: Actor, config_id: int, field: str = "config_id") -> ChannelConfig:
    """A channel configuration of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, ChannelConfig, config_id, workspace_id=actor.workspace_id,
                            what="messaging channel", field=field)


def find_channel(session: Session, *, config_id: int) -> ChannelConfig | None:
    """A channel configuration by id in any workspace (channel callbacks name only the id), or None."""
    return session.get(ChannelConfig, config_id)


def list_channels(session: Session, *, actor: Actor) -> list[ChannelConfig]:
    """The workspace's channel configurations."""
    actor.require(Permission.READ)
    return list(session.scalars(select(ChannelConfig).where(ChannelConfig.workspace_id == actor.workspace_id)
                                .order_by(ChannelConfig.id)))


def present_channel(session: Session, config: ChannelConfig) -> ChannelConfigOut:
    """The configuration with the names of its secrets only."""
    return ChannelConfigOut(id=config.id, kind=config.kind, name=config.name, settings=config.settings,
                            secrets_set=sorted(channel_secrets(session, config)), enabled=config.enabled,
                            acquisition_channel_id=config.acquisition_channel_id, queue_id=config.queue_id,
                            created_at=config.created_at,
                            callback_path=f"/callbacks/{config.kind.replace('_oa', '')}/{config.id}"
                            if config.kind in ("wecom", "sms", "wechat_oa") else None)


def channel_secrets(session: Session, config: ChannelConfig) -> dict[str, str]:
    """The decrypted secrets (server side only)."""
    return vault.unseal(_secret_key(session), config.secrets)


def adapter_for(session: Session, config: ChannelConfig) -> ChannelAdapter:
    """A new adapter for the configuration."""
    return build(config.kind, config.settings, channel_secrets(session, config))
