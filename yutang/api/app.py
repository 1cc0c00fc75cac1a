"""The /v1 API as one router, assembled from the domain routers."""

from fastapi import APIRouter

from yutang.api.routes import (
    broadcasts,
    channels,
    customers,
    dead_letters,
    ingest,
    lifecycle,
    loyalty,
    loyalty_programme,
    messaging,
    orders,
    segments,
    sources,
    tags,
    workspace,
)


def api_router() -> APIRouter:
    """Every /v1 route."""
    router = APIRouter(prefix="/v1")
    for module in (workspace, channels, customers, tags, orders, segments, sources, dead_letters, ingest, messaging,
                   broadcasts, loyalty, loyalty_programme, lifecycle):
        router.include_router(module.router)
    return router
