"""Channel configurations, templates, messages and their delivery states, tracked links, the delivery log."""

import secrets as token_source
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from yutang.channels import service as channels_service
from yutang.customers import service as customers_service
from yutang.customers.models import ConsentEntry, Customer, CustomerIdentity
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.kit.pii import mask_email, mask_phone
from yutang.messaging import templating, vault
from yutang.messaging.adapters import build
from yutang.messaging.adapters.base import ChannelAdapter, Outbound, SendResult
from yutang.messaging.models import (
    ChannelConfig,
    InboxQueue,
    Message,
    MessageAttempt,
    MessageTemplate,
    Thread,
    TrackedLink,
    WeComContact,
)
from yutang.messaging.schemas import (
    ChannelConfigIn,
    ChannelConfigOut,
    ChannelConfigPatch,
    ChannelKind,
    DeliveryIn,
    MessageIn,
    MessageOut,
    PreviewIn,
    Purpose,
    Rendered,
    Status,
    TemplateIn,
)
from yutang.storage import outbox
from yutang.storage.scoped import get_in_workspace
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

QUEUED_FLAG = "yutang.queued_messages"
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
# The identity that addresses a customer on each channel kind (openids are namespaced by the appid).
ADDRESS_KIND = {"wecom": "wecom_external_userid", "wechat_oa": "wechat_openid", "wechat_mp": "wechat_openid",
                "email": "email", "sms": "phone"}
# The consent-ledger channel each kind answers to.
CONSENT_CHANNEL = {"wecom": "wecom", "wechat_oa": "wechat", "wechat_mp": "wechat", "email": "email", "sms": "sms"}
RANK = {Status.QUEUED: 0, Status.SENDING: 0, Status.SENT: 1, Status.DELIVERED: 2, Status.READ: 3,
        Status.CLICKED: 4}
STAMP = {Status.QUEUED: "queued_at", Status.SENT: "sent_at", Status.DELIVERED: "delivered_at",
         Status.READ: "read_at", Status.CLICKED: "clicked_at", Status.FAILED: "failed_at",
         Status.SUPPRESSED: "failed_at"}
FINAL = {Status.FAILED, Status.SUPPRESSED, Status.RECEIVED}
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min between tries
BACKOFF_CAP_SECONDS = 3600
STALE_CLAIM = timedelta(minutes=10)  # a sender that died mid-send: its messages are queued again


def _secret_key(session: Session) -> str:
    return session.info["pii_key"]


# ---- channel configurations ----------------------------------------------------------------------------


def _check_config(kind: str, settings: dict, secret_values: dict) -> None:
    needed_settings, needed_secrets = REQUIRED[kind]
    for key in needed_settings:
        if not settings.get(key):
            raise Invalid(f"a {kind} channel needs settings.{key}", field=f"settings.{key}")
    for key in needed_secrets:
        if not secret_values.get(key):
            raise Invalid(f"a {kind} channel needs secrets.{key}", field=f"secrets.{key}")
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


# ---- templates ----------------------------------------------------------------------------------------


def _check_template(data: TemplateIn) -> None:
    templating.check(data.subject, field="subject")
    templating.check(data.body, field="body")
    templating.check_payload(data.payload)
    if data.channel_kind in (ChannelKind.WECHAT_OA, ChannelKind.WECHAT_MP) and not data.payload.get("template_id"):
        raise Invalid("a WeChat template names its template_id", field="payload.template_id")
    if data.channel_kind is ChannelKind.SMS and not data.payload.get("template"):
        raise Invalid("an SMS template names the provider's template code", field="payload.template")
    if len(data.payload.get("attachments", [])) > 9:
        raise Invalid("at most 9 attachments", field="payload.attachments")


def create_template(session: Session, *, actor: Actor, data: TemplateIn) -> MessageTemplate:
    """Store a template after checking its syntax and variables."""
    actor.require(Permission.WRITE)
    _check_template(data)
    if session.scalar(select(MessageTemplate.id).where(MessageTemplate.workspace_id == actor.workspace_id,
                                                       MessageTemplate.name == data.name)):
        raise Conflict(f"a template named {data.name!r} exists", field="name")
    template = MessageTemplate(workspace_id=actor.workspace_id, **data.model_dump(mode="json"))
    session.add(template)
    session.flush()
    workspaces_service.record(session, actor=actor, action="messaging.template_created", entity_type="template",
                              entity_id=template.id, changes={"name": data.name})
    return template


