"""Webhook endpoints (subscribe, change, rotate the secret), the deliveries owed to them, replay and the log.

Public face of the webhooks domain: plain functions, session first, never commit. The sender (`sender.py`)
claims due deliveries and records their attempts through the functions at the end.
"""

import base64
import json
import secrets as random
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from yutang.kit.clock import utcnow
from yutang.kit.errors import NotFound
from yutang.kit.pagination import decode_cursor, encode_cursor
from yutang.messaging import vault
from yutang.storage import claims, dialect
from yutang.warehouse.own_events import OwnEvent
from yutang.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from yutang.webhooks.schemas import (
    AttemptOut,
    DeliveryDetailOut,
    DeliveryPage,
    DeliveryStatus,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
)
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Permission, system_actor

MAX_ATTEMPTS = 8  # then the delivery has failed for good (replay starts it again)
BACKOFF_SECONDS = 10  # 10 s, 30 s, 90 s, 4.5 min, 13.5 min, 40 min, 2 h between tries (about 3 h in all)
BACKOFF_CAP_SECONDS = 6 * 3600
DISABLE_AFTER = 3  # deliveries failed for good in a row, with no success between, disable the endpoint
STALE_CLAIM = timedelta(minutes=10)  # a sender that died mid-send: its deliveries are due again
QUEUED_FLAG = "webhooks.queued"  # session.info flag: this transaction queued deliveries (wake the sender)


def new_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(random.token_bytes(24)).decode()


def _seal(session: Session, current: str, retiring: list[tuple[str, datetime]]) -> str:
    return vault.seal(session.info["pii_key"], {"current": current, "retiring": json.dumps(
        [[secret, until.isoformat()] for secret, until in retiring])})


def _unseal(session: Session, endpoint: WebhookEndpoint) -> tuple[str, list[tuple[str, datetime]]]:
    values = vault.unseal(session.info["pii_key"], endpoint.secrets)
    return values["current"], [(s, datetime.fromisoformat(u)) for s, u in json.loads(values.get("retiring", "[]"))]


def signing_secrets(session: Session, endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one and those still in their grace period."""
    current, retiring = _unseal(session, endpoint)
    return [current, *(secret for secret, until in retiring if until > now)]


def _out(session: Session, endpoint: WebhookEndpoint, *, secret: str | None = None) -> EndpointOut:
    now = utcnow()
    _, retiring = _unseal(session, endpoint)
    data = EndpointOut.model_validate(endpoint).model_dump() | {
        "secret_expirations": [until for _, until in retiring if until > now]}
    return EndpointSecretOut(**data, secret=secret) if secret else EndpointOut(**data)


def _endpoint(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    actor.require(Permission.ADMIN)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.workspace_id != actor.workspace_id:
        raise NotFound("no such webhook endpoint", field="endpoint_id")
    return endpoint


def list_endpoints(session: Session, *, actor: Actor) -> list[EndpointOut]:
    """The workspace's endpoints, oldest first."""
    actor.require(Permission.ADMIN)
    found = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == actor.workspace_id)
                            .order_by(WebhookEndpoint.id))
    return [_out(session, endpoint) for endpoint in found]


def get_endpoint(session: Session, *, actor: Actor, endpoint_id: int) -> EndpointOut:
    """One endpoint."""
    return _out(session, _endpoint(session, actor, endpoint_id))


def create_endpoint(session: Session, *, actor: Actor, data: EndpointIn) -> EndpointSecretOut:
    """Subscribe a URL; the answer carries its signing secret (shown this once)."""
    actor.require(Permission.ADMIN)
    secret = new_secret()
    now = utcnow()
    endpoint = WebhookEndpoint(workspace_id=actor.workspace_id, url=data.url, description=data.description,
                               events=data.events, enabled=data.enabled, secrets=_seal(session, secret, []),
                               created_at=now, updated_at=now)
    session.add(endpoint)
    session.flush()
    workspaces_service.record(session, actor=actor, action="webhook.created", entity_type="webhook_endpoint",
                              entity_id=endpoint.id, changes={"url": data.url, "events": data.events})
    return _out(session, endpoint, secret=secret)


