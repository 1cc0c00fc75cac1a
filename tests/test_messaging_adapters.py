"""Each channel adapter against a local peer that speaks its wire format, error codes included."""

import base64
import hashlib
import hmac
import json
import secrets
import smtplib
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.peers.server import serve
from tests.peers.sms import FakeSms
from tests.peers.smtp import smtp_server
from tests.peers.webhooks import Receiver
from tests.peers.wechat import FakeWeChat
from tests.peers.wecom import CallbackSigner, FakeWeCom, contact_event
from yutang.messaging.adapters import build
from yutang.messaging.adapters.base import ChannelError, Outbound
from yutang.messaging.adapters.email import SmtpAdapter
from yutang.messaging.adapters.sms import HttpSmsAdapter
from yutang.messaging.adapters.webhook import WebhookAdapter, sign
from yutang.messaging.adapters.wechat import WeChatClient
from yutang.messaging.adapters.wecom import WeComClient
from yutang.messaging.adapters.wecom_crypto import CallbackError, WXBizMsgCrypt, parse_xml

# ---- WeCom ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wecom_peer():
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        yield fake, url


@pytest.fixture
def wecom(wecom_peer):
    fake, url = wecom_peer
    fake.contacts.clear(), fake.groups.clear(), fake.fail_next.clear(), fake.group_sends_per_customer.clear()
    client = WeComClient(corp_id=fake.corp_id, secret=fake.secret, base_url=url, sender="zhangsan")
    yield fake, client
    client.close()


def test_wecom_token_is_cached_and_renewed_on_40014_and_42001(wecom):
    fake, client = wecom
    fake.add_contact("zhangsan", "wmAAA1", "Li Lei")
    before = fake.token_requests
    assert len(list(client.contacts(userids=["zhangsan"]))) == 1
    assert len(list(client.contacts(userids=["zhangsan"]))) == 1
    assert fake.token_requests == before + 1  # cached
    fake.expire_tokens()  # 42001 expired
    assert len(list(client.contacts(userids=["zhangsan"]))) == 1
    fake.tokens.clear()  # 40014 invalid
    assert len(list(client.contacts(userids=["zhangsan"]))) == 1
    assert fake.token_requests == before + 3


def test_wecom_bad_secret_is_40001():
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        client = WeComClient(corp_id=fake.corp_id, secret="wrong", base_url=url)
        with pytest.raises(ChannelError) as caught:
            client.access_token()
        assert caught.value.code == "40001" and not caught.value.retryable


def test_wecom_contacts_follow_the_cursor(wecom):
    fake, client = wecom
    for n in range(7):
        fake.add_contact("zhangsan", f"wmC{n}", f"C{n}", unionid=f"oU{n}", state="qr-store-1" if n == 3 else "")
    fake.add_contact("lisi", "wmL0", "L0")
    pages = []
    cursor = ""
    while True:
        page, cursor = client.contacts_page(userids=["zhangsan", "lisi"], cursor=cursor, limit=3)
        pages.append(page)
        if not cursor:
            break
    assert [len(p) for p in pages] == [3, 3, 2]
    contacts = list(client.contacts(userids=["zhangsan", "lisi"], limit=3))
    assert [c.external_userid for c in contacts] == [f"wmC{n}" for n in range(7)] + ["wmL0"]
    assert contacts[3].state == "qr-store-1" and contacts[3].unionid == "oU3" and contacts[7].staff_userid == "lisi"


def test_wecom_rate_limit_is_retryable(wecom):
    fake, client = wecom
    fake.fail_next["/batch/get_by_user"] = [45009]
    with pytest.raises(ChannelError) as caught:
        client.contacts_page(userids=["zhangsan"])
    assert caught.value.code == "45009" and caught.value.retryable
    assert client.contacts_page(userids=["zhangsan"]) == ([], "")