def update_template(session: Session, *, actor: Actor, template_id: int, data: TemplateIn) -> MessageTemplate:
    """Replace a template's content."""
    actor.require(Permission.WRITE)
    template = get_template(session, actor=actor, template_id=template_id)
    _check_template(data)
    clash = session.scalar(select(MessageTemplate.id).where(MessageTemplate.workspace_id == actor.workspace_id,
                                                            MessageTemplate.name == data.name,
                                                            MessageTemplate.id != template.id))
    if clash:
        raise Conflict(f"a template named {data.name!r} exists", field="name")
    for key, value in data.model_dump(mode="json").items():
        setattr(template, key, value)
    template.updated_at = utcnow()
    workspaces_service.record(session, actor=actor, action="messaging.template_updated", entity_type="template",
                              entity_id=template.id)
    return template


def get_template(session: Session, *, actor: Actor, template_id: int, field: str = "template_id") -> MessageTemplate:
    """A template of the actor's workspace."""
    actor.require(Permission.READ)
    return get_in_workspace(session, MessageTemplate, template_id, workspace_id=actor.workspace_id,
                            what="template", field=field)


def list_templates(session: Session, *, actor: Actor, purpose: str | None = None,
                   channel_kind: str | None = None) -> list[MessageTemplate]:
    """Templates, by name."""
    actor.require(Permission.READ)
    query = select(MessageTemplate).where(MessageTemplate.workspace_id == actor.workspace_id)
    if purpose:
        query = query.where(MessageTemplate.purpose == purpose)
    if channel_kind:
        query = query.where(MessageTemplate.channel_kind == channel_kind)
    return list(session.scalars(query.order_by(MessageTemplate.name)))


def variables_for(session: Session, *, workspace_id: int, customers: list[Customer]) -> dict[int, dict[str, Any]]:
    """The template variables per customer: profile fields plus what the providers give."""
    extra = templating.provided(session, workspace_id=workspace_id, customer_ids=[c.id for c in customers])
    return {c.id: {"name": c.name or "", "city": c.city or "", **extra[c.id]} for c in customers}


def sample_variables() -> dict[str, Any]:
    """Variables for a preview without a customer."""
    return {"name": "张三", "city": "上海", "tier": "Gold", "points": 1280, "coupon_code": "SAMPLE-2026"}


def preview(session: Session, *, actor: Actor, data: PreviewIn) -> Rendered:
    """A stored or draft template rendered for a sample customer (or sample values)."""
    if data.template_id is not None:
        stored = get_template(session, actor=actor, template_id=data.template_id)
        template = TemplateIn(name=stored.name, channel_kind=stored.channel_kind, purpose=stored.purpose,
                              subject=stored.subject, body=stored.body, payload=stored.payload)
    elif data.template is not None:
        template = data.template
        _check_template(template)
    else:
        raise Invalid("give template_id or template", field="template_id")
    if data.customer_id is not None:
        customer = customers_service.get_customer(session, actor=actor, customer_id=data.customer_id)
        variables = variables_for(session, workspace_id=actor.workspace_id, customers=[customer])[customer.id]
    else:
        variables = sample_variables()
    return Rendered(subject=templating.render(template.subject, variables, field="subject"),
                    body=templating.render(template.body, variables) or "",
                    payload=templating.render_payload(template.payload, variables), variables=variables)


# ---- messages -----------------------------------------------------------------------------------------


def emit_state(session: Session, message: Message, topic: str) -> None:
    """Tell the warehouse a message reached a state (topic message.<state>)."""
    outbox.emit(session, workspace_id=message.workspace_id, topic=f"message.{topic}", entity_id=message.id,
                payload={"customer_id": message.customer_id, "message_id": message.id,
                         "channel_config_id": message.channel_config_id, "purpose": message.purpose,
                         "template_id": message.template_id, "thread_id": message.thread_id,
                         "status": message.status, "error_code": message.error_code,
                         "attempts": message.attempts})