def update_endpoint(session: Session, *, actor: Actor, endpoint_id: int, data: EndpointPatch) -> EndpointOut:
    """Change the URL, events, description or enabled flag; enabling again makes waiting deliveries due now."""
    endpoint = _endpoint(session, actor, endpoint_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    for key, value in changes.items():
        setattr(endpoint, key, value)
    now = utcnow()
    if changes.get("enabled"):
        endpoint.consecutive_failures, endpoint.disabled_at, endpoint.disabled_reason = 0, None, None
        session.execute(update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                      WebhookDelivery.status == DeliveryStatus.PENDING)
                        .values(next_attempt_at=now))
        session.info[QUEUED_FLAG] = True
    endpoint.updated_at = now
    workspaces_service.record(session, actor=actor, action="webhook.updated", entity_type="webhook_endpoint",
                              entity_id=endpoint.id, changes=changes)
    return _out(session, endpoint)


def delete_endpoint(session: Session, *, actor: Actor, endpoint_id: int) -> None:
    """Remove an endpoint with its delivery log."""
    endpoint = _endpoint(session, actor, endpoint_id)
    workspaces_service.record(session, actor=actor, action="webhook.deleted", entity_type="webhook_endpoint",
                              entity_id=endpoint.id, changes={"url": endpoint.url})
    session.delete(endpoint)


def rotate_secret(session: Session, *, actor: Actor, endpoint_id: int, grace_seconds: int) -> EndpointSecretOut:
    """A new signing secret; the old one keeps signing beside it for `grace_seconds` (Standard Webhooks lets a
    receiver check several signatures), so receivers can switch without losing a delivery."""
    endpoint = _endpoint(session, actor, endpoint_id)
    now = utcnow()
    current, retiring = _unseal(session, endpoint)
    kept = [(s, until) for s, until in retiring if until > now]
    if grace_seconds:
        kept.append((current, now + timedelta(seconds=grace_seconds)))
    secret = new_secret()
    endpoint.secrets = _seal(session, secret, kept)
    endpoint.updated_at = now
    workspaces_service.record(session, actor=actor, action="webhook.secret_rotated", entity_type="webhook_endpoint",
                              entity_id=endpoint.id, changes={"grace_seconds": grace_seconds})
    return _out(session, endpoint, secret=secret)


def list_deliveries(session: Session, *, actor: Actor, endpoint_id: int, status: DeliveryStatus | None = None,
                    cursor: str | None = None, limit: int = 50) -> DeliveryPage:
    """An endpoint's deliveries, newest first."""
    _endpoint(session, actor, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return DeliveryPage(items=rows, next_cursor=encode_cursor(rows[-1].id) if more else None)


def _delivery(session: Session, actor: Actor, delivery_id: int) -> WebhookDelivery:
    actor.require(Permission.ADMIN)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.workspace_id != actor.workspace_id:
        raise NotFound("no such webhook delivery", field="delivery_id")
    return delivery


def get_delivery(session: Session, *, actor: Actor, delivery_id: int) -> DeliveryDetailOut:
    """A delivery with its attempts."""
    delivery = _delivery(session, actor, delivery_id)
    log = session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)
                          .order_by(WebhookAttempt.id))
    plain = {column.key: getattr(delivery, column.key) for column in WebhookDelivery.__table__.columns}
    return DeliveryDetailOut.model_validate({**plain, "attempt_log": [AttemptOut.model_validate(a) for a in log]})


def replay(session: Session, *, actor: Actor, delivery_id: int) -> DeliveryDetailOut:
    """Send a delivery again (same webhook-id, so receivers can tell it is the same event), with a fresh retry
    schedule."""
    delivery = _delivery(session, actor, delivery_id)
    if delivery.status != DeliveryStatus.SENDING:
        delivery.status = DeliveryStatus.PENDING.value
        delivery.attempts = 0
        delivery.next_attempt_at = utcnow()
        session.info[QUEUED_FLAG] = True
    workspaces_service.record(session, actor=actor, action="webhook.replayed", entity_type="webhook_delivery",
                              entity_id=delivery.id, changes={"event_id": delivery.event_id})
    return get_delivery(session, actor=actor, delivery_id=delivery.id)


# ---- what is owed: events to deliveries ---------------------------------------------------------------------


def body_of(event: OwnEvent) -> dict:
    """The JSON a receiver gets for an event (Standard Webhooks' type / timestamp / data shape)."""
    return {"type": event.name, "timestamp": event.occurred_at.astimezone(UTC).isoformat(),
            "data": {"id": event.id, "workspace_id": event.workspace_id, "customer_id": event.customer_id,
                     "properties": event.properties}}


