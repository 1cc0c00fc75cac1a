"""Messaging end to end: channel configurations, templates, sending as a job after commit, delivery states as
warehouse events, tracked links, consent, retries and replay, WeCom sync and callbacks, the inbox."""

import base64
import hashlib
import hmac
import json
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.helpers.customers import post_customer
from tests.peers.server import serve
from tests.peers.sms import FakeSms
from tests.peers.smtp import smtp_server
from tests.peers.webhooks import Receiver
from tests.peers.wechat import FakeWeChat
from tests.peers.wecom import CallbackSigner, FakeWeCom, contact_event, text_message
from yutang.kit.clock import utcnow
from yutang.messaging import service, templating
from yutang.messaging.models import ChannelConfig, Message
from yutang.warehouse import replica


@pytest.fixture
def dispatcher(app):
    return app.state.dispatcher


@pytest.fixture(scope="module")
def smtp():
    with smtp_server() as (sink, port):
        yield sink, port


def channel(api, kind, name, settings=None, secrets_=None, **extra) -> dict:
    response = api.post("/v1/messaging/channels", json={"kind": kind, "name": name, "settings": settings or {},
                                                        "secrets": secrets_ or {}, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def events_of(pipeline, customer_id: int) -> list[str]:
    pipeline.catch_up()
    rows = pipeline.warehouse.query("SELECT event FROM events WHERE customer_id = %(c)s AND source = 'yutang' "
                                    "AND event LIKE 'Message%%' ORDER BY ts, message_id", {"c": customer_id})
    return [r[0] for r in rows]


# ---- configurations and templates ----------------------------------------------------------------------------


def test_channel_secrets_are_write_only_and_encrypted(api, client, database):
    made = channel(api, "sms", "SMS", {"url": "http://127.0.0.1:9/sms"}, {"api_key": "very-secret-key"})
    assert made["secrets_set"] == ["api_key"] and "very-secret-key" not in json.dumps(made)
    listed = api.get("/v1/messaging/channels").json()
    assert "very-secret-key" not in json.dumps(listed)
    with database.unit_of_work() as session:
        stored = session.get(ChannelConfig, made["id"])
        assert "very-secret-key" not in stored.secrets and service.channel_secrets(session, stored) == {
            "api_key": "very-secret-key"}
    missing = api.post("/v1/messaging/channels", json={"kind": "wecom", "name": "W", "settings": {"corp_id": "c"}})
    assert missing.status_code == 422 and missing.json()["field"] == "secrets.corp_secret"
    bad_hook = api.post("/v1/messaging/channels", json={"kind": "webhook", "name": "H", "settings": {"url": "http://x"},
                                                        "secrets": {"secret": "plain"}})
    assert bad_hook.json()["field"] == "secrets.secret"
    member = api.post("/v1/members", json={"name": "op", "role": "operator"}).json()
    op = {"Authorization": f"Bearer {member['api_key']['secret']}"}
    assert client.post("/v1/messaging/channels", headers=op, json={"kind": "null", "name": "X"}).status_code == 403
    patched = api.patch(f"/v1/messaging/channels/{made['id']}", json={"secrets": {"api_key": "rotated"}})
    assert patched.status_code == 200 and "rotated" not in patched.text


def test_templates_are_sandboxed_and_previewed(api):
    bad = api.post("/v1/messaging/templates", json={"name": "b", "channel_kind": "email", "body": "{{ phone }}"})
    assert bad.status_code == 422 and bad.json()["field"] == "body" and "phone" in bad.json()["detail"]
    broken = api.post("/v1/messaging/templates", json={"name": "b", "channel_kind": "email", "subject": "{% if %}"})
    assert broken.status_code == 422 and broken.json()["field"] == "subject"
    escape = api.post("/v1/messaging/templates/preview", json={"template": {
        "name": "x", "channel_kind": "email", "body": "{{ name.__class__.__mro__ }}"}})
    assert escape.status_code == 422 and escape.json()["field"] == "body"
    wechat = api.post("/v1/messaging/templates", json={"name": "w", "channel_kind": "wechat_oa", "body": ""})
    assert wechat.json()["field"] == "payload.template_id"
    made = api.post("/v1/messaging/templates", json={
        "name": "Points", "channel_kind": "email", "subject": "{{ name }}，您的积分",
        "body": "{{ name }} 您好：{{ tier or '会员' }} 积分 {{ points }}，券 {{ coupon_code }}"})
    assert made.status_code == 201, made.text
    cid = post_customer(api, "韩梅梅", email="mei@example.com")

    def loyalty(session, workspace_id, customer_ids):
        return {c: {"tier": "Gold", "points": 1280, "coupon_code": "C-1", "phone": "leak"} for c in customer_ids}

    templating.register_provider(loyalty)
    try:
        shown = api.post("/v1/messaging/templates/preview", json={"template_id": made.json()["id"],
                                                                  "customer_id": cid}).json()
    finally:
        templating._providers.remove(loyalty)
    assert shown["subject"] == "韩梅梅，您的积分"
    assert shown["body"] == "韩梅梅 您好：Gold 积分 1280，券 C-1" and "phone" not in shown["variables"]
    plain = api.post("/v1/messaging/templates/preview", json={"template_id": made.json()["id"],
                                                              "customer_id": cid}).json()
    assert plain["body"] == "韩梅梅 您好：会员 积分 ，券 "  # no provider: empty defaults
    sample = api.post("/v1/messaging/templates/preview", json={"template_id": made.json()["id"]}).json()
    assert "张三" in sample["body"]


# ---- email: the whole path ----------------------------------------------------------------------------------


def test_email_is_sent_after_commit_tracked_and_becomes_warehouse_events(api, client, smtp, dispatcher, pipeline):
    sink, port = smtp
    config = channel(api, "email", "Mail", {"host": "127.0.0.1", "port": port, "sender": "brand@shop.example"})
    cid = post_customer(api, "李雷", email="lilei@example.com")
    template = api.post("/v1/messaging/templates", json={
        "name": "Launch", "channel_kind": "email", "purpose": "service", "subject": "{{ name }}，新品",
        "body": "看看 https://shop.example/new?id=1 吧"}).json()
    queued = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid,
                                            "template_id": template["id"], "idempotency_key": "launch-1"})
    assert queued.status_code == 202 and queued.json()["status"] in ("queued", "sending", "sent")
    again = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid,
                                           "template_id": template["id"], "idempotency_key": "launch-1"})
    assert again.json()["id"] == queued.json()["id"]
    dispatcher.drain()
    message = api.get(f"/v1/messages/{queued.json()['id']}").json()
    assert message["status"] == "sent" and message["address"] == "lilei@example.com"
    mail = [sink.parsed(i) for i in range(len(sink.messages)) if sink.parsed(i)["X-Yutang-Message"] == str(
        message["id"])]
    assert len(mail) == 1 and mail[0]["Subject"] == "李雷，新品"
    text = mail[0].get_body(("plain",)).get_content()
    token = text.split("/t/")[1].split()[0]
    assert "shop.example" not in text
    redirect = client.get(f"/t/{token}", follow_redirects=False)
    assert redirect.status_code == 302 and redirect.headers["location"] == "https://shop.example/new?id=1"
    assert client.get("/t/nope", follow_redirects=False).status_code == 404
    assert api.get(f"/v1/messages/{message['id']}").json()["status"] == "clicked"
    log = api.get(f"/v1/messages/{message['id']}/attempts").json()
    assert [(a["attempt"], a["ok"]) for a in log] == [(1, True)]
    assert events_of(pipeline, cid) == ["Message Queued", "Message Sent", "Message Clicked"]
    # Receipts only move forward.
    assert api.post(f"/v1/messages/{message['id']}/delivery", json={"status": "delivered"}).json()["status"] == \
        "clicked"
    # HTML mail carries an open pixel: fetching it marks the message read (before the click it would have been).
    html = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid, "subject": "s",
                                          "body": "plain", "payload": {"html": "<html><body><a href="
                                                                       "'https://shop.example/x'>x</a></body></html>"}})
    dispatcher.drain()
    part = [sink.parsed(i) for i in range(len(sink.messages))
            if sink.parsed(i)["X-Yutang-Message"] == str(html.json()["id"])][0].get_body(("html",)).get_content()
    assert "https://shop.example/x" not in part and "/t/" in part
    pixel = part.split("/o/")[1].split(".gif")[0]
    fetched = client.get(f"/o/{pixel}.gif")
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/gif"
    assert api.get(f"/v1/messages/{html.json()['id']}").json()["status"] == "read"
    assert client.get(f"/t/{pixel}", follow_redirects=False).status_code == 404  # a pixel is no link
    # A bounce is a failure with SMTP's code.
    bounce = post_customer(api, "Bounce", email="who@bounce.example")
    failed = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": bounce, "body": "hi"}).json()
    dispatcher.drain()
    failed = api.get(f"/v1/messages/{failed['id']}").json()
    assert failed["status"] == "failed" and failed["error_code"] == "550"
    assert events_of(pipeline, bounce)[-1] == "Message Failed"


