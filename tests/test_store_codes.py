"""Channel QR codes against the local WeCom peer: contact ways, adds through a code, welcome, tags, figures."""

import base64
import io
import secrets

import pytest
import qrcode
from qrcode.image.pil import PilImage

from tests.peers.server import serve
from tests.peers.wecom import CallbackSigner, FakeWeCom, contact_event


@pytest.fixture
def wecom(api):
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        aes = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        welcome = api.post("/v1/messaging/templates", json={"name": "Welcome", "channel_kind": "wecom",
                                                            "purpose": "service", "body": "欢迎"}).json()
        config = api.post("/v1/messaging/channels", json={
            "kind": "wecom", "name": "WeCom",
            "settings": {"corp_id": fake.corp_id, "base_url": url, "sender": "xiaomei",
                         "welcome_template_id": welcome["id"]},
            "secrets": {"corp_secret": fake.secret, "callback_token": "cbtoken", "encoding_aes_key": aes}}).json()
        yield fake, config, CallbackSigner("cbtoken", aes, fake.corp_id)


@pytest.fixture
def shop(api):
    store = api.post("/v1/stores", json={"code": "jingan", "name": "静安店", "region": "华东"}).json()
    staff = {}
    for name, userid in (("小美", "xiaomei"), ("小丽", "xiaoli"), ("小王", "xiaowang")):
        member = api.post("/v1/members", json={"name": name, "role": "guide"}).json()["member"]["id"]
        staff[userid] = api.post("/v1/stores/staff", json={"name": name, "member_id": member, "wecom_userid": userid,
                                                           "store_id": store["id"]}).json()
    api.post(f"/v1/stores/staff/{staff['xiaowang']['id']}/leave", json={})
    tag = api.post("/v1/tag-groups", json={"name": "来源", "tags": ["门店新客"]}).json()["tags"][0]["id"]
    return store, staff, tag


def _add(client, fake, signer, config, way, external, name):
    staff, state, welcome_code = fake.scan(way, external, name)
    params, body = signer.post(contact_event(fake.corp_id, "add_external_contact", staff=staff,
                                             external_userid=external, state=state, welcome_code=welcome_code))
    assert client.post(f"/callbacks/wecom/{config['id']}", params=params, content=body).text == "success"
    return staff, welcome_code


def test_an_add_through_a_store_code_gives_channel_store_owner_tags_and_welcome(api, client, wecom, shop):
    fake, config, signer = wecom
    store, staff, tag = shop
    made = api.post("/v1/stores/codes", json={
        "code": "jingan-xiaomei", "name": "静安店·小美", "kind": "store", "config_id": config["id"],
        "store_id": store["id"], "staff_ids": [staff["xiaomei"]["id"]], "welcome_text": "欢迎来到静安店",
        "tag_ids": [tag]})
    assert made.status_code == 201, made.text
    code = made.json()
    way = fake.contact_ways[code["wecom_config_id"]]
    assert (way["type"], way["scene"], way["user"], way["state"], way["skip_verify"]) == (
        1, 2, ["xiaomei"], "jingan-xiaomei", True)
    _, welcome_code = _add(client, fake, signer, config, code["wecom_config_id"], "wmA1", "王芳")
    customer = api.get("/v1/customers", params={"identity": "wecom_external_userid:wmA1"}).json()["items"][0]
    assert customer["first_channel_id"] == store["channel_id"]
    assert customer["assigned_member_id"] == staff["xiaomei"]["member_id"]
    archive = api.get(f"/v1/customers/{customer['id']}/archive").json()
    assert archive["owner"]["store_id"] == store["id"] and archive["owner"]["history"][0]["reason"] == "first_add"
    assert [t["name"] for t in archive["tags"]] == ["门店新客"]
    assert fake.welcome_codes[welcome_code] == "欢迎来到静安店"
    assert api.get("/v1/messages", params={"customer_id": customer["id"]}).json()["items"] == []  # not twice
    params, body = signer.post(contact_event(fake.corp_id, "del_follow_user", staff="xiaomei",
                                             external_userid="wmA1"))
    client.post(f"/callbacks/wecom/{config['id']}", params=params, content=body)
    stats = api.get(f"/v1/stores/codes/{code['id']}/stats").json()
    assert (stats["adds"], stats["deletions"], stats["retained"], stats["conversions"]) == (1, 1, 0, 0)
    png = client.get(f"/v1/stores/codes/{code['id']}/qr.png", headers=api.headers)
    assert png.headers["content-type"] == "image/png"
    expected = io.BytesIO()
    qrcode.make(code["qr_url"], image_factory=PilImage, box_size=10, border=4).save(expected)
    assert png.content == expected.getvalue()