def enqueue(session: Session, *, events: list[OwnEvent]) -> int:
    """Owe each event to every enabled endpoint of its workspace subscribed to its name (made before the event was
    recorded); an event already owed to an endpoint is not owed twice. Returns deliveries added."""
    if not events:
        return 0
    workspaces = {event.workspace_id for event in events}
    endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.workspace_id.in_(workspaces),
                                                                   WebhookEndpoint.enabled.is_(True))))
    wanted = [(endpoint, event) for event in events for endpoint in endpoints
              if endpoint.workspace_id == event.workspace_id and event.name in endpoint.events
              and _aware(endpoint.created_at) <= _aware(event.recorded_at)]
    if not wanted:
        return 0
    have = set(session.execute(select(WebhookDelivery.endpoint_id, WebhookDelivery.event_id).where(
        WebhookDelivery.endpoint_id.in_({endpoint.id for endpoint, _ in wanted}),
        WebhookDelivery.event_id.in_({event.id for _, event in wanted}))).all())
    now = utcnow()
    added = 0
    for endpoint, event in wanted:
        if (endpoint.id, event.id) in have:
            continue
        have.add((endpoint.id, event.id))
        session.add(WebhookDelivery(workspace_id=event.workspace_id, endpoint_id=endpoint.id, event_id=event.id,
                                    event_name=event.name, body=body_of(event), status=DeliveryStatus.PENDING.value,
                                    next_attempt_at=now, created_at=now))
        added += 1
    if added:
        session.info[QUEUED_FLAG] = True
    return added


def subscribed_names(session: Session) -> dict[int, tuple[datetime, set[str]]]:
    """Per workspace with an enabled endpoint: the earliest endpoint's creation and every name subscribed."""
    result: dict[int, tuple[datetime, set[str]]] = {}
    for endpoint in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))):
        since, names = result.get(endpoint.workspace_id, (_aware(endpoint.created_at), set()))
        result[endpoint.workspace_id] = (min(since, _aware(endpoint.created_at)), names | set(endpoint.events))
    return result


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---- the sender's side: claim, then record ------------------------------------------------------------------


def enabled_endpoints() -> Select:
    """The ids of endpoints that are sent to (any workspace)."""
    return select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))


def claim_due(session: Session, *, now: datetime, limit: int) -> list[tuple[WebhookDelivery, WebhookEndpoint]]:
    """Take due deliveries of enabled endpoints (any workspace); stale claims of a dead sender come back first."""
    deliveries = claims.claim_due(session, WebhookDelivery, now=now, limit=limit, waiting=DeliveryStatus.PENDING.value,
                                  taken=DeliveryStatus.SENDING.value, stale_after=STALE_CLAIM,
                                  where=(WebhookDelivery.endpoint_id.in_(enabled_endpoints()),))
    endpoints: dict[int, WebhookEndpoint] = {}
    for delivery in deliveries:
        if delivery.endpoint_id not in endpoints:
            endpoints[delivery.endpoint_id] = session.get(WebhookEndpoint, delivery.endpoint_id)
    return [(d, endpoints[d.endpoint_id]) for d in deliveries]


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after this many attempts (exponential, capped)."""
    return timedelta(seconds=min(BACKOFF_SECONDS * 3 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def record_attempt(session: Session, *, delivery_id: int, status_code: int | None, error: str | None,
                   retryable: bool, duration_ms: int, now: datetime) -> None:
    """Log an attempt and move the delivery: delivered, pending again after a backoff, or failed for good. An
    endpoint whose deliveries fail for good DISABLE_AFTER times in a row is disabled, with an audit entry."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.SENDING:
        return  # deleted or replayed meanwhile
    endpoint = session.scalar(dialect.of(session).lock(
        select(WebhookEndpoint).where(WebhookEndpoint.id == delivery.endpoint_id)))
    session.add(WebhookAttempt(workspace_id=delivery.workspace_id, delivery_id=delivery.id, status_code=status_code,
                               error=error[:500] if error else None, duration_ms=duration_ms, created_at=now))
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = status_code, error[:500] if error else None
    delivery.claimed_at = None
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED.value, now, None
        endpoint.consecutive_failures = 0
        return
    if retryable and delivery.attempts < MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.PENDING.value
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        return
    delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED.value, None
    endpoint.consecutive_failures += 1
    if endpoint.enabled and endpoint.consecutive_failures >= DISABLE_AFTER:
        endpoint.enabled = False
        endpoint.disabled_at = now
        endpoint.disabled_reason = (f"{endpoint.consecutive_failures} deliveries in a row failed "
                                    f"(last: {delivery.last_error})")[:300]
        workspaces_service.record(session, actor=_system(endpoint), action="webhook.disabled",
                                  entity_type="webhook_endpoint", entity_id=endpoint.id,
                                  changes={"reason": endpoint.disabled_reason})


def _system(endpoint: WebhookEndpoint) -> Actor:
    return system_actor(endpoint.workspace_id)