def address_of(session: Session, *, config: ChannelConfig, customer: Customer | None) -> str:
    """Where the message goes on this channel: the customer's identity of the right kind (newest), or the URL."""
    if config.kind == "webhook":
        return config.settings["url"]
    if config.kind == "null":
        return f"customer:{customer.id if customer else 0}"
    if customer is None:
        raise Invalid(f"a {config.kind} message needs a customer", field="customer_id")
    kind = ADDRESS_KIND[config.kind]
    query = select(CustomerIdentity.value).where(CustomerIdentity.customer_id == customer.id,
                                                 CustomerIdentity.kind == kind)
    if kind == "wechat_openid":
        query = query.where(CustomerIdentity.namespace == config.settings["appid"])
    value = session.scalar(query.order_by(CustomerIdentity.id.desc()).limit(1))
    if value is None:
        raise Invalid(f"the customer has no {kind} identity for this channel", field="customer_id")
    return value


def suppression(session: Session, *, customer: Customer | None, kind: str, purpose: str) -> str | None:
    """Why the message must not go out (None when it may): erased or merged customers, and for marketing a
    refusal of personalised marketing or consent withdrawn on the channel."""
    if customer is None:
        return None
    if customer.status != customers_service.ACTIVE:
        return f"customer_{customer.status}"
    if purpose != Purpose.MARKETING:
        return None
    if customer.refuses_personalised:
        return "refuses_personalised"
    channel = CONSENT_CHANNEL.get(kind)
    if channel and customers_service.current_consents(session, customer_id=customer.id).get(channel) == "withdrawn":
        return f"consent_withdrawn:{channel}"
    return None


def enqueue(session: Session, *, actor: Actor, data: MessageIn, link_base: str | None = None,
            thread_id: int | None = None) -> Message:
    """Queue one message (rendered, links tracked) for the sender job; a suppressed one is recorded as such.

    The same idempotency key returns the message queued first.
    """
    actor.require(Permission.WRITE)
    if data.idempotency_key:
        existing = session.scalar(select(Message).where(Message.workspace_id == actor.workspace_id,
                                                        Message.idempotency_key == data.idempotency_key))
        if existing is not None:
            return existing
    config = get_channel(session, actor=actor, config_id=data.channel_id, field="channel_id")
    if not config.enabled:
        raise Conflict("this messaging channel is disabled", field="channel_id")
    customer = None
    if data.customer_id is not None:
        customer = customers_service.get_customer(session, actor=actor, customer_id=data.customer_id)
    purpose = data.purpose.value
    subject, body, payload = data.subject, data.body, dict(data.payload)
    template = None
    if data.template_id is not None:
        template = get_template(session, actor=actor, template_id=data.template_id)
        if template.channel_kind != config.kind:
            raise Invalid(f"the template is for {template.channel_kind}, the channel is {config.kind}",
                          field="template_id")
        subject = subject if subject is not None else template.subject
        body = body if body is not None else template.body
        payload = {**template.payload, **payload}
        if template.purpose == "marketing" and data.purpose is Purpose.SERVICE:
            purpose = Purpose.MARKETING.value  # a marketing template makes a marketing message (not a reply)
    else:
        templating.check(subject, field="subject")
        templating.check(body, field="body")
        templating.check_payload(payload)
    variables = (variables_for(session, workspace_id=actor.workspace_id, customers=[customer])[customer.id]
                 if customer is not None else dict(templating.DEFAULTS, name="", city=""))
    subject = templating.render(subject, variables, field="subject")
    body = templating.render(body, variables) or ""
    payload = templating.render_payload(payload, variables)
    reason = suppression(session, customer=customer, kind=config.kind, purpose=purpose)
    address = address_of(session, config=config, customer=customer) if reason is None else ""
    now = utcnow()
    message = Message(workspace_id=actor.workspace_id, channel_config_id=config.id,
                      customer_id=customer.id if customer else None, thread_id=thread_id,
                      template_id=template.id if template else None, member_id=actor.member_id, direction="out",
                      purpose=purpose, address=address, subject=subject, body=body, payload=payload,
                      status=Status.SUPPRESSED if reason else Status.QUEUED, error_code=reason,
                      idempotency_key=data.idempotency_key, attempts=0, queued_at=now,
                      next_attempt_at=None if reason else now, failed_at=now if reason else None)
    session.add(message)
    session.flush()
    if reason is None and data.track_links and link_base:
        message.body = _track_links(session, message, message.body, link_base)
        if config.kind == "email" and payload.get("html"):
            message.payload = {**payload, "html": _track_opens(session, message, _track_links(
                session, message, payload["html"], link_base), link_base)}
    emit_state(session, message, "suppressed" if reason else "queued")
    if not reason:
        session.info[QUEUED_FLAG] = True
    return message


