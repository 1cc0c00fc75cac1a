"""The console's pages, one module per section."""

from fastapi import APIRouter

from yutang.web.routes import (
    auth,
    broadcasts,
    channels,
    customers,
    dead_letters,
    lifecycle,
    loyalty,
    messaging,
    segments,
    tags,
    webhooks,
)


def console_router() -> APIRouter:
    """Every /console route."""
    router = APIRouter(include_in_schema=False)
    for module in (auth, customers, channels, tags, segments, messaging, broadcasts, loyalty,
                   lifecycle, dead_letters, webhooks):
        router.include_router(module.router, prefix="/console")
    return router