def test_marketing_respects_consent_and_refusal(api, smtp, dispatcher):
    _, port = smtp
    config = channel(api, "email", "Mail", {"host": "127.0.0.1", "port": port, "sender": "b@shop.example"})
    withdrawn = post_customer(api, "A", email="a@example.com")
    api.post(f"/v1/customers/{withdrawn}/consents", json={"channel": "email", "status": "withdrawn",
                                                          "method": "unsubscribe link"})
    refuses = post_customer(api, "B", email="b@example.com")
    api.post(f"/v1/customers/{refuses}/consents", json={"channel": "personalised_marketing",
                                                        "status": "withdrawn", "method": "form"})
    fine = post_customer(api, "C", email="c@example.com")
    sent = {}
    for cid in (withdrawn, refuses, fine):
        sent[cid] = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid, "body": "Sale!",
                                                   "purpose": "marketing"}).json()
    assert sent[withdrawn]["status"] == "suppressed" and sent[withdrawn]["error_code"] == "consent_withdrawn:email"
    assert sent[refuses]["status"] == "suppressed" and sent[refuses]["error_code"] == "refuses_personalised"
    service_msg = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": withdrawn,
                                                 "body": "Your order shipped", "purpose": "service"}).json()
    assert service_msg["status"] != "suppressed"
    dispatcher.drain()
    assert api.get(f"/v1/messages/{sent[fine]['id']}").json()["status"] == "sent"
    assert api.get(f"/v1/messages/{sent[withdrawn]['id']}/attempts").json() == []
    no_address = post_customer(api, "D", phone="13800138123")
    missing = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": no_address, "body": "x"})
    assert missing.status_code == 422 and missing.json()["field"] == "customer_id"


