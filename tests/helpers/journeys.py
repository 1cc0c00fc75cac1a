"""Journeys built through the API, and running their due steps at a chosen instant."""


def null_channel(api) -> tuple[int, int]:
    """A null messaging channel and a marketing template for it, no quiet hours nor caps: (channel id, template id)."""
    assert api.put("/v1/messaging/pressure", json={"caps": []}).status_code == 200
    config = api.post("/v1/messaging/channels", json={"kind": "null", "name": "测试通道"}).json()
    template = api.post("/v1/messaging/templates", json={"name": "欢迎", "channel_kind": "null", "purpose": "marketing",
                                                         "body": "{{ name }}，欢迎加入"}).json()
    return config["id"], template["id"]


def live_journey(api, definition: dict, name: str = "欢迎旅程") -> dict:
    """A journey created and published; its JSON."""
    made = api.post("/v1/journeys", json={"name": name, "definition": definition})
    assert made.status_code == 201, made.text
    published = api.post(f"/v1/journeys/{made.json()['id']}/publish")
    assert published.status_code == 200, published.text
    return published.json()


def enrol(api, journey_id: int, customer_id: int, **properties) -> dict:
    """Enrol a customer through the API; the answer."""
    response = api.post(f"/v1/journeys/{journey_id}/enrolments", json={"customer_id": customer_id,
                                                                      "properties": properties})
    assert response.status_code == 200, response.text
    return response.json()


def steps_of(api, journey_id: int, version: int | None = None) -> dict[str, dict]:
    """The counts of a journey's steps by step key (the newest version unless one is named)."""
    rows = api.get(f"/v1/journeys/{journey_id}/counts").json()["steps"]
    version = version or max(r["version"] for r in rows)
    return {r["step"]: {k: v for k, v in r.items() if k not in ("version", "step", "kind")}
            for r in rows if r["version"] == version}