def test_wecom_corp_tags_both_ways(wecom):
    fake, client = wecom
    fake.add_contact("zhangsan", "wmT1", "T1")
    created = client.add_corp_tags(group_name="Interest", names=["Tea", "Coffee"])
    assert {t.tag_name for t in created} == {"Tea", "Coffee"} and len({t.group_id for t in created}) == 1
    more = client.add_corp_tags(group_name="Interest", names=["Juice"], group_id=created[0].group_id)
    assert more[0].group_id == created[0].group_id
    with pytest.raises(ChannelError) as caught:
        client.add_corp_tags(group_name="Interest", names=["Tea"], group_id=created[0].group_id)
    assert caught.value.code == "40071"
    listed = client.corp_tags()
    assert sorted(t.tag_name for t in listed) == ["Coffee", "Juice", "Tea"]
    tea = next(t for t in listed if t.tag_name == "Tea")
    client.mark_tag(staff_userid="zhangsan", external_userid="wmT1", add=[tea.tag_id])
    assert fake.marks[("zhangsan", "wmT1")] == {tea.tag_id}
    client.mark_tag(staff_userid="zhangsan", external_userid="wmT1", remove=[tea.tag_id])
    assert fake.marks[("zhangsan", "wmT1")] == set()
    for external, code in (("bogus", "40096"), ("wmNobody", "84061")):
        with pytest.raises(ChannelError) as caught:
            client.mark_tag(staff_userid="zhangsan", external_userid=external, add=[tea.tag_id])
        assert caught.value.code == code
    with pytest.raises(ChannelError) as caught:
        client.mark_tag(staff_userid="zhangsan", external_userid="wmT1", add=["etUnknown"])
    assert caught.value.code == "40068"


def test_wecom_group_send_results_and_caps(wecom):
    fake, client = wecom
    for n in range(3):
        fake.add_contact("zhangsan", f"wmG{n}", f"G{n}")
    attachments = [{"msgtype": "link", "link": {"title": f"t{n}", "url": f"https://e.example/{n}"}} for n in range(9)]
    msgid, failed = client.add_msg_template(external_userids=["wmG0", "wmG1", "wmStranger"], text="新品上市",
                                            attachments=attachments)
    assert failed == ["wmStranger"]
    sent = fake.templates[msgid]["body"]
    assert sent["chat_type"] == "single" and sent["sender"] == "zhangsan" and len(sent["attachments"]) == 9
    assert sent["text"] == {"content": "新品上市"}
    with pytest.raises(ChannelError):
        client.add_msg_template(external_userids=["wmG0"], text="x", attachments=attachments + attachments[:1])
    assert {r["status"] for r in client.send_results(msgid=msgid, staff_userid="zhangsan")} == {0}
    fake.confirm(msgid)
    results = list(client.send_results(msgid=msgid, staff_userid="zhangsan"))
    assert sorted(r["external_userid"] for r in results) == ["wmG0", "wmG1"] and {r["status"] for r in results} == {1}
    # The per-customer cap: once reached WeCom leaves the customer out, and 41048 when nobody is left.
    fake.group_sends_per_customer["wmG2"] = fake.monthly_cap
    result = client.send(Outbound(message_id=1, address="wmG2", body="again"))
    assert not result.ok and result.error_code == "41048" and not result.retryable
    assert client.send(Outbound(message_id=2, address="bad-id", body="x")).error_code == "40096"
    fake.fail_next["/add_msg_template"] = [45009]
    limited = client.send(Outbound(message_id=3, address="wmG0", body="x"))
    assert limited.error_code == "45009" and limited.retryable
    assert client.send(Outbound(message_id=4, address="wmG0", body="x")).ok


def test_wecom_welcome_message_uses_the_code_once(wecom):
    fake, client = wecom
    fake.welcome_codes["WC1"] = None
    client.send_welcome(welcome_code="WC1", text="欢迎")
    assert fake.welcome_codes["WC1"] == "欢迎"
    with pytest.raises(ChannelError) as caught:
        client.send_welcome(welcome_code="WC1", text="again")
    assert caught.value.code == "40058"


def test_wecom_callback_crypto_matches_an_independent_implementation():
    key = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    signer = CallbackSigner("cbtoken", key, "wwcorp")
    crypt = WXBizMsgCrypt("cbtoken", key, "wwcorp")
    query = signer.url_check("echo-12345")
    assert crypt.verify_url(query["msg_signature"], query["timestamp"], query["nonce"], query["echostr"]) == \
        "echo-12345"
    inner = contact_event("wwcorp", "add_external_contact", staff="zhangsan", external_userid="wmX", state="s1",
                          welcome_code="WC9")
    params, body = signer.post(inner)
    fields = crypt.open(params["msg_signature"], params["timestamp"], params["nonce"], body)
    assert fields["ChangeType"] == "add_external_contact" and fields["State"] == "s1" and fields["WelcomeCode"] == "WC9"
    # Our ciphertext opens with theirs (the way back), for any message length around the 32-byte block.
    for size in (0, 1, 11, 12, 31, 32, 33, 100):
        text = "字" * size
        sealed = parse_xml(crypt.seal(text, timestamp="1", nonce="n"))
        assert sealed["MsgSignature"] == signer.sign("1", "n", sealed["Encrypt"])
        raw = base64.b64decode(sealed["Encrypt"])
        assert len(raw) % 32 == 0
        assert crypt.decrypt(signer.encrypt(text)) == text
    with pytest.raises(CallbackError):
        crypt.open("0" * 40, params["timestamp"], params["nonce"], body)
    with pytest.raises(CallbackError):
        WXBizMsgCrypt("cbtoken", key, "another-corp").decrypt(signer.encrypt("x"))
    with pytest.raises(CallbackError):
        crypt.open(params["msg_signature"], params["timestamp"], params["nonce"], "<!DOCTYPE x><xml/>")


