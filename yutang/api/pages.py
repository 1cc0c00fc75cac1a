"""Cursor pages: items plus an opaque cursor for the next page."""

from typing import Generic, TypeVar

from pydantic import BaseModel

from yutang.kit.pagination import encode_cursor

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of items; pass next_cursor back as ?cursor= to continue, null at the end."""

    items: list[T]
    next_cursor: str | None = None


def page_of(items: list, *, ids: list[int], limit: int) -> dict:
    """Trim a limit+1 fetch to a page and compute its next cursor."""
    has_more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor(ids[limit - 1]) if has_more else None}
