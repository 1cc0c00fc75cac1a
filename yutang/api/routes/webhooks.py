"""Webhook endpoints for Yutang's own events: subscribe, change, rotate the secret, the delivery log, replay."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from yutang.api.deps import ActorDep, IdPath, unit_of_work
from yutang.warehouse.own_events import CATALOGUE
from yutang.webhooks import service
from yutang.webhooks.schemas import (
    DeliveryDetailOut,
    DeliveryPage,
    DeliveryStatus,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    RotateIn,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/event-types", response_model=list[str])
def event_types() -> list[str]:
    """Every event name an endpoint can subscribe to (docs/events.md describes each)."""
    return list(CATALOGUE)


@router.get("/endpoints", response_model=list[EndpointOut])
def list_endpoints(request: Request, actor: ActorDep):
    """The workspace's endpoints (owners only)."""
    with unit_of_work(request) as session:
        return service.list_endpoints(session, actor=actor)


@router.post("/endpoints", response_model=EndpointSecretOut, status_code=201)
def create_endpoint(request: Request, actor: ActorDep, data: EndpointIn):
    """Subscribe a URL to event names; the answer carries the signing secret (shown once)."""
    with unit_of_work(request) as session:
        return service.create_endpoint(session, actor=actor, data=data)


@router.get("/endpoints/{endpoint_id}", response_model=EndpointOut)
def get_endpoint(request: Request, actor: ActorDep, endpoint_id: IdPath):
    """One endpoint; `disabled_reason` says why Yutang turned it off."""
    with unit_of_work(request) as session:
        return service.get_endpoint(session, actor=actor, endpoint_id=endpoint_id)


@router.patch("/endpoints/{endpoint_id}", response_model=EndpointOut)
def update_endpoint(request: Request, actor: ActorDep, endpoint_id: IdPath, data: EndpointPatch):
    """Change an endpoint; `{"enabled": true}` turns a disabled one on again and sends what waited."""
    with unit_of_work(request) as session:
        return service.update_endpoint(session, actor=actor, endpoint_id=endpoint_id, data=data)


@router.delete("/endpoints/{endpoint_id}", status_code=204)
def delete_endpoint(request: Request, actor: ActorDep, endpoint_id: IdPath) -> None:
    """Remove an endpoint and its delivery log."""
    with unit_of_work(request) as session:
        service.delete_endpoint(session, actor=actor, endpoint_id=endpoint_id)


@router.post("/endpoints/{endpoint_id}/rotate-secret", response_model=EndpointSecretOut)
def rotate_secret(request: Request, actor: ActorDep, endpoint_id: IdPath, data: RotateIn):
    """A new signing secret; the old one keeps signing beside it for `grace_seconds` (default a day)."""
    with unit_of_work(request) as session:
        return service.rotate_secret(session, actor=actor, endpoint_id=endpoint_id, grace_seconds=data.grace_seconds)


@router.get("/endpoints/{endpoint_id}/deliveries", response_model=DeliveryPage)
def list_deliveries(request: Request, actor: ActorDep, endpoint_id: IdPath, status: DeliveryStatus | None = None,
                    cursor: str | None = None, limit: Limit = 50):
    """The endpoint's delivery log, newest first."""
    with unit_of_work(request) as session:
        return service.list_deliveries(session, actor=actor, endpoint_id=endpoint_id, status=status, cursor=cursor,
                                       limit=limit)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetailOut)
def get_delivery(request: Request, actor: ActorDep, delivery_id: IdPath):
    """A delivery with each attempt's answer."""
    with unit_of_work(request) as session:
        return service.get_delivery(session, actor=actor, delivery_id=delivery_id)


@router.post("/deliveries/{delivery_id}/replay", response_model=DeliveryDetailOut)
def replay(request: Request, actor: ActorDep, delivery_id: IdPath):
    """Send a delivery again, with the same webhook-id and a fresh retry schedule."""
    with unit_of_work(request) as session:
        return service.replay(session, actor=actor, delivery_id=delivery_id)