def test_bulk_enqueue_renders_suppresses_and_sends(api, tenant, database, dispatcher, pipeline):
    config = channel(api, "null", "Null")
    template = api.post("/v1/messaging/templates", json={"name": "Hi", "channel_kind": "null",
                                                         "body": "Hi {{ name }}"}).json()
    ids = [post_customer(api, f"P{n}", phone=f"1390000{n:04d}") for n in range(4)]
    api.post(f"/v1/customers/{ids[0]}/consents", json={"channel": "personalised_marketing", "status": "withdrawn",
                                                       "method": "form"})
    with database.unit_of_work() as session:
        queued = service.enqueue_bulk(session, actor=tenant.actor, config=session.get(ChannelConfig, config["id"]),
                                      template=service.get_template(session, actor=tenant.actor,
                                                                    template_id=template["id"]),
                                      customer_ids=ids)
    assert queued == 3
    dispatcher.drain()
    rows = api.get("/v1/messages", params={"channel_id": config["id"]}).json()["items"]
    by_customer = {r["customer_id"]: r for r in rows}
    assert by_customer[ids[0]]["status"] == "suppressed"
    assert {by_customer[c]["status"] for c in ids[1:]} == {"sent"} and by_customer[ids[2]]["body"] == "Hi P2"
    # One outbox row per state and batch, one warehouse event per message.
    assert events_of(pipeline, ids[0]) == ["Message Suppressed"]
    assert events_of(pipeline, ids[3]) == ["Message Queued", "Message Sent"]


def test_a_message_batch_applied_twice_lands_once(pipeline, tenant):
    change = replica.Change(id=10**12, workspace_id=tenant.id, topic="message.batch", entity_id=None,
                            payload={"state": "sent", "messages": [[1, 10**9 + 1, None], [2, 10**9 + 2, None]]},
                            created_at=utcnow())
    for _ in range(2):
        with pipeline.warehouse.transaction() as tx:
            replica.apply(tx, [change])
    rows = pipeline.warehouse.query("SELECT customer_id, event FROM events WHERE message_id LIKE 'yutang:outbox:"
                                    "1000000000000:%%' ORDER BY customer_id")
    assert rows == [(10**9 + 1, "Message Sent"), (10**9 + 2, "Message Sent")]
    assert replica.touched([change]) == {tenant.id: {10**9 + 1, 10**9 + 2}}


