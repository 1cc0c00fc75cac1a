"""OneID upsert, merge, consents, export and erasure of customers."""

import pytest
from sqlalchemy import text


def _upsert(api, **body):
    response = api.post("/v1/customers", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _phone(value):
    return {"kind": "phone", "value": value}


@pytest.mark.parametrize("identity", [
    {"kind": "phone", "value": "+86 139-1234-5678"},
    {"kind": "email", "value": "Li.Lei@Example.com"},
    {"kind": "wechat_openid", "namespace": "wx1234", "value": "oAbc123"},
    {"kind": "wechat_unionid", "value": "o6_bmUnion1"},
    {"kind": "wecom_external_userid", "value": "wmExt001"},
    {"kind": "app_user_id", "value": "u-42"},
    {"kind": "marketplace_buyer", "namespace": "tmall-flagship", "value": "AAHbuyer1"},
])
def test_upsert_by_any_identity_finds_the_same_customer(api, identity):
    first = _upsert(api, name="李雷", identities=[identity, _phone("13100131000")])
    again = _upsert(api, identities=[identity])
    assert again["outcome"] == "unchanged"
    assert again["customer"]["id"] == first["customer"]["id"]


def test_phone_and_email_are_normalised_and_matched(api):
    created = _upsert(api, identities=[_phone("139 1234 5678"), {"kind": "email", "value": "A@B.example.com"}])
    by_phone = api.get("/v1/customers", params={"identity": "phone:+8613912345678"}).json()["items"]
    by_email = api.get("/v1/customers", params={"q": "a@b.example.com"}).json()["items"]
    assert [c["id"] for c in by_phone] == [c["id"] for c in by_email] == [created["customer"]["id"]]
    values = {i["kind"]: i["value"] for i in created["customer"]["identities"]}
    assert values == {"phone": "+8613912345678", "email": "a@b.example.com"}


def test_phone_is_stored_with_a_keyed_hash_not_in_the_lookup(api, database):
    _upsert(api, identities=[_phone("13912345670")])
    with database.unit_of_work() as session:
        lookup = session.execute(text("SELECT lookup FROM customer_identities WHERE value = '+8613912345670'")).scalar()
    assert lookup and "13912345670" not in lookup and len(lookup) == 64


def test_an_identity_linking_two_customers_merges_them(api):
    a = _upsert(api, name="A", identities=[_phone("13800000001")])["customer"]
    b = _upsert(api, name="B", identities=[{"kind": "wechat_unionid", "value": "uB"}])["customer"]
    linked = _upsert(api, identities=[_phone("13800000001"), {"kind": "wechat_unionid", "value": "uB"}])
    assert linked["customer"]["id"] == a["id"]
    assert linked["merged_ids"] == [b["id"]]
    loser = api.get(f"/v1/customers/{b['id']}").json()
    assert loser["status"] == "merged" and loser["merged_into_id"] == a["id"]


def _seed_pair(api):
    api.post("/v1/channels", json={"code": "mp", "name": "MP", "kind": "mini_program"})
    api.post("/v1/channels", json={"code": "store", "name": "Store", "kind": "store"})
    group = api.post("/v1/tag-groups", json={"name": "G", "tags": ["x", "y"]}).json()
    x, y = (t["id"] for t in group["tags"])
    win = _upsert(api, name="Winner", first_channel="mp", identities=[_phone("13800000011")])["customer"]["id"]
    lose = _upsert(api, name="Loser", city="杭州", first_channel="store",
                   first_seen_at="2020-01-01T00:00:00Z",
                   identities=[_phone("13800000012"), {"kind": "email", "value": "l@x.example.com"}])["customer"]["id"]
    api.post(f"/v1/customers/{win}/tags", json={"add": [{"id": x}]})
    api.post(f"/v1/customers/{lose}/tags", json={"add": [{"id": x}, {"id": y}]})
    api.post(f"/v1/customers/{lose}/notes", json={"body": "likes oolong"})
    api.post(f"/v1/customers/{lose}/consents", json={"channel": "sms", "status": "granted", "method": "form"})
    order = api.post("/v1/orders", json={"external_id": "L1", "channel": "store", "status": "completed",
                                         "placed_at": "2026-02-01T10:00:00+08:00", "customer_id": lose,
                                         "lines": [{"sku": "S1", "quantity": 1, "unit_price_fen": 5000}]})
    assert order.status_code == 200, order.text
    return win, lose


def test_merge_moves_every_reference_and_is_recorded(api):
    win, lose = _seed_pair(api)
    merged = api.post(f"/v1/customers/{win}/merge", json={"loser_id": lose, "reason": "same person"})
    assert merged.status_code == 200, merged.text
    assert merged.json()["moved"] == {"tags": 1, "orders": 1, "identities": 2, "consents": 1, "notes": 1,
                                      "memberships": 1, "messages": 0, "loyalty": 0, "static_segments": 0,
                                      "broadcast_recipients": 0, "ownership": 0, "handovers": 0,
                                      "code_adds": 0, "tasks": 0, "group_sends": 0, "groups": 0, "library_uses": 0,
                                      "journey_enrolments": 0, "referral": 0, "groupbuy_entries": 0,
                                      "groupbuy_takes": 0, "journey_exposures": 0}
    archive = api.get(f"/v1/customers/{win}/archive").json()
    assert sorted(t["name"] for t in archive["tags"]) == ["x", "y"]
    assert archive["order_summary"]["paid_fen"] == 5000
    assert len(archive["customer"]["identities"]) == 3
    assert archive["notes"][0]["body"] == "likes oolong"
    assert archive["consent_in_force"] == {"sms": "granted"}
    assert archive["customer"]["city"] == "杭州"
    assert archive["first_channel"]["code"] == "store"  # the loser's earlier first touch wins
    assert archive["merges"][0]["loser_id"] == lose and archive["merges"][0]["reason"] == "same person"
    assert len(archive["channels"]) == 2
    loser = api.get(f"/v1/customers/{lose}/archive").json()
    assert loser["customer"]["status"] == "merged" and loser["tags"] == [] and loser["orders"] == []
    again = api.post(f"/v1/customers/{win}/merge", json={"loser_id": lose})
    assert again.status_code == 409 and again.json()["field"] == "customer_id"
    audit = api.get("/v1/audit-log", params={"entity_type": "customer", "entity_id": win}).json()["items"]
    assert any(entry["action"] == "customer.merged" for entry in audit)


@pytest.fixture
def failing_merge_record(database):
    """Make the very last write of a merge fail inside the database, as a crash or constraint would."""
    dialect = database.engine.dialect.name
    with database.engine.begin() as connection:
        if dialect == "sqlite":
            connection.execute(text("CREATE TRIGGER boom BEFORE INSERT ON customer_merges WHEN NEW.reason = 'boom' "
                                    "BEGIN SELECT RAISE(ABORT, 'boom'); END"))
        else:
            connection.execute(text("CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.reason = 'boom' "
                                    "THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
            connection.execute(text("CREATE TRIGGER boom BEFORE INSERT ON customer_merges FOR EACH ROW "
                                    "EXECUTE FUNCTION boom()"))
    yield
    with database.engine.begin() as connection:
        if dialect == "sqlite":
            connection.execute(text("DROP TRIGGER boom"))
        else:
            connection.execute(text("DROP TRIGGER boom ON customer_merges"))
            connection.execute(text("DROP FUNCTION boom()"))


def test_a_failed_merge_leaves_the_store_as_it_was(api, client, failing_merge_record):
    win, lose = _seed_pair(api)
    before = [api.get(f"/v1/customers/{cid}/archive").json() for cid in (win, lose)]
    client_no_raise = type(client)(client.app, raise_server_exceptions=False)
    response = client_no_raise.post(f"/v1/customers/{win}/merge", json={"loser_id": lose, "reason": "boom"},
                                    headers=api.headers)
    assert response.status_code == 500
    assert [api.get(f"/v1/customers/{cid}/archive").json() for cid in (win, lose)] == before


def test_consent_ledger_and_refusing_personalised_marketing(api):
    cid = _upsert(api, identities=[_phone("13800000021")])["customer"]["id"]
    for status, when in (("granted", "2026-01-01T00:00:00Z"), ("withdrawn", "2026-03-01T00:00:00Z")):
        r = api.post(f"/v1/customers/{cid}/consents", json={"channel": "sms", "status": status,
                                                             "method": "SMS reply TD", "occurred_at": when})
        assert r.status_code == 201, r.text
    api.post(f"/v1/customers/{cid}/consents", json={"channel": "personalised_marketing", "status": "withdrawn",
                                                    "method": "privacy settings"})
    archive = api.get(f"/v1/customers/{cid}/archive").json()
    assert archive["consent_in_force"] == {"sms": "withdrawn", "personalised_marketing": "withdrawn"}
    assert [c["status"] for c in archive["consents"]][:2] == ["granted", "withdrawn"]
    assert archive["customer"]["refuses_personalised"] is True


def test_export_holds_everything_unmasked(api):
    win, _ = _seed_pair(api)
    data = api.get(f"/v1/customers/{win}/export").json()
    assert data["profile"]["name"] == "Winner"
    assert {i["value"] for i in data["identities"]} == {"+8613800000011"}
    assert data["tags"][0]["name"] == "x"
    assert set(data) >= {"profile", "identities", "channel_memberships", "consents", "notes", "tags", "orders"}


def test_erase_removes_personal_data_and_keeps_aggregates(api):
    _, lose = _seed_pair(api)
    erased = api.post(f"/v1/customers/{lose}/erase")
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["status"] == "erased" and body["name"] is None and body["identities"] == [] and body["city"] is None
    archive = api.get(f"/v1/customers/{lose}/archive").json()
    assert archive["notes"] == []
    assert archive["order_summary"]["paid_fen"] == 5000  # revenue stays, anonymously
    assert api.get("/v1/customers", params={"q": "13800000012"}).json()["items"] == []
    audit = api.get("/v1/audit-log", params={"entity_type": "customer", "entity_id": lose}).json()["items"]
    assert all("Loser" not in str(entry["changes"]) for entry in audit)
    fresh = _upsert(api, identities=[_phone("13800000012")])
    assert fresh["outcome"] == "created" and fresh["customer"]["id"] != lose
    assert api.post(f"/v1/customers/{lose}/notes", json={"body": "x"}).status_code == 409


def test_identity_held_by_another_customer_is_a_conflict(api):
    a = _upsert(api, identities=[_phone("13800000031")])["customer"]["id"]
    _upsert(api, identities=[_phone("13800000032")])
    response = api.post(f"/v1/customers/{a}/identities", json=[_phone("13800000032")])
    assert response.status_code == 409
    assert response.json()["field"] == "identities[0]"


def test_invalid_phone_names_the_field(api):
    response = api.post("/v1/customers", json={"identities": [{"kind": "email", "value": "ok@example.com"},
                                                              _phone("12345")]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "identities[1].value"
    assert api.get("/v1/customers", params={"q": "ok@example.com"}).json()["items"] == []


def test_openid_without_appid_is_invalid(api):
    response = api.post("/v1/customers", json={"identities": [{"kind": "wechat_openid", "value": "o1"}]})
    assert response.status_code == 422
    assert response.json()["field"].startswith("identities[0]")