def _track_links(session: Session, message: Message, text: str, link_base: str) -> str:
    base = link_base.rstrip("/")

    def replace(match) -> str:
        url = match.group(0)
        if url.startswith(base):
            return url
        token = token_source.token_urlsafe(12)
        session.add(TrackedLink(workspace_id=message.workspace_id, message_id=message.id, token=token, url=url))
        return f"{base}/t/{token}"

    return templating.URL.sub(replace, text)


def _track_opens(session: Session, message: Message, html: str, link_base: str) -> str:
    # An open pixel is a tracked link without a target.
    token = token_source.token_urlsafe(12)
    session.add(TrackedLink(workspace_id=message.workspace_id, message_id=message.id, token=token, url=""))
    pixel = f'<img src="{link_base.rstrip("/")}/o/{token}.gif" width="1" height="1" alt="">'
    return html.replace("</body>", pixel + "</body>") if "</body>" in html else html + pixel


def enqueue_bulk(session: Session, *, actor: Actor, config: ChannelConfig, template: MessageTemplate,
                 customer_ids: list[int], purpose: str | None = None) -> int:
    """Render and queue one template for many customers in a few statements (benchmarks, scripts).

    Customers without an address on the channel, or suppressed by consent, are recorded as suppressed.
    Returns how many were queued to send.
    """
    outcomes = queue_many(session, actor=actor, config=config, template=template, customer_ids=customer_ids,
                          purpose=purpose)
    return sum(1 for _, status, _ in outcomes.values() if status == Status.QUEUED)


def queue_many(session: Session, *, actor: Actor, config: ChannelConfig, template: MessageTemplate,
               customer_ids: list[int], purpose: str | None = None,
               reasons: dict[int, str] | None = None) -> dict[int, tuple[int, str, str | None]]:
    """Render and queue one template for many customers; `reasons` suppresses some with a reason decided before
    (contact pressure). Returns per customer (message id, status, reason)."""
    actor.require(Permission.BULK)
    reasons = reasons or {}
    if template.channel_kind != config.kind:
        raise Invalid(f"the template is for {template.channel_kind}, the channel is {config.kind}",
                      field="template_id")
    purpose = purpose or (Purpose.MARKETING.value if template.purpose == "marketing" else Purpose.SERVICE.value)
    # Plain rows, not ORM objects: at broadcast sizes the identity map is most of the cost.
    customers = session.execute(customers_service.visible(actor).with_only_columns(
        Customer.id, Customer.name, Customer.city, Customer.status, Customer.refuses_personalised)
        .where(Customer.id.in_(customer_ids))).all()
    ids_ = [c.id for c in customers]
    extra = templating.provided(session, workspace_id=actor.workspace_id, customer_ids=ids_)
    addresses = _addresses(session, config=config, customer_ids=ids_)
    withdrawn = _withdrawn(session, customer_ids=ids_, channel=CONSENT_CHANNEL.get(config.kind))
    now = utcnow()
    subject, body, payload = template.subject, template.body, template.payload
    common = {"workspace_id": actor.workspace_id, "channel_config_id": config.id, "template_id": template.id,
              "member_id": actor.member_id, "direction": "out", "purpose": purpose, "attempts": 0,
              "queued_at": now, "created_at": now}
    consent_channel = CONSENT_CHANNEL.get(config.kind)
    marketing = purpose == Purpose.MARKETING
    rows: list[dict] = []
    for customer in customers:
        v = {"name": customer.name or "", "city": customer.city or "", **extra[customer.id]}
        reason = None
        if customer.status != customers_service.ACTIVE:
            reason = f"customer_{customer.status}"
        elif marketing and customer.refuses_personalised:
            reason = "refuses_personalised"
        elif customer.id in reasons:
            reason = reasons[customer.id]
        elif marketing and customer.id in withdrawn:
            reason = f"consent_withdrawn:{consent_channel}"
        elif customer.id not in addresses:
            reason = "no_address"
        row = {**common, "customer_id": customer.id, "address": addresses.get(customer.id, ""),
               "subject": templating.render(subject, v, field="subject"), "body": templating.render(body, v) or "",
               "payload": templating.render_payload(payload, v) if payload else {},
               "status": Status.SUPPRESSED.value if reason else Status.QUEUED.value, "error_code": reason}
        # Only the time that applies (queued and suppressed rows go in separate statements).
        row["failed_at" if reason else "next_attempt_at"] = now
        rows.append(row)
    if not rows:
        return {}
    table = Message.__table__  # Core statements: the ORM's per-row bookkeeping is most of the cost at this size
    # RETURNING (customer, id) without parameter order lets SQLite batch the rows (one customer = one message).
    by_customer: dict[int, int] = {}
    for suppressed in (False, True):
        part = [r for r in rows if bool(r["error_code"]) is suppressed]
        if part:
            by_customer.update(session.execute(insert(table).returning(table.c.customer_id, table.c.id), part).all())
    # One outbox row per state for the whole batch; the relay expands it into one event per message.
    queued = 0
    for state in (Status.QUEUED, Status.SUPPRESSED):
        batch = [[by_customer[r["customer_id"]], r["customer_id"], r["error_code"]] for r in rows
                 if r["status"] == state.value]
        if state is Status.QUEUED:
            queued = len(batch)
        if batch:
            outbox.emit(session, workspace_id=actor.workspace_id, topic="message.batch", entity_id=None,
                        payload={"state": state.value, "channel_config_id": config.id, "purpose": purpose,
                                 "template_id": template.id, "messages": batch})
    if queued:
        session.info[QUEUED_FLAG] = True
    return {r["customer_id"]: (by_customer[r["customer_id"]], r["status"], r["error_code"]) for r in rows}


