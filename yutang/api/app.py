"""The /v1 API as one router, assembled from the domain routers."""

from fastapi import APIRouter

from yutang.api.routes import channels, customers, ingest, orders, segments, sources, tags, workspace


def api_router() -> APIRouter:
    """Every /v1 route."""
    router = APIRouter(prefix="/v1")
    for module in (workspace, channels, customers, tags, orders, segments, sources, ingest):
        router.include_router(module.router)
    return router
