"""The messaging domain's public face: channel configurations, templates, messages, the sender job's store side.

The work lives in the submodules imported below; callers import this module. Merge and erase (for archive) are here.
"""

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from yutang.messaging.bulk import (
    enqueue_bulk,
    queue_many,
    withdraw_queued,
)
from yutang.messaging.channel_configs import (
    REQUIRED,
    adapter_for,
    channel_secrets,
    create_channel,
    find_channel,
    get_channel,
    list_channels,
    present_channel,
    update_channel,
)
from yutang.messaging.messages import (
    ADDRESS_KIND,
    CONSENT_CHANNEL,
    FINAL,
    QUEUED_FLAG,
    RANK,
    STAMP,
    address_of,
    advance,
    attempts_of,
    click,
    delivery_report,
    emit_state,
    enqueue,
    get_message,
    inbound_times,
    list_messages,
    mark_by_provider_id,
    mark_delivery,
    opened,
    present,
    recent_sends,
    replay,
    suppression,
)
from yutang.messaging.models import (
    ChannelConfig,
    Message,
    Thread,
    WeComContact,
)
from yutang.messaging.sending import (
    BACKOFF_CAP_SECONDS,
    BACKOFF_SECONDS,
    MAX_ATTEMPTS,
    STALE_CLAIM,
    backoff,
    claim_due,
    outbound,
    record_attempts,
)
from yutang.messaging.templates import (
    create_template,
    get_template,
    list_templates,
    preview,
    sample_variables,
    update_template,
    variables_for,
)

__all__ = [
    "ADDRESS_KIND",
    "BACKOFF_CAP_SECONDS",
    "BACKOFF_SECONDS",
    "CONSENT_CHANNEL",
    "FINAL",
    "MAX_ATTEMPTS",
    "QUEUED_FLAG",
    "RANK",
    "REQUIRED",
    "STALE_CLAIM",
    "STAMP",
    "adapter_for",
    "address_of",
    "advance",
    "attempts_of",
    "backoff",
    "channel_secrets",
    "claim_due",
    "click",
    "create_channel",
    "create_template",
    "find_channel",
    "ChannelConfig",
    "delivery_report",
    "emit_state",
    "enqueue",
    "enqueue_bulk",
    "get_channel",
    "get_message",
    "get_template",
    "list_channels",
    "list_messages",
    "list_templates",
    "mark_by_provider_id",
    "mark_delivery",
    "opened",
    "outbound",
    "present",
    "inbound_times",
    "recent_sends",
    "present_channel",
    "preview",
    "queue_many",
    "record_attempts",
    "replay",
    "sample_variables",
    "suppression",
    "update_channel",
    "update_template",
    "withdraw_queued",
    "variables_for",
]


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