def test_wecom_signature_is_sha1_of_sorted_parts():
    crypt = WXBizMsgCrypt("tok", "a" * 43, "corp")
    expected = hashlib.sha1("".join(sorted(["tok", "123", "nonce", "ENC"])).encode()).hexdigest()
    crypt.verify(expected, "123", "nonce", "ENC")


# ---- WeChat -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wechat_peer():
    fake = FakeWeChat(followers={"oFollower"}, known={"oFollower", "oLeft", "oMini"}, templates={"TPL1", "SUB1"})
    with serve(fake.app()) as url:
        yield fake, url


def test_wechat_template_message(wechat_peer):
    fake, url = wechat_peer
    client = WeChatClient(appid=fake.appid, secret=fake.secret, mode="template", base_url=url)
    payload = {"template_id": "TPL1", "data": {"thing1": "拿铁", "amount2": 1800},
               "url": "https://shop.example/o/1", "miniprogram": {"appid": "wxmini", "pagepath": "pages/o?id=1"}}
    result = client.send(Outbound(message_id=7, address="oFollower", payload=payload))
    assert result.ok and result.provider_id
    sent = fake.sent[-1]
    assert sent["data"] == {"thing1": {"value": "拿铁"}, "amount2": {"value": "1800"}}
    assert sent["url"] == "https://shop.example/o/1" and sent["miniprogram"]["pagepath"] == "pages/o?id=1"
    codes = {address: client.send(Outbound(message_id=8, address=address, payload=payload)).error_code
             for address in ("oLeft", "oStranger")}
    assert codes == {"oLeft": "43004", "oStranger": "40003"}
    bad = client.send(Outbound(message_id=9, address="oFollower", payload={**payload, "template_id": "NOPE"}))
    assert bad.error_code == "40037"
    fake.fail_next.append(45009)
    limited = client.send(Outbound(message_id=10, address="oFollower", payload=payload))
    assert limited.error_code == "45009" and limited.retryable
    fake.tokens.clear()  # a token WeChat no longer knows is renewed once
    assert client.send(Outbound(message_id=11, address="oFollower", payload=payload)).ok


def test_wechat_subscribe_message(wechat_peer):
    fake, url = wechat_peer
    client = WeChatClient(appid=fake.appid, secret=fake.secret, mode="subscribe", base_url=url)
    fake.subscribed["oMini"] = {"SUB1"}
    message = Outbound(message_id=20, address="oMini",
                       payload={"template_id": "SUB1", "page": "pages/coupon?id=3", "data": {"thing1": "券"}})
    assert client.send(message).ok
    assert fake.sent[-1]["page"] == "pages/coupon?id=3" and fake.sent[-1]["kind"] == "subscribe"
    again = client.send(message)  # one acceptance allows one message
    assert again.error_code == "43101" and not again.retryable


# ---- Email over SMTP ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp_sink():
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"mailer" and auth_data.password == b"pw"
        return AuthResult(success=ok, handled=False)

    with smtp_server(authenticator=authenticator, auth_require_tls=False) as (sink, port):
        yield sink, "127.0.0.1", port


