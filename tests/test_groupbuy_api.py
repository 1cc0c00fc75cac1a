"""The group-buy API a console and a mini program call: set-up, joining, cut-off, pick-up; bad input refused with
the reason and the field, nothing half-written."""

from tests.helpers.customers import post_customer

BODY = {"title": "周三面包接龙", "deposit_kind": "earnest", "starts_at": "2020-01-01T00:00:00Z",
        "cutoff_at": "2099-01-01T00:00:00Z", "production_date": "2099-01-02",
        "items": [{"sku": "LOAF", "name": "吐司", "price_fen": 1500, "deposit_fen": 300, "cost_fen": 500,
                   "per_person_limit": 2, "cap": 3, "minimum": 1}]}


def _published(api):
    point = api.post("/v1/groupbuys/points", json={"name": "幸福里"}).json()["id"]
    groupbuy = api.post("/v1/groupbuys", json=BODY).json()
    assert api.post(f"/v1/groupbuys/{groupbuy['id']}/publish").status_code == 200
    return groupbuy["id"], groupbuy["items"][0]["id"], point


def _join(api, groupbuy_id, item_id, point, customer, key, quantity=1):
    return api.post(f"/v1/groupbuys/{groupbuy_id}/entries", json={
        "request_key": key, "customer_id": customer, "point_id": point,
        "lines": [{"item_id": item_id, "quantity": quantity}]})


def _problem(response, status, field):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field, response.text
    return response.json()["detail"]


def test_an_earnest_above_a_fifth_is_refused_naming_the_item(api):
    body = BODY | {"items": [BODY["items"][0] | {"deposit_fen": 301}]}
    assert "20%" in _problem(api.post("/v1/groupbuys", json=body), 422, "items.0.deposit_fen")
    assert api.get("/v1/groupbuys").json() == []


def test_a_mini_program_joins_once_per_request_key_and_sees_masked_names(api):
    groupbuy_id, item_id, point = _published(api)
    wang = post_customer(api, "王小明")
    first = _join(api, groupbuy_id, item_id, point, wang, "mp-1", 2)
    again = _join(api, groupbuy_id, item_id, point, wang, "mp-1", 2)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and first.json()["number"] == 1
    assert api.get(f"/v1/groupbuys/{groupbuy_id}/public").json() == [
        {"number": 1, "shown_name": "王*", "quantities": {"LOAF": 2}}]


def test_bad_joins_are_refused_with_the_reason_and_nothing_is_written(api):
    groupbuy_id, item_id, point = _published(api)
    wang, li = post_customer(api, "王"), post_customer(api, "李")
    assert "per person" in _problem(_join(api, groupbuy_id, item_id, point, wang, "a", 3), 409, "lines.0.quantity")
    assert _join(api, groupbuy_id, item_id, point, wang, "b", 2).status_code == 201
    assert "left of this item's cap" in _problem(_join(api, groupbuy_id, item_id, point, li, "c", 2), 409,
                                                 "lines.0.quantity")
    assert api.get(f"/v1/groupbuys/{groupbuy_id}").json()["items"][0]["taken"] == 2
    assert len(api.get(f"/v1/groupbuys/{groupbuy_id}/entries").json()) == 1
    # After the cut-off nobody joins
    assert api.post(f"/v1/groupbuys/{groupbuy_id}/cutoff").status_code == 200
    assert "cut-off" in _problem(_join(api, groupbuy_id, item_id, point, li, "d", 1), 409, "groupbuy_id")


def test_a_price_change_after_publishing_is_refused(api):
    groupbuy_id, _, _ = _published(api)
    items = [BODY["items"][0] | {"price_fen": 1200, "deposit_fen": 200}]
    assert "price" in _problem(api.patch(f"/v1/groupbuys/{groupbuy_id}", json={"items": items}), 409,
                               "items.0.price_fen")
    assert api.get(f"/v1/groupbuys/{groupbuy_id}").json()["items"][0]["price_fen"] == 1500


def test_cut_off_plan_pick_list_and_one_verification(api):
    groupbuy_id, item_id, point = _published(api)
    entry = _join(api, groupbuy_id, item_id, point, post_customer(api, "王"), "k", 2).json()
    cut = api.post(f"/v1/groupbuys/{groupbuy_id}/cutoff").json()
    assert (cut["items"], cut["confirmed_lines"], cut["balance_due_fen"]) == ({"LOAF": "ahead"}, 1, 2400)
    assert [(r["sku"], r["quantity"]) for r in api.get("/v1/groupbuys/production-plan").json()] == [("LOAF", 2)]
    assert [(r["point"], r["quantity"]) for r in api.get(f"/v1/groupbuys/{groupbuy_id}/pick-lists").json()] == [
        ("幸福里", 2)]
    verified = api.post(f"/v1/groupbuys/{groupbuy_id}/verify", json={"code": entry["code"]})
    assert verified.status_code == 200 and verified.json()["lines"][0]["status"] == "picked_up"
    assert "verified already" in _problem(api.post(f"/v1/groupbuys/{groupbuy_id}/verify",
                                                   json={"code": entry["code"]}), 409, "code")
    refund = api.post(f"/v1/groupbuys/{groupbuy_id}/refunds", json={
        "entry_id": entry["id"], "item_id": item_id, "refund_fen": 3000})
    assert refund.json() == {"revenue_fen": 0, "cost_fen": 1000, "profit_fen": -1000}  # fresh: cost kept
