"""One owner per customer: first add wins or store assignment, the protection period, moves by hand, history."""


def _guide(api, name, store_id, role="guide"):
    body = api.post("/v1/members", json={"name": name, "role": role}).json()
    member_id = body["member"]["id"]
    api.post("/v1/stores/staff", json={"name": name, "member_id": member_id, "store_id": store_id})
    return member_id, {"Authorization": f"Bearer {body['api_key']['secret']}"}


def _world(api):
    a = api.post("/v1/stores", json={"code": "a", "name": "A", "region": "East"}).json()
    b = api.post("/v1/stores", json={"code": "b", "name": "B", "region": "West"}).json()
    guides = {"a1": _guide(api, "a1", a["id"]), "a2": _guide(api, "a2", a["id"]), "b1": _guide(api, "b1", b["id"])}
    customer = api.post("/v1/customers", json={"identities": [{"kind": "phone", "value": "13900001111"}]}).json()
    return a, b, guides, customer["customer"]["id"]


def test_first_add_wins_and_a_move_by_hand_is_recorded(api, client, tenant):
    a, _, guides, customer = _world(api)
    first = api.post(f"/v1/stores/owners/{customer}/claim", json={"member_id": guides["a1"][0]}).json()
    assert first["outcome"] == "owned" and first["member_id"] == guides["a1"][0] and first["store_id"] == a["id"]
    assert first["protected_until"] is not None and first["history"][0]["reason"] == "first_add"
    second = api.post(f"/v1/stores/owners/{customer}/claim", json={"member_id": guides["a2"][0]}).json()
    assert second["outcome"] == "kept" and second["member_id"] == guides["a1"][0]
    assert [c["id"] for c in client.get("/v1/customers", headers=guides["a1"][1]).json()["items"]] == [customer]
    assert client.get(f"/v1/customers/{customer}", headers=guides["a2"][1]).status_code == 404
    refused = client.post(f"/v1/stores/owners/{customer}/reassign", headers=guides["a1"][1],
                          json={"member_id": guides["a2"][0]})
    assert refused.status_code == 403
    moved = api.post(f"/v1/stores/owners/{customer}/reassign", json={"member_id": guides["a2"][0],
                                                                     "note": "a1 轮休"}).json()
    assert moved["member_id"] == guides["a2"][0]
    assert [(h["reason"], h["from_member_id"], h["to_member_id"], h["note"]) for h in moved["history"]] == [
        ("manual", guides["a1"][0], guides["a2"][0], "a1 轮休"), ("first_add", None, guides["a1"][0], None)]
    archive = api.get(f"/v1/customers/{customer}/archive").json()
    assert archive["customer"]["assigned_member_id"] == guides["a2"][0]
    assert archive["owner"]["member_id"] == guides["a2"][0] and len(archive["owner"]["history"]) == 2
    pipeline = client.app.state.pipeline
    pipeline.catch_up()
    rows = pipeline.warehouse.query(
        "SELECT properties FROM events WHERE workspace_id = %(w)s AND customer_id = %(c)s AND event = 'Owner Changed'",
        {"w": tenant.id, "c": customer})
    assert len(rows) == 2


def test_store_assignment_moves_a_customer_only_after_the_protection_period(api):
    _, b, guides, customer = _world(api)
    api.put("/v1/stores/ownership/settings", json={"rule": "store_assignment", "protection_days": 30})
    api.post(f"/v1/stores/owners/{customer}/claim", json={"member_id": guides["a1"][0]})
    protected = api.post(f"/v1/stores/owners/{customer}/claim", json={"member_id": guides["b1"][0]}).json()
    assert protected["outcome"] == "protected" and protected["member_id"] == guides["a1"][0]
    same_store = api.post(f"/v1/stores/owners/{customer}/claim", json={"member_id": guides["a2"][0]}).json()
    assert same_store["outcome"] == "protected"
    api.put("/v1/stores/ownership/settings", json={"rule": "store_assignment", "protection_days": 0})
    api.post(f"/v1/stores/owners/{customer}/reassign", json={"member_id": guides["a1"][0]})
    moved = api.post(f"/v1/stores/owners/{customer}/claim", json={"member_id": guides["b1"][0]}).json()
    assert moved["outcome"] == "moved" and moved["store_id"] == b["id"] and moved["history"][0]["reason"] == "rule"
    assert api.get("/v1/stores/ownership/settings").json() == {"rule": "store_assignment", "protection_days": 0}


def test_managers_reassign_within_their_team_and_bad_input_names_the_field(api, client):
    a, _, guides, customer = _world(api)
    manager_id, manager = _guide(api, "店长", a["id"], role="store_manager")
    api.post(f"/v1/stores/owners/{customer}/claim", json={"member_id": guides["a1"][0]})
    inside = client.post(f"/v1/stores/owners/{customer}/reassign", headers=manager,
                         json={"member_id": guides["a2"][0]})
    assert inside.status_code == 200 and inside.json()["history"][0]["by_member_id"] == manager_id
    outside = client.post(f"/v1/stores/owners/{customer}/reassign", headers=manager,
                          json={"member_id": guides["b1"][0]})
    assert outside.status_code == 422 and outside.json()["field"] == "assigned_member_id"
    unknown = api.post(f"/v1/stores/owners/{customer}/claim", json={"member_id": 2**62})
    assert unknown.status_code == 404 and unknown.json()["field"] == "member_id"
    bad = api.put("/v1/stores/ownership/settings", json={"rule": "latest_wins"})
    assert bad.status_code == 422 and bad.json()["field"] == "rule"
    assert len(api.get(f"/v1/stores/owners/{customer}").json()["history"]) == 2


def test_merge_keeps_the_winners_owner_and_erase_releases(api):
    _, _, guides, winner = _world(api)
    loser = api.post("/v1/customers", json={"identities": [{"kind": "phone", "value": "13900004444"}]}).json()
    loser = loser["customer"]["id"]
    api.post(f"/v1/stores/owners/{winner}/claim", json={"member_id": guides["a1"][0]})
    api.post(f"/v1/stores/owners/{loser}/claim", json={"member_id": guides["b1"][0]})
    merged = api.post(f"/v1/customers/{winner}/merge", json={"loser_id": loser})
    assert merged.status_code == 200 and merged.json()["moved"]["ownership"] == 2
    owner = api.get(f"/v1/stores/owners/{winner}").json()
    assert owner["member_id"] == guides["a1"][0] and len(owner["history"]) == 2
    api.post(f"/v1/stores/owners/{winner}/reassign", json={"member_id": guides["a2"][0], "note": "王芳要求换导购"})
    assert api.get(f"/v1/customers/{winner}/export").json()["ownership"]["history"][-1]["note"] == "王芳要求换导购"
    assert api.post(f"/v1/customers/{winner}/erase").status_code == 200
    erased = api.get(f"/v1/stores/owners/{winner}").json()
    assert erased["since"] is None and all(h["note"] is None for h in erased["history"])
