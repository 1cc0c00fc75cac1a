"""The console's pages, one module per section."""

from fastapi import APIRouter

from yutang.web.routes import (
    adapters,
    analytics,
    auth,
    broadcasts,
    cells,
    channels,
    customers,
    dead_letters,
    groupbuys,
    groups,
    journeys,
    lifecycle,
    loyalty,
    messaging,
    pressure,
    referral,
    segments,
    settings,
    stores,
    tags,
    webhooks,
    workbench,
)

SECTIONS = (auth, analytics, cells, customers, channels, tags, segments, messaging, broadcasts, loyalty, lifecycle,
            dead_letters, webhooks, stores, workbench, groups, journeys, groupbuys, referral, settings, pressure,
            adapters)
PREFIX = "/console"


def console_router() -> APIRouter:
    """Every /console route."""
    router = APIRouter(include_in_schema=False)
    for module in SECTIONS:
        router.include_router(module.router, prefix=PREFIX)
    return router


def console_routes() -> list[tuple[str, str]]:
    """(method, path) of every console route, e.g. ("GET", "/console/customers/{customer_id}")."""
    return sorted({(method, PREFIX + route.path) for module in SECTIONS for route in module.router.routes
                   for method in getattr(route, "methods", ())})
