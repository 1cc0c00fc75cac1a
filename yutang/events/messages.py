"""Pure Segment-spec rules: validate one message, correct clock skew, enforce size limits (no I/O)."""

import json
import math
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
MAX_DEPTH = 32  # objects / arrays nested in a message, the message itself included
REPLACEMENT = "\ufffd"  # stands for a NUL or a lone surrogate, which no store (PostgreSQL above all) can keep
# One encoder for every line (json.dumps with options builds a new one per call); stateless, so thread-safe.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False).encode


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


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest in a JSON value (iterative: a deep value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    try:
        text.encode()
    except UnicodeEncodeError:  # lone surrogates: each becomes one replacement character
        text = "".join(REPLACEMENT if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


def clean(value: Any) -> Any:
    """A copy of a JSON value every store accepts: NULs and lone surrogates replaced, non-finite numbers null."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_clean_text(str(k)): clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def _line(record: dict) -> bytes:
    """The journal line of a record, cleaned only when it needs it (a fast check on the encoded line)."""
    try:
        line = _encode(record).encode()
    except (UnicodeEncodeError, ValueError):
        return _encode(clean(record)).encode()
    if b"\\u0000" in line:
        return _encode(clean(record)).encode()
    return line


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
    context = raw.get("context") or {}
    traits = raw.get("traits") or {}
    if kind == "identify" and isinstance(context.get("traits"), dict):
        # RudderStack's clients send identify traits only here; Segment's spec allows it; top-level traits win.
        traits = {**context["traits"], **traits}
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
        "category": raw.get("category") if kind in ("page", "screen") else None,
        "properties": raw.get("properties") or {}, "traits": traits,
        "context": context, "timestamp": ts.astimezone(UTC).isoformat(),
        "originalTimestamp": original.isoformat() if original else None,
        "receivedAt": _iso(received_at),
    }
    try:
        line = _line(record)
    except RecursionError:
        line = b"{" * (MAX_DEPTH + 1)
    # Braces in the line bound the depth from above, so most messages skip the walk.
    if line.count(b"{") + line.count(b"[") > MAX_DEPTH and _depth(record) > MAX_DEPTH:
        raise ValueError(f"the message nests objects or arrays more than {MAX_DEPTH} deep (counting the message)")
    if len(line) > MAX_EVENT_BYTES:
        raise ValueError(f"the message is {len(line)} bytes; at most {MAX_EVENT_BYTES} are accepted")
    return Accepted(message_id=message_id, line=line)