# ---- webhooks: retries with backoff, delivery log, replay -----------------------------------------------------


def test_webhook_retries_with_backoff_then_replays(api, dispatcher, database):
    receiver = Receiver(statuses=[500, 503])
    with serve(receiver.app()) as url:
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        config = channel(api, "webhook", "Hook", {"url": url + "/hook"}, {"secret": secret})
        made = api.post("/v1/messages", json={"channel_id": config["id"], "body": "x",
                                              "payload": {"event": {"type": "order.paid", "id": 1}}}).json()
        dispatcher.drain()
        first = api.get(f"/v1/messages/{made['id']}").json()
        assert first["status"] == "queued" and first["attempts"] == 1 and first["error_code"] == "http_500"
        with database.unit_of_work() as session:
            due = session.get(Message, made["id"]).next_attempt_at
        assert timedelta(seconds=25) < due - utcnow() <= timedelta(seconds=30)
        later = utcnow() + timedelta(seconds=31)
        dispatcher.drain(now=later)
        second = api.get(f"/v1/messages/{made['id']}").json()
        assert second["attempts"] == 2 and second["error_code"] == "http_503"
        with database.unit_of_work() as session:
            due = session.get(Message, made["id"]).next_attempt_at
        assert due - later == timedelta(seconds=60)  # doubled
        dispatcher.drain(now=utcnow() + timedelta(minutes=2))
        assert api.get(f"/v1/messages/{made['id']}").json()["status"] == "sent"
        log = api.get(f"/v1/messages/{made['id']}/attempts").json()
        assert [(a["ok"], a["error_code"]) for a in log] == [(False, "http_500"), (False, "http_503"), (True, None)]
        assert api.post(f"/v1/messages/{made['id']}/replay").json()["status"] == "queued"
        dispatcher.drain()
        assert len(receiver.received) == 4
        assert {h["webhook-id"] for h, _ in receiver.received} == {f"msg_yutang_{made['id']}"}
        headers, body = receiver.received[-1]
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body.decode()}".encode()
        assert headers["webhook-signature"] == "v1," + base64.b64encode(
            hmac.new(key, signed, hashlib.sha256).digest()).decode()
        receiver.statuses = [410]
        gone = api.post("/v1/messages", json={"channel_id": config["id"], "body": "y"}).json()
        dispatcher.drain()
        assert api.get(f"/v1/messages/{gone['id']}").json()["status"] == "failed"  # 410 is final
        conflict = api.post(f"/v1/messages/{gone['id']}/replay")
        assert conflict.status_code == 200
        dispatcher.drain()
        assert api.get(f"/v1/messages/{gone['id']}").json()["status"] == "sent"


# ---- SMS and WeChat ---------------------------------------------------------------------------------------------


def test_sms_send_and_signed_delivery_report(api, client, dispatcher, pipeline):
    fake = FakeSms()
    with serve(fake.app()) as url:
        config = channel(api, "sms", "SMS", {"url": url + "/sms/send", "sign_name": "鱼塘"},
                         {"api_key": fake.api_key})
        cid = post_customer(api, "Han", phone="13800138001")
        made = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid,
                                              "payload": {"template": "SMS_100", "params": {"name": "{{ name }}"}}})
        dispatcher.drain()
        message = api.get(f"/v1/messages/{made.json()['id']}").json()
        assert message["status"] == "sent" and fake.sent[-1]["to"] == "+8613800138001", message
        assert fake.sent[-1]["params"] == {"name": "Han"}
        report = json.dumps({"message_id": message["provider_id"], "status": "DELIVERED"}).encode()
        bad = client.post(f"/callbacks/sms/{config['id']}", content=report, headers={"x-signature": "00"})
        assert bad.status_code == 403
        signature = hmac.new(fake.api_key.encode(), report, hashlib.sha256).hexdigest()
        ok = client.post(f"/callbacks/sms/{config['id']}", content=report, headers={"x-signature": signature})
        assert ok.json() == {"matched": True}
        assert api.get(f"/v1/messages/{message['id']}").json()["status"] == "delivered"
        assert events_of(pipeline, cid)[-1] == "Message Delivered"
        fake.rate_limited = 1
        limited = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid,
                                                 "payload": {"template": "SMS_100"}}).json()
        dispatcher.drain()
        limited = api.get(f"/v1/messages/{limited['id']}").json()
        assert limited["status"] == "queued" and limited["error_code"] == "RATE_LIMITED"