def test_a_multi_person_campaign_code_rotates_and_counts_conversions(api, client, wecom, shop):
    fake, config, signer = wecom
    store, staff, _ = shop
    code = api.post("/v1/stores/codes", json={
        "code": "double11", "name": "双11", "kind": "campaign", "campaign": "双11", "config_id": config["id"],
        "channel": "store.jingan", "staff_ids": [staff["xiaomei"]["id"], staff["xiaoli"]["id"]], "multi": True,
        "skip_verify": False}).json()
    assert fake.contact_ways[code["wecom_config_id"]]["type"] == 2
    first, _ = _add(client, fake, signer, config, code["wecom_config_id"], "wmB1", "李娜")
    second, _ = _add(client, fake, signer, config, code["wecom_config_id"], "wmB2", "张伟")
    assert (first, second) == ("xiaomei", "xiaoli")
    buyer = api.get("/v1/customers", params={"identity": "wecom_external_userid:wmB2"}).json()["items"][0]
    assert buyer["assigned_member_id"] == staff["xiaoli"]["member_id"]
    paid = api.post("/v1/orders", json={"external_id": "D1", "channel": "store.jingan", "status": "paid",
                                        "placed_at": "2099-01-01T00:00:00Z", "paid_at": "2099-01-01T00:00:00Z",
                                        "customer_id": buyer["id"],
                                        "lines": [{"sku": "s", "quantity": 1, "unit_price_fen": 9900}]})
    assert paid.status_code in (200, 201), paid.text
    stats = api.get(f"/v1/stores/codes/{code['id']}/stats").json()
    assert (stats["adds"], stats["conversions"], stats["conversion_rate"]) == (2, 1, 0.5)
    moved = api.patch(f"/v1/stores/codes/{code['id']}", json={"staff_ids": [staff["xiaoli"]["id"]]})
    assert moved.status_code == 200 and fake.contact_ways[code["wecom_config_id"]]["user"] == ["xiaoli"]
    gone = api.delete(f"/v1/stores/codes/{code['id']}")
    assert gone.json()["deleted_at"] is not None and code["wecom_config_id"] not in fake.contact_ways
    assert api.delete(f"/v1/stores/codes/{code['id']}").status_code == 409
    assert api.get("/v1/stores/codes").json() == []


def test_bad_codes_are_refused_with_the_rule_named(api, wecom, shop):
    fake, config, _ = wecom
    store, staff, _ = shop
    base = {"name": "x", "kind": "guide", "config_id": config["id"], "store_id": store["id"]}
    left = api.post("/v1/stores/codes", json={**base, "code": "left", "staff_ids": [staff["xiaowang"]["id"]]})
    assert left.status_code == 409 and left.json()["field"] == "staff_ids[0]" and "left" in left.json()["detail"]
    long = api.post("/v1/stores/codes", json={**base, "code": "x" * 31, "staff_ids": [staff["xiaomei"]["id"]]})
    assert long.status_code == 422 and long.json()["field"] == "code"
    two = api.post("/v1/stores/codes", json={**base, "code": "two",
                                             "staff_ids": [staff["xiaomei"]["id"], staff["xiaoli"]["id"]]})
    assert two.status_code == 422 and two.json()["field"] == "staff_ids"
    fake.staff_users = {"xiaoli"}
    unknown = api.post("/v1/stores/codes", json={**base, "code": "unknown", "staff_ids": [staff["xiaomei"]["id"]]})
    assert unknown.status_code == 502 and "60111" in unknown.json()["detail"]
    assert fake.contact_ways == {} and api.get("/v1/stores/codes").json() == []
