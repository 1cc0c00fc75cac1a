"""Messages one at a time: queued (rendered, suppressed, links tracked), read back, moved through their states."""

import secrets as token_source
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.customers.service import Customer
from yutang.kit.clock import utcnow
from yutang.kit.errors import Conflict, Invalid, NotFound
from yutang.kit.pii import mask_email, mask_phone
from yutang.messaging import templating
from yutang.messaging.channel_configs import get_channel
from yutang.messaging.models import ChannelConfig, Message, MessageAttempt, TrackedLink
from yutang.messaging.schemas import DeliveryIn, MessageIn, MessageOut, Purpose, Status
from yutang.messaging.templates import get_template, variables_for
from yutang.storage import outbox
from yutang.storage.scoped import get_in_workspace
from yutang.storage.topics import Topic
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission

QUEUED_FLAG = "yutang.queued_messages"
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


def emit_state(session: Session, message: Message, state: str) -> None:
    """Tell the warehouse a message reached a state (topic message.<state>)."""
    outbox.emit(session, workspace_id=message.workspace_id, topic=Topic.message(state), entity_id=message.id,
                payload={"customer_id": message.customer_id, "message_id": message.id,
                         "channel_config_id": message.channel_config_id, "purpose": message.purpose,
                         "template_id": message.template_id, "thread_id": message.thread_id,
                         "status": message.status, "error_code": message.error_code,
                         "attempts": message.attempts})


def address_namespace(config: ChannelConfig) -> str | None:
    """The identity namespace a channel's addresses live in: WeChat openids are per appid."""
    return config.settings["appid"] if ADDRESS_KIND[config.kind] == "wechat_openid" else None


def address_of(session: Session, *, config: ChannelConfig, customer: Customer | None) -> str:
    """Where the message goes on this channel: the customer's identity of the right kind (newest), or the URL."""
    if config.kind == "webhook":
        return config.settings["url"]
    if config.kind == "null":
        return f"customer:{customer.id if customer else 0}"
    if customer is None:
        raise Invalid(f"a {config.kind} message needs a customer", field="customer_id")
    kind = ADDRESS_KIND[config.kind]
    value = customers_service.identity_values(session, customer_ids=[customer.id], kind=kind,
                                              namespace=address_namespace(config)).get(customer.id)
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


def recent_sends(session: Session, *, customer_id: int, since: datetime) -> list[tuple[datetime, str, str]]:
    """A customer's messages queued since `since` and not suppressed: (queued at, channel kind, purpose), for
    deciding one send under the contact-pressure caps."""
    return [(at, kind, purpose) for at, kind, purpose in session.execute(
        select(Message.queued_at, ChannelConfig.kind, Message.purpose)
        .join(ChannelConfig, ChannelConfig.id == Message.channel_config_id)
        .where(Message.customer_id == customer_id, Message.direction == "out", Message.queued_at >= since,
               Message.status.not_in([Status.SUPPRESSED.value, Status.FAILED.value]))).all()]


def inbound_times(session: Session, *, workspace_id: int, customer_ids: list[int], since: datetime,
                  until: datetime) -> dict[int, list[datetime]]:
    """When each of these customers wrote in (inbound messages) in [since, until), oldest first."""
    found: dict[int, list[datetime]] = {}
    for start in range(0, len(customer_ids), 1000):
        for customer_id, at in session.execute(
                select(Message.customer_id, Message.created_at)
                .where(Message.workspace_id == workspace_id, Message.direction == "in",
                       Message.customer_id.in_(customer_ids[start:start + 1000]),
                       Message.created_at >= since, Message.created_at < until).order_by(Message.created_at)):
            found.setdefault(customer_id, []).append(at)
    return found