def test_wechat_template_message_and_its_errors(api, client, dispatcher):
    fake = FakeWeChat(followers={"oF1"}, known={"oF1", "oGone"}, templates={"TPL"})
    with serve(fake.app()) as url:
        config = channel(api, "wechat_oa", "OA", {"appid": fake.appid, "base_url": url},
                         {"app_secret": fake.secret, "callback_token": "oatoken"})
        template = api.post("/v1/messaging/templates", json={
            "name": "Order", "channel_kind": "wechat_oa", "purpose": "service",
            "payload": {"template_id": "TPL", "data": {"thing1": "{{ name }}的订单"}, "url": "https://s.example/o"}})
        assert template.status_code == 201, template.text
        ok = api.post("/v1/customers", json={"name": "王", "identities": [
            {"kind": "wechat_openid", "namespace": fake.appid, "value": "oF1"}]}).json()["customer"]["id"]
        gone = api.post("/v1/customers", json={"name": "赵", "identities": [
            {"kind": "wechat_openid", "namespace": fake.appid, "value": "oGone"}]}).json()["customer"]["id"]
        sent = {cid: api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid,
                                                    "template_id": template.json()["id"]}).json()["id"]
                for cid in (ok, gone)}
        dispatcher.drain()
        delivered = api.get(f"/v1/messages/{sent[ok]}").json()
        assert delivered["status"] == "sent"
        assert fake.sent[-1]["data"] == {"thing1": {"value": "王的订单"}}
        failed = api.get(f"/v1/messages/{sent[gone]}").json()
        assert failed["status"] == "failed" and failed["error_code"] == "43004"
    # WeChat reports the template job's end on the Official Account's callback (plain mode, SHA-1 signature).
    url = f"/callbacks/wechat/{config['id']}"
    timestamp, nonce = "1764000000", "n0nce"
    signature = hashlib.sha1("".join(sorted(["oatoken", timestamp, nonce])).encode()).hexdigest()
    params = {"signature": signature, "timestamp": timestamp, "nonce": nonce}
    assert client.get(url, params=params | {"echostr": "abc"}).text == "abc"
    assert client.get(url, params=params | {"signature": "0" * 40, "echostr": "abc"}).status_code == 403
    event = (f"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oF1]]></FromUserName>"
             f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
             f"<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>{delivered['provider_id']}</MsgID>"
             f"<Status><![CDATA[success]]></Status></xml>")
    assert client.post(url, params=params, content=event).text == "success"
    assert api.get(f"/v1/messages/{sent[ok]}").json()["status"] == "delivered"


# ---- WeCom ---------------------------------------------------------------------------------------------------


@pytest.fixture
def wecom(api):
    fake = FakeWeCom()
    with serve(fake.app()) as url:
        aes = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        api.post("/v1/channels", json={"code": "wecom-qr-store1", "name": "Store 1 QR", "kind": "wecom_staff"})
        api.post("/v1/channels", json={"code": "wecom", "name": "WeCom", "kind": "wecom_staff"})
        welcome = api.post("/v1/messaging/templates", json={"name": "Welcome", "channel_kind": "wecom",
                                                            "purpose": "service", "body": "欢迎光临"}).json()
        config = channel(api, "wecom", "WeCom", {"corp_id": fake.corp_id, "base_url": url, "sender": "zhangsan",
                                                 "state_channels": {"store1": "wecom-qr-store1"},
                                                 "welcome_template_id": welcome["id"]},
                         {"corp_secret": fake.secret, "callback_token": "cbtoken", "encoding_aes_key": aes},
                         acquisition_channel="wecom")
        yield fake, config, CallbackSigner("cbtoken", aes, fake.corp_id)