def test_email_over_smtp(smtp_sink):
    sink, host, port = smtp_sink
    adapter = SmtpAdapter(host=host, port=port, sender="brand@shop.example", username="mailer", password="pw")
    result = adapter.send(Outbound(message_id=5, address="li@example.com", subject="您好 Li",
                                   body="欢迎回来", payload={"html": "<p>欢迎回来</p>"}))
    assert result.ok and "yutang-5" in result.provider_id
    mail_from, rcpts, content = sink.messages[-1]
    parsed = message_from_bytes(content, policy=policy.default)
    assert mail_from == "brand@shop.example" and rcpts == ["li@example.com"]
    assert parsed["X-Yutang-Message"] == "5" and parsed["Subject"] == "您好 Li"
    assert "欢迎回来" in parsed.get_body(("plain",)).get_content()
    bounced = adapter.send(Outbound(message_id=6, address="x@bounce.example", subject="s", body="b"))
    assert bounced.error_code == "550" and not bounced.retryable
    busy = adapter.send(Outbound(message_id=7, address="x@busy.example", subject="s", body="b"))
    assert busy.error_code == "451" and busy.retryable
    assert adapter.send(Outbound(message_id=8, address="ok@example.com", subject="s", body="b")).ok  # reused
    adapter.close()
    wrong = SmtpAdapter(host=host, port=port, sender="brand@shop.example", username="mailer", password="nope")
    refused = wrong.send(Outbound(message_id=9, address="ok@example.com", subject="s", body="b"))
    assert refused.error_code == "535" and not refused.retryable
    dead = SmtpAdapter(host="127.0.0.1", port=1, sender="brand@shop.example", timeout=1)
    down = dead.send(Outbound(message_id=10, address="ok@example.com", subject="s", body="b"))
    assert down.error_code == "network" and down.retryable


def test_smtp_auth_error_type_is_response_exception():
    assert issubclass(smtplib.SMTPAuthenticationError, smtplib.SMTPResponseException)


# ---- SMS ----------------------------------------------------------------------------------------------------


def test_sms_provider():
    fake = FakeSms(blacklist={"+8613900000000"})
    with serve(fake.app()) as url:
        adapter = HttpSmsAdapter(url=url + "/sms/send", api_key=fake.api_key, sign_name="鱼塘")
        ok = adapter.send(Outbound(message_id=1, address="+8613800138000",
                                   payload={"template": "SMS_100", "params": {"code": "1234"}}))
        assert ok.ok and ok.provider_id == fake.sent[-1]["message_id"]
        assert fake.sent[-1]["params"] == {"code": "1234"} and fake.sent[-1]["sign_name"] == "鱼塘"
        assert fake.sent[-1]["reference"] == "1"
        cases = {"+8613900000000": "BLACKLISTED", "13800138000": "INVALID_PHONE"}
        for address, code in cases.items():
            result = adapter.send(Outbound(message_id=2, address=address, payload={"template": "SMS_100"}))
            assert result.error_code == code and not result.retryable
        other = adapter.send(Outbound(message_id=3, address="+8613800138000", payload={"template": "SMS_9"}))
        assert other.error_code == "TEMPLATE_NOT_APPROVED"
        fake.rate_limited = 1
        limited = adapter.send(Outbound(message_id=4, address="+8613800138000", payload={"template": "SMS_100"}))
        assert limited.error_code == "RATE_LIMITED" and limited.retryable
        wrong = HttpSmsAdapter(url=url + "/sms/send", api_key="nope")
        assert wrong.send(Outbound(message_id=5, address="+8613800138000",
                                   payload={"template": "SMS_100"})).error_code == "UNAUTHORIZED"


# ---- Webhooks -----------------------------------------------------------------------------------------------


def test_standard_webhooks_test_vector():
    # The specification's published example (standard-webhooks/spec, "Signature scheme").
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = sign(secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
                     timestamp=datetime.fromtimestamp(1614265330, UTC), body='{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_webhook_delivery_is_signed_and_errors_are_classified():
    receiver = Receiver(statuses=[503, 410])
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with serve(receiver.app()) as url:
        adapter = WebhookAdapter(url=url + "/hook", secret=secret)
        message = Outbound(message_id=42, address=url + "/hook",
                           payload={"event": {"type": "message.sent", "data": {"id": 42}}})
        first = adapter.send(message)
        assert first.error_code == "http_503" and first.retryable
        second = adapter.send(message)
        assert second.error_code == "http_410" and not second.retryable
        assert adapter.send(message).ok
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert ids == {"msg_yutang_42"}  # the same id on every retry
    headers, body = receiver.received[-1]
    assert json.loads(body) == {"data": {"id": 42}, "type": "message.sent"}
    # Verify as a receiver would, from the spec: HMAC-SHA256 over id.timestamp.body with the base64 secret.
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body.decode()}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60


def test_build_makes_each_adapter_kind():
    assert build("null", {}, {}).kind == "null"
    assert build("wechat_mp", {"appid": "wx1"}, {"app_secret": "s"}).kind == "wechat_mp"
    with pytest.raises(ValueError):
        build("fax", {}, {})