def _addresses(session: Session, *, config: ChannelConfig, customer_ids: list[int]) -> dict[int, str]:
    if config.kind in ("webhook", "null"):
        return {cid: (config.settings["url"] if config.kind == "webhook" else f"customer:{cid}")
                for cid in customer_ids}
    kind = ADDRESS_KIND[config.kind]
    found: dict[int, str] = {}
    for start in range(0, len(customer_ids), 1000):
        query = select(CustomerIdentity.customer_id, CustomerIdentity.value).where(
            CustomerIdentity.customer_id.in_(customer_ids[start:start + 1000]), CustomerIdentity.kind == kind)
        if kind == "wechat_openid":
            query = query.where(CustomerIdentity.namespace == config.settings["appid"])
        for cid, value in session.execute(query.order_by(CustomerIdentity.id)):
            found[cid] = value
    return found


def _withdrawn(session: Session, *, customer_ids: list[int], channel: str | None) -> set[int]:
    if not channel:
        return set()
    result: set[int] = set()
    for start in range(0, len(customer_ids), 1000):
        rows = session.execute(select(ConsentEntry.customer_id, ConsentEntry.status)
                               .where(ConsentEntry.customer_id.in_(customer_ids[start:start + 1000]),
                                      ConsentEntry.channel == channel)
                               .order_by(ConsentEntry.occurred_at, ConsentEntry.id))
        latest = dict(rows.all())
        result.update(cid for cid, status in latest.items() if status == "withdrawn")
    return result


def get_message(session: Session, *, actor: Actor, message_id: int) -> Message:
    """A message of the workspace (guides: only their customers')."""
    actor.require(Permission.READ)
    message = get_in_workspace(session, Message, message_id, workspace_id=actor.workspace_id, what="message",
                               field="message_id")
    if actor.sees_own_customers_only and message.customer_id is not None:
        customers_service.get_customer(session, actor=actor, customer_id=message.customer_id)
    return message


