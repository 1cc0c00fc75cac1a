"""The /v1 API as one router, assembled from the domain routers."""

from fastapi import APIRouter

from yutang.api.routes import (
    broadcasts,
    channels,
    customers,
    ingest,
    lifecycle,
    loyalty,
    loyalty_programme,
    messaging,
    orders,
    segments,
    sources,
    tags,
    webhooks,
    workspace,
)


def api_router() -> APIRouter:
    """Every /v1 route."""
    router = APIRouter(prefix="/v1")
    for module in (workspace, channels, customers, tags, orders, segments, sources, ingest, messaging, broadcasts,
                   loyalty, loyalty_programme, lifecycle, webhooks):
        router.include_router(module.router)
    return router
