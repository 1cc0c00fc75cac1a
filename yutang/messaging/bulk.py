"""One template queued for many customers in a few statements (broadcasts, scripts, benchmarks)."""

from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from yutang.customers import service as customers_service
from yutang.kit.clock import utcnow
from yutang.kit.errors import Invalid
from yutang.messaging import templating
from yutang.messaging.messages import ADDRESS_KIND, CONSENT_CHANNEL, QUEUED_FLAG, address_namespace
from yutang.messaging.models import ChannelConfig, Message, MessageTemplate
from yutang.messaging.schemas import Purpose, Status
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.workspaces.access import Actor, Permission


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
               reasons: dict[int, str] | None = None,
               defer: dict[int, datetime] | None = None,
               broadcast_id: int | None = None) -> dict[int, tuple[int, str, str | None]]:
    """Render and queue one template for many customers; `reasons` suppresses some with a reason decided before
    (contact pressure), `defer` queues some to go out only at the time given (the end of the quiet hours),
    `broadcast_id` names the broadcast on the queued events (pond health tells broadcasts from single sends).
    Returns per customer (message id, status, reason)."""
    actor.require(Permission.BULK)
    reasons, defer = reasons or {}, defer or {}
    if template.channel_kind != config.kind:
        raise Invalid(f"the template is for {template.channel_kind}, the channel is {config.kind}",
                      field="template_id")
    purpose = purpose or (Purpose.MARKETING.value if template.purpose == "marketing" else Purpose.SERVICE.value)
    customers = customers_service.sending_facts(session, actor=actor, customer_ids=customer_ids)
    ids_ = [c.id for c in customers]
    extra = templating.provided(session, workspace_id=actor.workspace_id, customer_ids=ids_)
    addresses = _addresses(session, config=config, customer_ids=ids_)
    withdrawn = customers_service.withdrawn(session, customer_ids=ids_, channel=CONSENT_CHANNEL.get(config.kind))
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
        row["failed_at" if reason else "next_attempt_at"] = now if reason else defer.get(customer.id, now)
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
            outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.MESSAGE_BATCH, entity_id=None,
                        payload={"state": state.value, "channel_config_id": config.id, "purpose": purpose,
                                 "template_id": template.id, "messages": batch,
                                 **({"broadcast_id": broadcast_id} if broadcast_id else {})})
    if queued:
        session.info[QUEUED_FLAG] = True
    return {r["customer_id"]: (by_customer[r["customer_id"]], r["status"], r["error_code"]) for r in rows}


def _addresses(session: Session, *, config: ChannelConfig, customer_ids: list[int]) -> dict[int, str]:
    if config.kind in ("webhook", "null"):
        return {cid: (config.settings["url"] if config.kind == "webhook" else f"customer:{cid}")
                for cid in customer_ids}
    return customers_service.identity_values(session, customer_ids=customer_ids, kind=ADDRESS_KIND[config.kind],
                                             namespace=address_namespace(config))


def withdraw_queued(session: Session, *, actor: Actor, message_ids: list[int], reason: str) -> list[int]:
    """Suppress, with the reason, those of the messages still queued (not yet claimed by the sender); their ids."""
    actor.require(Permission.BULK)
    table, now, withdrawn = Message.__table__, utcnow(), []
    for start in range(0, len(message_ids), 5_000):
        rows = session.execute(
            update(table).where(table.c.workspace_id == actor.workspace_id, table.c.status == Status.QUEUED.value,
                                table.c.id.in_(message_ids[start:start + 5_000]))
            .values(status=Status.SUPPRESSED.value, error_code=reason, failed_at=now, next_attempt_at=None)
            .returning(table.c.id, table.c.customer_id, table.c.channel_config_id, table.c.purpose,
                       table.c.template_id)).all()
        by_send: dict[tuple, list[list]] = {}
        for mid, cid, config_id, purpose, template_id in rows:
            by_send.setdefault((config_id, purpose, template_id), []).append([mid, cid, reason])
            withdrawn.append(mid)
        for (config_id, purpose, template_id), batch in by_send.items():
            outbox.emit(session, workspace_id=actor.workspace_id, topic=Topic.MESSAGE_BATCH, entity_id=None,
                        payload={"state": Status.SUPPRESSED.value, "channel_config_id": config_id,
                                 "purpose": purpose, "template_id": template_id, "messages": batch})
    return withdrawn