def test_wecom_contacts_sync_into_customers_with_tags_and_first_touch(api, wecom):
    fake, config, _ = wecom
    fake.groups.append({"group_id": "etG1", "group_name": "兴趣", "create_time": 0, "order": 0,
                        "tag": [{"id": "etT1", "name": "茶", "create_time": 0, "order": 0}]})
    existing = api.post("/v1/customers", json={"name": "Old", "identities": [
        {"kind": "wechat_unionid", "value": "oUnion2"}]}).json()["customer"]["id"]
    for n in range(5):
        fake.add_contact("zhangsan", f"wmS{n}", f"客户{n}", unionid=f"oUnion{n}",
                         state="store1" if n == 1 else "", tag_ids=("etT1",) if n == 0 else ())
    tags = api.post(f"/v1/messaging/channels/{config['id']}/wecom/tags-sync")
    assert tags.status_code == 200 and tags.json()["pulled"] == 1
    result = api.post(f"/v1/messaging/channels/{config['id']}/wecom/contacts-sync",
                      json={"staff_userids": ["zhangsan"]})
    assert result.status_code == 200, result.text
    assert result.json() == {"contacts": 5, "created": 4, "updated": 1, "tags_applied": 1}
    again = api.post(f"/v1/messaging/channels/{config['id']}/wecom/contacts-sync",
                     json={"staff_userids": ["zhangsan"]}).json()
    assert again["created"] == 0
    found = api.get("/v1/customers", params={"identity": "wecom_external_userid:wmS2"}).json()["items"]
    assert [c["id"] for c in found] == [existing]  # OneID: the unionid linked the contact to the known customer
    one = api.get("/v1/customers", params={"identity": "wecom_external_userid:wmS1"}).json()["items"][0]
    channels = {c["code"]: c["id"] for c in api.get("/v1/channels").json()}
    assert one["first_channel_id"] == channels["wecom-qr-store1"]
    zero = api.get("/v1/customers", params={"identity": "wecom_external_userid:wmS0"}).json()["items"][0]
    assert [t["name"] for t in api.get(f"/v1/customers/{zero['id']}/archive").json()["tags"]] == ["茶"]
    # Pushing a Yutang tag: created in WeCom, then marked on the contacts of customers who carry it.
    group = api.post("/v1/tag-groups", json={"name": "会员", "tags": ["VIP"]}).json()
    vip = group["tags"][0]["id"]
    api.post(f"/v1/customers/{one['id']}/tags", json={"add": [{"id": vip}]})
    pushed = api.post(f"/v1/messaging/channels/{config['id']}/wecom/tags-sync", params={"push_tag_id": vip}).json()
    assert pushed == {"pulled": 0, "pushed": 1, "marked": 1}
    vip_external = next(t["id"] for g in fake.groups if g["group_name"] == "会员" for t in g["tag"])
    assert fake.marks[("zhangsan", "wmS1")] == {vip_external}
    fake.fail_next["/batch/get_by_user"] = [45009]
    limited = api.post(f"/v1/messaging/channels/{config['id']}/wecom/contacts-sync",
                       json={"staff_userids": ["zhangsan"]})
    assert limited.status_code == 502 and "45009" in limited.json()["detail"]


def test_wecom_group_send_and_results(api, wecom, dispatcher, pipeline):
    fake, config, _ = wecom
    fake.add_contact("zhangsan", "wmG1", "G1")
    cid = api.post("/v1/customers", json={"name": "G1", "identities": [
        {"kind": "wecom_external_userid", "value": "wmG1"}]}).json()["customer"]["id"]
    made = api.post("/v1/messages", json={
        "channel_id": config["id"], "customer_id": cid, "body": "{{ name }}，新品到店",
        "payload": {"attachments": [{"msgtype": "link", "link": {"title": "新品", "url": "https://s.example/n"}}]}})
    dispatcher.drain()
    message = api.get(f"/v1/messages/{made.json()['id']}").json()
    assert message["status"] == "sent" and message["provider_id"] in fake.templates
    sent = fake.templates[message["provider_id"]]["body"]
    assert sent["external_userid"] == ["wmG1"] and sent["text"]["content"] == "G1，新品到店"
    assert api.post(f"/v1/messaging/channels/{config['id']}/wecom/results-sync").json() == {"changed": 0}
    fake.confirm(message["provider_id"])
    assert api.post(f"/v1/messaging/channels/{config['id']}/wecom/results-sync").json() == {"changed": 1}
    assert api.get(f"/v1/messages/{message['id']}").json()["status"] == "delivered"
    assert events_of(pipeline, cid) == ["Message Queued", "Message Sent", "Message Delivered"]
    fake.group_sends_per_customer["wmG1"] = fake.monthly_cap
    capped = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid, "body": "again"}).json()
    dispatcher.drain()
    capped = api.get(f"/v1/messages/{capped['id']}").json()
    assert capped["status"] == "failed" and capped["error_code"] == "41048"


