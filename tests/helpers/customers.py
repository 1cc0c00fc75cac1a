"""Customers put into a workspace through the service or the API."""

import secrets

from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn, IdentityIn, IdentityKind


def new_customer(database, actor, name: str = "顾客", **identities: str) -> int:
    """A customer created through the service (an app user id unless identities are given); their id."""
    given = [IdentityIn(kind=IdentityKind(kind), value=value) for kind, value in identities.items()]
    with database.unit_of_work() as session:
        customer = customers_service.create(session, actor=actor, data=CustomerIn(
            name=name, identities=given or [IdentityIn(kind=IdentityKind.APP_USER_ID,
                                                       value="u-" + secrets.token_hex(6))]))
        return customer.id


def post_customer(api, name: str | None = "顾客", *, fields: dict | None = None, **identities: str) -> int:
    """A customer upserted through the API (an app user id unless identities are given); their id."""
    given = [{"kind": kind, "value": value} for kind, value in identities.items()]
    body = {"identities": given or [{"kind": "app_user_id", "value": "u-" + secrets.token_hex(6)}], **(fields or {})}
    if name is not None:
        body["name"] = name
    response = api.post("/v1/customers", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()["customer"]["id"]
