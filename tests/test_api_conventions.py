"""API conventions: OpenAPI, problem+json errors naming the field, cursor pagination."""


def test_openapi_is_served_and_versioned(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Yutang"
    paths = spec["paths"]
    assert all(p.startswith("/v1/") for p in paths)
    assert "/v1/customers/{customer_id}/archive" in paths


def test_validation_errors_are_problem_json_naming_the_field(api):
    response = api.post("/v1/customers", json={"name": "x" * 300, "identities": [{"kind": "fax", "value": "1"}]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422 and body["title"] == "Invalid input"
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "identities[0].kind"} <= fields


def test_unknown_things_are_404_problems(api):
    response = api.get("/v1/customers/999999999")
    assert response.status_code == 404
    assert response.json() | {"instance": None} == {
        "type": "/problems/not-found", "title": "Not found", "status": 404, "detail": "no such customer",
        "errors": [{"field": "customer_id", "detail": "no such customer"}], "field": "customer_id", "instance": None}
    assert api.get("/v1/nowhere").headers["content-type"] == "application/problem+json"


def test_cursor_pagination_walks_every_customer_once(api):
    ids = {api.post("/v1/customers", json={"identities": [{"kind": "app_user_id", "value": f"p{i}"}]})
           .json()["customer"]["id"] for i in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = api.get("/v1/customers", params=params).json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 7 and pages == 3
    assert seen == sorted(seen, reverse=True)
    bad = api.get("/v1/customers", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
    too_big = api.get("/v1/customers", params={"limit": 10_000})
    assert too_big.status_code == 422 and too_big.json()["field"] == "limit"


def test_search_by_name_and_channel(api):
    api.post("/v1/channels", json={"code": "store", "name": "Store", "kind": "store"})
    a = api.post("/v1/customers", json={"name": "陈晓明", "first_channel": "store",
                                        "identities": [{"kind": "app_user_id", "value": "n1"}]})
    a = a.json()["customer"]["id"]
    api.post("/v1/customers", json={"name": "周杰", "identities": [{"kind": "app_user_id", "value": "n2"}]})
    assert [c["id"] for c in api.get("/v1/customers", params={"name": "晓明"}).json()["items"]] == [a]
    channel_id = api.get("/v1/channels").json()[0]["id"]
    assert [c["id"] for c in api.get("/v1/customers", params={"channel_id": channel_id}).json()["items"]] == [a]
    assert [c["id"] for c in api.get("/v1/customers", params={"identity": "app_user_id:n1"}).json()["items"]] == [a]
    bad = api.get("/v1/customers", params={"identity": "fax:1"})
    assert bad.status_code == 422 and bad.json()["field"] == "identity"


def test_out_of_range_ids_are_invalid_not_server_errors(api):
    huge = 2**70
    response = api.get(f"/v1/customers/{huge}")
    assert response.status_code == 422 and response.json()["field"] == "customer_id"
    body = api.post("/v1/tags/bulk", json={"customer_ids": [huge], "add": [{"id": 1}]})
    assert body.status_code in (404, 422)
    assert body.headers["content-type"] == "application/problem+json"
