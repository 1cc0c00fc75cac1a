"""Behaviour events sent the way a Segment-compatible client sends them."""

import base64


def basic(write_key: str) -> dict:
    """Headers of a source authenticating with its write key (HTTP Basic, empty password), as Segment's clients do."""
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


def new_source(api, name: str = "app", kind: str = "app") -> str:
    """An event source created through the API; its write key."""
    response = api.post("/v1/sources", json={"name": name, "kind": kind})
    assert response.status_code == 201, response.text
    return response.json()["write_key"]
