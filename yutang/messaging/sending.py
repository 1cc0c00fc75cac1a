"""The sender job's side of the store: claim due messages, log attempts, retry with backoff."""

from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from yutang.messaging.adapters.base import Outbound, SendResult
from yutang.messaging.messages import STAMP
from yutang.messaging.models import ChannelConfig, Message, MessageAttempt
from yutang.messaging.schemas import Status
from yutang.storage import claims, dialect, outbox
from yutang.storage.topics import Topic

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min between tries
BACKOFF_CAP_SECONDS = 3600
STALE_CLAIM = timedelta(minutes=10)  # a sender that died mid-send: its messages are queued again


def claim_due(session: Session, *, now: datetime, limit: int) -> list[tuple[Message, ChannelConfig]]:
    """Take due queued messages (any workspace) for sending; stale claims of a dead sender come back first."""
    messages = claims.claim_due(session, Message, now=now, limit=limit, waiting=Status.QUEUED.value,
                                taken=Status.SENDING.value, stale_after=STALE_CLAIM)
    configs: dict[int, ChannelConfig] = {}
    for message in messages:
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
    locked = dialect.of(session).lock(select(Message).where(Message.id.in_(ids)))
    messages = {m.id: m for m in session.scalars(locked)}
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
        outbox.emit(session, workspace_id=workspace_id, topic=Topic.MESSAGE_BATCH, entity_id=None,
                    payload={"state": state, "channel_config_id": config_id, "purpose": purpose, "messages": batch})
