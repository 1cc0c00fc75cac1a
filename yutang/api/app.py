"""The /v1 API as one router, assembled from the domain routers, each route behind its role requirement."""

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute

from yutang.api.deps import Requires
from yutang.api.roles import NEEDS
from yutang.api.routes import (
    analytics,
    broadcasts,
    channels,
    commissions,
    customers,
    dead_letters,
    groupbuys,
    groups,
    ingest,
    journeys,
    library,
    lifecycle,
    loyalty,
    loyalty_programme,
    messaging,
    orders,
    referral,
    segments,
    sources,
    stores,
    tags,
    webhooks,
    workspace,
)
from yutang.workspaces.access import Need

PREFIX = "/v1"


def operation_key(method: str, path: str) -> str:
    """How yutang.api.roles names an operation: 'POST /v1/segments'."""
    return f"{method.upper()} {path}"


def api_router() -> APIRouter:
    """Every /v1 route, each with the check of its entry in yutang.api.roles in front of it."""
    router = APIRouter(prefix=PREFIX)
    for module in (workspace, channels, customers, tags, orders, segments, sources, dead_letters, ingest, messaging,
                   broadcasts, loyalty, loyalty_programme, lifecycle, analytics, webhooks, stores,
                   groups, library, journeys, referral, commissions, groupbuys):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            for method in sorted(route.methods):
                key = operation_key(method, PREFIX + route.path)
                if key not in NEEDS:
                    raise LookupError(f"{key} has no entry in yutang/api/roles.py: say which roles may call it")
            need = NEEDS[operation_key(sorted(route.methods)[0], PREFIX + route.path)]
            single = APIRouter()
            single.routes.append(route)
            router.include_router(single, dependencies=[] if need is Need.WRITE_KEY else [Depends(Requires(need))])
    return router
