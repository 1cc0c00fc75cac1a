"""Segment-compatible tracking endpoints: a source's write key as the HTTP Basic user name."""

import base64
import binascii

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from yutang.api.deps import pipeline

router = APIRouter(tags=["tracking (Segment-compatible)"])

KINDS = ("identify", "track", "page", "screen", "group", "alias")
DOC = ("Segment HTTP Tracking API: authenticate with the source's write key as the Basic user name (or `writeKey` "
       "in the body). Limits: 32 KB per message, 500 KB per batch. The response is sent once the messages are on "
       "disk; a messageId already received (within 7 days) is not counted again.")


def _write_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            return base64.b64decode(header[6:]).decode().split(":", 1)[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


async def _receive(request: Request, kind: str | None) -> dict:
    body = await request.body()
    ingest = pipeline(request).ingest
    count = await run_in_threadpool(
        ingest.receive, body=body, kind=kind, write_key=_write_key(request),
        gzipped=request.headers.get("content-encoding", "").lower() == "gzip")
    return {"success": True, "accepted": count}


@router.post("/batch", description=DOC)
async def batch(request: Request) -> dict:
    """Several messages of any type in one request (`{"batch": [...]}`)."""
    return await _receive(request, None)


def _single(kind: str):
    async def endpoint(request: Request) -> dict:
        return await _receive(request, kind)

    endpoint.__name__ = kind
    endpoint.__doc__ = f"One {kind} message."
    return endpoint


for _kind in KINDS:
    router.add_api_route(f"/{_kind}", _single(_kind), methods=["POST"], description=DOC)