def list_messages(session: Session, *, actor: Actor, customer_id: int | None = None, status: str | None = None,
                  config_id: int | None = None, before_id: int | None = None, limit: int = 50) -> list[Message]:
    """Messages newest first (the delivery report)."""
    actor.require(Permission.READ)
    query = select(Message).where(Message.workspace_id == actor.workspace_id)
    if actor.sees_own_customers_only:
        query = query.where(Message.customer_id.in_(customers_service.visible_ids(actor)))
    if customer_id is not None:
        query = query.where(Message.customer_id == customer_id)
    if status:
        query = query.where(Message.status == status)
    if config_id is not None:
        query = query.where(Message.channel_config_id == config_id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return list(session.scalars(query.order_by(Message.id.desc()).limit(limit)))


def present(actor: Actor, message: Message) -> MessageOut:
    """A message as the API shows it: phone and email addresses masked unless the role may see personal data."""
    out = MessageOut.model_validate(message)
    if not actor.can(Permission.SEE_PII) and out.address:
        if "@" in out.address:
            out.address = mask_email(out.address)
        elif out.address.startswith("+"):
            out.address = mask_phone(out.address)
    return out


def attempts_of(session: Session, *, message_id: int) -> list[MessageAttempt]:
    """The delivery log of a message, oldest first."""
    return list(session.scalars(select(MessageAttempt).where(MessageAttempt.message_id == message_id)
                                .order_by(MessageAttempt.id)))


def delivery_report(session: Session, *, actor: Actor, config_id: int | None = None) -> dict[str, int]:
    """Outbound messages per status."""
    actor.require(Permission.READ)
    query = select(Message.status, func.count()).where(Message.workspace_id == actor.workspace_id,
                                                       Message.direction == "out")
    if config_id is not None:
        query = query.where(Message.channel_config_id == config_id)
    return dict(session.execute(query.group_by(Message.status)).all())


def advance(session: Session, message: Message, status: Status, *, at: datetime | None = None,
            error_code: str | None = None, error_message: str | None = None) -> bool:
    """Move a message forward (never back, never out of a final state); emits the event. True if it moved."""
    current = Status(message.status)
    if current in FINAL:
        return False
    if status is Status.FAILED:
        message.error_code, message.error_message = error_code, error_message
    elif RANK[status] <= RANK[current] and current is not Status.SENDING:
        return False
    at = at or utcnow()
    message.status = status.value
    setattr(message, STAMP[status], at)
    message.next_attempt_at = None
    emit_state(session, message, status.value)
    return True


def mark_delivery(session: Session, *, actor: Actor, message_id: int, data: DeliveryIn) -> Message:
    """An integrator's receipt: delivered, read, clicked or failed."""
    actor.require(Permission.WRITE)
    if data.status not in (Status.DELIVERED, Status.READ, Status.CLICKED, Status.FAILED):
        raise Invalid("status is delivered, read, clicked or failed", field="status")
    message = get_message(session, actor=actor, message_id=message_id)
    if message.direction != "out":
        raise Invalid("only outbound messages have deliveries", field="message_id")
    advance(session, message, data.status, error_code=data.error_code, error_message=data.error_message)
    return message


def mark_by_provider_id(session: Session, *, config: ChannelConfig, provider_id: str, status: Status,
                        error_code: str | None = None, error_message: str | None = None) -> Message | None:
    """A channel's receipt for the message it knows by its own id."""
    message = session.scalar(select(Message).where(Message.channel_config_id == config.id,
                                                   Message.provider_id == provider_id))
    if message is not None:
        advance(session, message, status, error_code=error_code, error_message=error_message)
    return message


def opened(session: Session, *, token: str) -> None:
    """Record that an email's open pixel was fetched: the message was read."""
    link = session.scalar(select(TrackedLink).where(TrackedLink.token == token, TrackedLink.url == ""))
    if link is None:
        raise NotFound("no such pixel", field="token")
    link.clicks += 1
    message = session.get(Message, link.message_id)
    if message is not None:
        advance(session, message, Status.READ)


def click(session: Session, *, token: str) -> str:
    """Record a click on a tracked link; returns where to send the browser."""
    link = session.scalar(select(TrackedLink).where(TrackedLink.token == token, TrackedLink.url != ""))
    if link is None:
        raise NotFound("no such link", field="token")
    link.clicks += 1
    message = session.get(Message, link.message_id)
    if message is not None:
        advance(session, message, Status.CLICKED)
    return link.url


def replay(session: Session, *, actor: Actor, message_id: int) -> Message:
    """Send a failed (or already sent) message again; webhooks keep their webhook-id so receivers dedupe."""
    actor.require(Permission.WRITE)
    message = get_message(session, actor=actor, message_id=message_id)
    if message.direction != "out" or message.status in (Status.QUEUED, Status.SENDING, Status.SUPPRESSED):
        raise Conflict(f"a {message.status} message cannot be replayed", field="message_id")
    message.status = Status.QUEUED.value
    message.error_code = message.error_message = None
    message.next_attempt_at = message.queued_at = utcnow()
    emit_state(session, message, "queued")
    session.info[QUEUED_FLAG] = True
    workspaces_service.record(session, actor=actor, action="message.replayed", entity_type="message",
                              entity_id=message.id)
    return message


# ---- the sender job -------------------------------------------------------------------------------------


def claim_due(session: Session, *, now: datetime, limit: int) -> list[tuple[Message, ChannelConfig]]:
    """Take due queued messages (any workspace) for sending; stale claims of a dead sender come back first."""
    session.execute(update(Message).where(Message.status == Status.SENDING, Message.claimed_at < now - STALE_CLAIM)
                    .values(status=Status.QUEUED.value, next_attempt_at=now))
    query = (select(Message).where(Message.status == Status.QUEUED, Message.next_attempt_at <= now)
             .order_by(Message.next_attempt_at, Message.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    messages = list(session.scalars(query))
    configs: dict[int, ChannelConfig] = {}
    for message in messages:
        message.status = Status.SENDING.value
        message.claimed_at = now
        if message.channel_config_id not in configs:
            configs[message.channel_config_id] = session.get(ChannelConfig, message.channel_config_id)
    return [(m, configs[m.channel_config_id]) for m in messages]


def outbound(message: Message) -> Outbound:
    """The adapter's view of a message."""
    return Outbound(message_id=message.id, address=message.address, body=message.body, subject=message.subject,
                    payload=message.payload or {})


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after this many attempts (exponential, capped)."""
    return timedelta(seconds=min(BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def record_attempts(session: Session, *, outcomes: list[tuple[int, SendResult, int]], now: datetime) -> None:
    """Log a batch of attempts (message id, result, milliseconds) and move each message: sent, queued again
    after a backoff, or failed for good. Messages replayed or recovered meanwhile are left alone."""
    ids = [message_id for message_id, _, _ in outcomes]
    query = select(Message).where(Message.id.in_(ids))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    messages = {m.id: m for m in session.scalars(query)}
    attempts: list[dict] = []
    # (workspace, state, channel configuration, purpose) -> [[message, customer, error code, thread]]
    reached: dict[tuple[int, str, int, str], list[list]] = {}
    for message_id, result, duration_ms in outcomes:
        message = messages.get(message_id)
        if message is None or message.status != Status.SENDING:
            continue
        message.attempts += 1
        message.claimed_at = None
        attempts.append({"workspace_id": message.workspace_id, "message_id": message.id, "attempt": message.attempts,
                         "ok": result.ok, "error_code": result.error_code, "error_message": result.error_message,
                         "duration_ms": duration_ms, "created_at": now})
        if result.ok:
            message.provider_id = result.provider_id
            message.error_code = message.error_message = None
            state = Status.SENT
        elif result.retryable and message.attempts < MAX_ATTEMPTS:
            message.status = Status.QUEUED.value
            message.error_code, message.error_message = result.error_code, result.error_message
            message.next_attempt_at = now + backoff(message.attempts)
            continue
        else:
            message.error_code, message.error_message = result.error_code, result.error_message
            state = Status.FAILED
        message.status = state.value
        setattr(message, STAMP[state], now)
        message.next_attempt_at = None
        reached.setdefault((message.workspace_id, state.value, message.channel_config_id, message.purpose), []).append(
            [message.id, message.customer_id, message.error_code, message.thread_id])
    # Core inserts and one outbox row per state: the ORM's per-object bookkeeping dominated at batch sizes.
    if attempts:
        session.execute(insert(MessageAttempt.__table__), attempts)
    for (workspace_id, state, config_id, purpose), batch in reached.items():
        outbox.emit(session, workspace_id=workspace_id, topic="message.batch", entity_id=None,
                    payload={"state": state, "channel_config_id": config_id, "purpose": purpose, "messages": batch})


# ---- merge and erasure (called by archive) -------------------------------------------------------------


def move_customer(session: Session, *, from_id: int, to_id: int) -> int:
    """Point a merged customer's messages, threads and WeCom contacts at the winner; returns messages moved."""
    moved = session.execute(update(Message).where(Message.customer_id == from_id).values(customer_id=to_id))
    session.execute(update(Thread).where(Thread.customer_id == from_id).values(customer_id=to_id))
    session.execute(update(WeComContact).where(WeComContact.customer_id == from_id).values(customer_id=to_id))
    return moved.rowcount or 0


def erase(session: Session, *, customer_id: int) -> None:
    """Blank what identifies the person in their messages; drop their WeCom contact links."""
    session.execute(update(Message).where(Message.customer_id == customer_id)
                    .values(address="", body="", subject=None, payload={}))
    session.execute(delete(WeComContact).where(WeComContact.customer_id == customer_id))
