"""Pure Segment-spec rules: validate one message, correct clock skew, enforce size limits (no I/O)."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from yutang.kit.errors import BadRequest, FieldError

MAX_EVENT_BYTES = 32 * 1024  # Segment: 32 KB per call
MAX_BATCH_BYTES = 500 * 1024  # Segment: 500 KB per batch request
TYPES = {"identify", "track", "page", "screen", "group", "alias"}
OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
# One encoder for every line (json.dumps with options builds a new one per call); stateless, so thread-safe.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


@lru_cache(maxsize=16)
def _iso(moment: datetime) -> str:
    # A batch's messages share one receivedAt: format it once, not once per message.
    return moment.isoformat()


@dataclass(frozen=True)
class Accepted:
    """A message ready for the journal: its canonical JSON and the fields the loader keys on."""

    message_id: str
    line: bytes


class MessageError(BadRequest):
    """A message breaks the spec; the field names the message (batch[i]) and what is wrong."""


def _time(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{field} is not an ISO-8601 time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("ids must be strings or numbers")
    return str(value)


def accept(raw: Any, *, kind: str | None, received_at: datetime, batch_sent_at: Any = None,
           workspace_id: int, source_id: int, where: str) -> Accepted:
    """Validate one message and build its journal line; raise MessageError naming `where` on a bad one."""
    try:
        return _accept(raw, kind=kind, received_at=received_at, batch_sent_at=batch_sent_at,
                       workspace_id=workspace_id, source_id=source_id)
    except ValueError as exc:
        raise MessageError(f"{where}: {exc}", [FieldError(field=where, message=str(exc))]) from exc


def _accept(raw: Any, *, kind: str | None, received_at: datetime, batch_sent_at: Any,
            workspace_id: int, source_id: int) -> Accepted:
    if not isinstance(raw, dict):
        raise ValueError("a message must be a JSON object")
    kind = kind or raw.get("type")
    if kind not in TYPES:
        raise ValueError(f"type must be one of {', '.join(sorted(TYPES))}")
    user_id, anonymous_id = _id(raw.get("userId")), _id(raw.get("anonymousId"))
    if kind == "alias":
        if not user_id or not _id(raw.get("previousId")):
            raise ValueError("alias needs userId and previousId")
    elif not user_id and not anonymous_id:
        raise ValueError("userId or anonymousId is required")
    event = raw.get("event")
    if kind == "track" and (not isinstance(event, str) or not event.strip()):
        raise ValueError("track needs an event name")
    for name in OBJECT_FIELDS:
        if raw.get(name) is not None and not isinstance(raw[name], dict):
            raise ValueError(f"{name} must be an object")
    original = _time(raw.get("timestamp"), "timestamp") or _time(raw.get("originalTimestamp"), "originalTimestamp")
    sent_at = _time(raw.get("sentAt"), "sentAt") or _time(batch_sent_at, "sentAt")
    # Segment's skew correction: the device clock may be off, but its own sentAt - timestamp gap is true.
    if original and sent_at:
        ts = received_at - (sent_at - original)
    else:
        ts = original or received_at
    message_id = _id(raw.get("messageId")) or f"ys-{uuid.uuid4()}"
    record = {
        "w": workspace_id, "src": source_id, "type": kind, "messageId": message_id,
        "userId": user_id, "anonymousId": anonymous_id, "previousId": _id(raw.get("previousId")),
        "groupId": _id(raw.get("groupId")), "event": event if kind == "track" else None,
        "name": raw.get("name") if kind in ("page", "screen") else None,
        "properties": raw.get("properties") or {}, "traits": raw.get("traits") or {},
        "context": raw.get("context") or {}, "timestamp": ts.astimezone(UTC).isoformat(),
        "originalTimestamp": original.isoformat() if original else None,
        "receivedAt": _iso(received_at),
    }
    line = _encode(record).encode()
    if len(line) > MAX_EVENT_BYTES:
        raise ValueError(f"the message is {len(line)} bytes; at most {MAX_EVENT_BYTES} are accepted")
    return Accepted(message_id=message_id, line=line)
