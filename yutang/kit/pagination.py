"""Opaque cursors for keyset pagination over ascending or descending integer ids."""

import base64
import json

from yutang.kit.errors import Invalid


def encode_cursor(last_id: int) -> str:
    """Opaque cursor that resumes after last_id."""
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor resumes after, or None for the first page; a bad cursor names the field."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
        if not isinstance(value, int):
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError) as exc:
        raise Invalid("cursor is not one this API issued", field="cursor") from exc
