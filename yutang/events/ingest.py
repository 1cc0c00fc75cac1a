"""Accept Segment-spec requests: authenticate the write key, validate every message, journal them durably."""

import json
import re
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

from yutang.events import messages
from yutang.events.journal import Journal
from yutang.kit.clock import utcnow
from yutang.kit.errors import BadRequest, FieldError, Unauthorized

KEY_CACHE_SECONDS = 30.0  # a revoked write key stops working within this long
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]')


class Ingest:
    """The front half of event ingest; returns only once the messages are on disk."""

    def __init__(self, journal: Journal, authenticate: Callable[[str], tuple[int, int]]):
        self.journal = journal
        self._authenticate = authenticate
        self._keys: dict[str, tuple[float, tuple[int, int]]] = {}
        self._keys_lock = threading.Lock()

    def source_for(self, write_key: str) -> tuple[int, int]:
        """(workspace id, source id) of a write key, cached briefly so ingest does not hit the OLTP store."""
        now = time.monotonic()
        with self._keys_lock:
            cached = self._keys.get(write_key)
        if cached and now - cached[0] < KEY_CACHE_SECONDS:
            return cached[1]
        found = self._authenticate(write_key)
        with self._keys_lock:
            self._keys[write_key] = (now, found)
        return found

    def forget_keys(self) -> None:
        """Drop cached write keys (after a source is revoked)."""
        with self._keys_lock:
            self._keys.clear()

    def receive(self, *, body: bytes, kind: str | None, write_key: str | None, gzipped: bool) -> int:
        """Validate and journal one request (a single message, or a batch when kind is None)."""
        limit = messages.MAX_BATCH_BYTES if kind is None else messages.MAX_EVENT_BYTES
        field = "batch" if kind is None else "body"
        if gzipped:
            body = _gunzip(body, limit=limit, field=field)
        if len(body) > limit:
            raise BadRequest(f"the request is {len(body)} bytes; at most {limit} are accepted", field=field)
        try:
            payload: Any = json.loads(body)
        except ValueError as exc:
            raise BadRequest(f"the body is not JSON: {exc}", field="body") from exc
        except RecursionError as exc:  # deeper than the parser's stack: find the message to name
            where = _too_deep(body) if kind is None else "body"
            detail = f"{where}: the message nests objects or arrays more than {messages.MAX_DEPTH} deep"
            raise BadRequest(detail, [FieldError(field=where, message=detail)]) from exc
        if not isinstance(payload, dict):
            raise BadRequest("the body must be a JSON object", field="body")
        write_key = write_key or payload.get("writeKey")
        if not write_key:
            raise Unauthorized("send the source's write key as the HTTP Basic user name")
        workspace_id, source_id = self.source_for(write_key)
        received_at = utcnow()
        if kind is None:
            batch = payload.get("batch")
            if not isinstance(batch, list):
                raise BadRequest("a batch request carries a 'batch' array", field="batch")
            shared = {k: payload[k] for k in ("context", "integrations") if isinstance(payload.get(k), dict)}
            items = [({**shared, **raw} if isinstance(raw, dict) else raw, None, f"batch[{i}]")
                     for i, raw in enumerate(batch)]
        else:
            items = [(payload, kind, "body")]
        accepted, errors = [], []
        for raw, item_kind, where in items:
            try:
                accepted.append(messages.accept(raw, kind=item_kind, received_at=received_at,
                                                batch_sent_at=payload.get("sentAt"), workspace_id=workspace_id,
                                                source_id=source_id, where=where))
            except messages.MessageError as exc:
                errors.extend(exc.errors)
        if errors:
            raise BadRequest(f"{len(errors)} message(s) rejected, none stored: {errors[0].message}", errors[:50])
        self.journal.append([item.line for item in accepted])
        return len(accepted)




def _gunzip(body: bytes, *, limit: int, field: str) -> bytes:
    """Decompress a gzip body, stopping as soon as it expands past the limit (a small bomb stays small)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
    try:
        data = inflater.decompress(body, limit + 1)
        # Concatenated gzip members are valid gzip; read them on while under the limit.
        while inflater.eof and inflater.unused_data and len(data) <= limit:
            rest = inflater.unused_data
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data += inflater.decompress(rest, limit + 1 - len(data))
    except zlib.error as exc:
        raise BadRequest("the body is not valid gzip", field="body") from exc
    if len(data) > limit:
        raise BadRequest(f"the request expands past {limit} bytes; at most {limit} are accepted", field=field)
    if not inflater.eof:
        raise BadRequest("the body is not valid gzip (truncated)", field="body")
    return data


def _too_deep(body: bytes) -> str:
    """The batch[i] whose message nests past the limit in a body too deep to parse (else `body`)."""
    depth, key, index, in_batch = 0, b"", -1, False
    for token in _TOKENS.finditer(body):
        text = token.group()
        if text in (b"{", b"["):
            depth += 1
            if depth == 2 and text == b"[" and key == b'"batch"':
                in_batch, index = True, 0
            if in_batch and depth - 2 > messages.MAX_DEPTH:
                return f"batch[{index}]"
        elif text in (b"}", b"]"):
            depth -= 1
            in_batch = in_batch and depth >= 2
        elif text == b"," and in_batch and depth == 2:
            index += 1
        elif depth == 1:
            key = text
    return "body"
