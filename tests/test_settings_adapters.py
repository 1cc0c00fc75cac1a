"""Channel adapters configured by form per kind and tested against the local fake peers (API and console)."""

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.helpers.console import HTMX, signed_in
from tests.helpers.tenants import add_member
from tests.peers.server import serve
from tests.peers.sms import FakeSms
from tests.peers.smtp import free_port, smtp_server
from tests.peers.webhooks import Receiver
from tests.peers.wechat import FakeWeChat
from tests.peers.wecom import FakeWeCom

WHSEC = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(scope="module")
def smtp_peer():
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"mailer" and auth_data.password == b"pw"
        return AuthResult(success=ok, handled=False)

    with smtp_server(authenticator=authenticator, auth_require_tls=False) as (sink, port):
        yield port


def _check(api, body: dict) -> dict:
    config = api.post("/v1/messaging/channels", json=body)
    assert config.status_code == 201, config.text
    return api.post(f"/v1/messaging/channels/{config.json()['id']}/check").json()


def test_wecom_and_wechat_checks_ask_for_a_token(api):
    wecom, wechat = FakeWeCom(), FakeWeChat()
    with serve(wecom.app()) as wecom_url, serve(wechat.app()) as wechat_url:
        good = _check(api, {"kind": "wecom", "name": "企微", "settings": {"corp_id": wecom.corp_id,
                                                                        "base_url": wecom_url},
                            "secrets": {"corp_secret": wecom.secret}})
        assert good == {"ok": True, "code": None, "message": ""} and wecom.token_requests == 1
        bad = _check(api, {"kind": "wecom", "name": "企微2", "settings": {"corp_id": wecom.corp_id,
                                                                        "base_url": wecom_url},
                           "secrets": {"corp_secret": "wrong"}})
        assert bad["ok"] is False and bad["code"] == "40001"
        oa = _check(api, {"kind": "wechat_oa", "name": "公众号", "settings": {"appid": wechat.appid,
                                                                           "base_url": wechat_url},
                          "secrets": {"app_secret": "wrong"}})
        assert oa["ok"] is False and oa["code"] == "40125"
    unreachable = _check(api, {"kind": "wecom", "name": "企微3", "settings": {
        "corp_id": "x", "base_url": f"http://127.0.0.1:{free_port()}"}, "secrets": {"corp_secret": "s"}})
    assert unreachable["code"] == "network"


def test_smtp_sms_and_webhook_checks(api, smtp_peer):
    mail = {"kind": "email", "settings": {"host": "127.0.0.1", "port": smtp_peer, "sender": "shop@brand.example",
                                          "username": "mailer"}}
    assert _check(api, mail | {"name": "邮件", "secrets": {"password": "pw"}})["ok"] is True
    refused = _check(api, mail | {"name": "邮件2", "secrets": {"password": "nope"}})
    assert refused["ok"] is False and refused["code"] == "535"
    sms = FakeSms()
    receiver = Receiver(statuses=[200, 410])
    with serve(sms.app()) as sms_url, serve(receiver.app()) as hook_url:
        good = _check(api, {"kind": "sms", "name": "短信", "settings": {"url": f"{sms_url}/sms/send"},
                            "secrets": {"api_key": sms.api_key}})
        assert good["ok"] is True and "1000" in good["message"]
        bad = _check(api, {"kind": "sms", "name": "短信2", "settings": {"url": f"{sms_url}/sms/send"},
                           "secrets": {"api_key": "wrong"}})
        assert bad["code"] == "UNAUTHORIZED"
        config = api.post("/v1/messaging/channels", json={"kind": "webhook", "name": "钩子", "settings": {
            "url": f"{hook_url}/hook"}, "secrets": {"secret": WHSEC}}).json()
        assert api.post(f"/v1/messaging/channels/{config['id']}/check").json()["ok"] is True
        assert api.post(f"/v1/messaging/channels/{config['id']}/check").json()["code"] == "http_410"
    headers, body = receiver.received[0]
    assert b'"ping"' in body and headers["webhook-signature"].startswith("v1,")
    assert sms.sent == []  # a check sends nothing


def test_only_owners_test_connections(api, client):
    config = api.post("/v1/messaging/channels", json={"kind": "null", "name": "空"}).json()
    _, operator = add_member(api, "operator")
    assert client.post(f"/v1/messaging/channels/{config['id']}/check", headers=operator).status_code == 403
    assert api.post(f"/v1/messaging/channels/{config['id']}/check").json()["ok"] is True


def test_console_adds_an_smtp_adapter_by_form_and_tests_it(app, api, tenant, smtp_peer):
    console = signed_in(app, tenant.key)
    form = console.get("/console/settings/adapters/new", params={"kind": "email"})
    assert form.status_code == 200 and 'name="host"' in form.text and 'type="password"' in form.text
    missing = console.post("/console/settings/adapters", data={"kind": "email", "name": "邮件", "host": "",
                                                                "sender": "shop@brand.example"})
    assert missing.status_code == 422 and 'id="error-host">此项为必填' in missing.text
    bad_port = console.post("/console/settings/adapters", data={
        "kind": "email", "name": "邮件", "host": "127.0.0.1", "port": "abc", "sender": "shop@brand.example"})
    assert bad_port.status_code == 422 and 'id="error-port">' in bad_port.text
    made = console.post("/console/settings/adapters", data={
        "kind": "email", "name": "邮件", "host": "127.0.0.1", "port": str(smtp_peer), "sender": "shop@brand.example",
        "username": "mailer", "password": "wrong-password"}, follow_redirects=False)
    assert made.status_code == 303
    config = next(c for c in api.get("/v1/messaging/channels").json() if c["name"] == "邮件")
    assert config["settings"]["port"] == smtp_peer and config["secrets_set"] == ["password"]
    listing = console.get("/console/settings/adapters")
    assert "wrong-password" not in listing.text and "••••••••" in listing.text
    failed = console.post(f"/console/settings/adapters/{config['id']}/check", headers=HTMX)
    assert "连接失败" in failed.text and "535" in failed.text and "用户名或密码被拒绝" in failed.text
    # The password is replaced; an empty secret field keeps it, so only what was typed changes
    console.post(f"/console/settings/adapters/{config['id']}", data={
        "host": "127.0.0.1", "port": str(smtp_peer), "sender": "shop@brand.example", "username": "mailer",
        "password": "pw", "enabled": "on"})
    console.post(f"/console/settings/adapters/{config['id']}", data={
        "host": "127.0.0.1", "port": str(smtp_peer), "sender": "shop@brand.example", "username": "mailer",
        "password": "", "enabled": "on"})
    passed = console.post(f"/console/settings/adapters/{config['id']}/check", headers=HTMX)
    assert "连接成功" in passed.text
    webhook = console.post("/console/settings/adapters", data={"kind": "webhook", "name": "钩子",
                                                                "url": "http://127.0.0.1:9/h", "secret": "plain"})
    assert webhook.status_code == 422 and 'id="error-secret">' in webhook.text and "whsec_" in webhook.text