def test_wecom_callback_verifies_adds_welcomes_and_deletes(api, client, wecom, dispatcher):
    fake, config, signer = wecom
    url = f"/callbacks/wecom/{config['id']}"
    echo = client.get(url, params=signer.url_check("1234567890"))
    assert echo.status_code == 200 and echo.text == "1234567890"
    forged = signer.url_check("x") | {"msg_signature": "0" * 40}
    assert client.get(url, params=forged).status_code == 403
    fake.welcome_codes["WELCOME-1"] = None
    params, body = signer.post(contact_event(fake.corp_id, "add_external_contact", staff="zhangsan",
                                             external_userid="wmNew1", state="store1", welcome_code="WELCOME-1"))
    added = client.post(url, params=params, content=body)
    assert added.status_code == 200 and added.text == "success"
    again = client.post(url, params=params, content=body)  # WeCom retries: nothing twice
    assert again.status_code == 200
    found = api.get("/v1/customers", params={"identity": "wecom_external_userid:wmNew1"}).json()["items"]
    assert len(found) == 1
    channels = {c["code"]: c["id"] for c in api.get("/v1/channels").json()}
    assert found[0]["first_channel_id"] == channels["wecom-qr-store1"]
    dispatcher.drain()
    assert fake.welcome_codes["WELCOME-1"] == "欢迎光临"
    welcome = api.get("/v1/messages", params={"customer_id": found[0]["id"]}).json()["items"]
    assert len(welcome) == 1 and welcome[0]["status"] == "sent"
    tampered = body.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[A")
    assert client.post(url, params=params, content=tampered).status_code == 403
    params, body = signer.post(text_message(fake.corp_id, external_userid="wmNew1", content="有货吗？", msg_id="m1"))
    assert client.post(url, params=params, content=body).status_code == 200
    threads = api.get("/v1/inbox/threads", params={"customer_id": found[0]["id"]}).json()["items"]
    assert len(threads) == 1 and threads[0]["subject"] == "有货吗？"
    params, body = signer.post(contact_event(fake.corp_id, "del_external_contact", staff="zhangsan",
                                             external_userid="wmNew1"))
    assert client.post(url, params=params, content=body).status_code == 200
    archive = api.get(f"/v1/customers/{found[0]['id']}/archive").json()
    store = next(m for m in archive["channels"] if m["channel_id"] == channels["wecom-qr-store1"])
    assert store["left_at"] is not None


# ---- inbox --------------------------------------------------------------------------------------------------------


def test_inbox_routes_round_robin_with_reception_limit_and_times_replies(api, client, dispatcher, database):
    config = channel(api, "null", "Chat")
    a = api.post("/v1/members", json={"name": "A", "role": "guide"}).json()["member"]["id"]
    b = api.post("/v1/members", json={"name": "B", "role": "operator"}).json()
    b_id, b_headers = b["member"]["id"], {"Authorization": f"Bearer {b['api_key']['secret']}"}
    queue = api.post("/v1/inbox/queues", json={"name": "Service", "reception_limit": 1, "member_ids": [a, b_id]})
    assert queue.status_code == 201 and queue.json()["member_ids"] == sorted([a, b_id])

    def write(phone, body, external=None):
        response = api.post("/v1/inbox/messages", json={"channel_id": config["id"], "identity_kind": "phone",
                                                        "identity_value": phone, "body": body,
                                                        "external_id": external})
        assert response.status_code == 201, response.text
        return response.json()

    first, second, third = write("13700000001", "在吗", "x1"), write("13700000002", "退货"), write("13700000003", "?")
    assert [first["assigned_member_id"], second["assigned_member_id"]] == sorted([a, b_id])
    assert third["assigned_member_id"] is None and third["queue_id"] == queue.json()["id"]  # both at their limit
    assert write("13700000001", "在吗", "x1")["id"] == first["id"]  # the channel retried: same thread
    follow = write("13700000001", "还在吗")
    assert follow["id"] == first["id"]
    owned = post_customer(api, "Owned", phone="13700000009")
    api.patch(f"/v1/customers/{owned}", json={"assigned_member_id": b_id})
    assert write("13700000009", "hello")["assigned_member_id"] == b_id  # the customer's own member first
    quick = api.post("/v1/messaging/templates", json={"name": "Hi", "channel_kind": "null", "purpose": "quick_reply",
                                                      "body": "{{ name }}您好，马上为您处理"}).json()
    second_owner = second["assigned_member_id"]
    replied = client.post(f"/v1/inbox/threads/{second['id']}/replies", headers=b_headers if second_owner == b_id
                          else api.headers, json={"template_id": quick["id"]})
    assert replied.status_code == 202, replied.text
    assert replied.json()["purpose"] == "reply" and replied.json()["thread_id"] == second["id"]
    dispatcher.drain()
    detail = api.get(f"/v1/inbox/threads/{second['id']}").json()
    assert [m["direction"] for m in detail["messages"]] == ["in", "out"]
    assert detail["messages"][1]["status"] == "sent" and detail["first_response_seconds"] is not None
    resolved = api.post(f"/v1/inbox/threads/{second['id']}/resolve").json()
    assert resolved["status"] == "resolved" and resolved["resolution_seconds"] >= 0
    # The freed member takes the thread that waited.
    assert api.get(f"/v1/inbox/threads/{third['id']}").json()["assigned_member_id"] == second_owner
    mine = api.get("/v1/inbox/threads", params={"member_id": second_owner}).json()["items"]
    assert third["id"] in [t["id"] for t in mine] and second["id"] not in [t["id"] for t in mine]
    # The conversation is on the customer's timeline: what they wrote and what was answered.
    timeline = api.get(f"/v1/customers/{second['customer_id']}/timeline", params={"kind": "event"}).json()["items"]
    names = [(e["name"], e["detail"].get("properties", e["detail"]).get("thread_id")) for e in timeline]
    assert ("Message Received", second["id"]) in names and ("Message Sent", second["id"]) in names
    bad = api.post("/v1/inbox/messages", json={"channel_id": config["id"], "identity_kind": "fax",
                                               "identity_value": "1", "body": "x"})
    assert bad.status_code == 422


def test_merge_moves_messages_and_erase_blanks_them(api, dispatcher, database):
    config = channel(api, "null", "N")
    keep = post_customer(api, "Keep", phone="13500000001")
    lose = post_customer(api, "Lose", email="lose@example.com")
    made = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": lose, "body": "hi Lose"})
    merged = api.post(f"/v1/customers/{keep}/merge", json={"loser_id": lose, "reason": "same"})
    assert merged.json()["moved"]["messages"] == 1
    assert api.get(f"/v1/messages/{made.json()['id']}").json()["customer_id"] == keep
    api.post(f"/v1/customers/{keep}/erase")
    with database.unit_of_work() as session:
        rows = session.scalars(select(Message).where(Message.customer_id == keep)).all()
        assert rows and all(r.body == "" and r.address == "" for r in rows)


def test_analysts_see_addresses_masked(api, client, smtp):
    _, port = smtp
    config = channel(api, "email", "Mail", {"host": "127.0.0.1", "port": port, "sender": "b@shop.example"})
    cid = post_customer(api, "Masked", email="masked.person@example.com")
    made = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid, "body": "x"}).json()
    assert api.get(f"/v1/messages/{made['id']}").json()["address"] == "masked.person@example.com"
    analyst = api.post("/v1/members", json={"name": "ana", "role": "analyst"}).json()["api_key"]["secret"]
    headers = {"Authorization": f"Bearer {analyst}"}
    one = client.get(f"/v1/messages/{made['id']}", headers=headers).json()
    listed = client.get("/v1/messages", headers=headers, params={"customer_id": cid}).json()["items"]
    for shown in (one, listed[0]):
        assert shown["address"] != "masked.person@example.com" and shown["address"].endswith("@example.com")
