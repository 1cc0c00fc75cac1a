"""The messaging pages of the console, server-rendered: inbox and reply, templates with preview, adapters, log."""

from tests.helpers.console import HTMX, signed_in


def test_inbox_lists_threads_and_replies_with_htmx(app, api, tenant):
    config = api.post("/v1/messaging/channels", json={"kind": "null", "name": "Chat"}).json()
    thread = api.post("/v1/inbox/messages", json={"channel_id": config["id"], "identity_kind": "phone",
                                                  "identity_value": "13811112222", "body": "请问几点开门？"}).json()
    api.post("/v1/messaging/templates", json={"name": "营业时间", "channel_kind": "null", "purpose": "quick_reply",
                                              "body": "您好，我们 10 点开门"})
    client = signed_in(app, tenant.key)
    listing = client.get("/console/inbox")
    assert listing.status_code == 200 and "请问几点开门？" in listing.text and "收件箱" in listing.text
    page = client.get(f"/console/inbox/{thread['id']}")
    assert "营业时间" in page.text and "发送回复" in page.text
    empty = client.post(f"/console/inbox/{thread['id']}/replies", data={"body": ""}, headers=HTMX)
    assert empty.status_code == 422
    sent = client.post(f"/console/inbox/{thread['id']}/replies", data={"body": "10 点，欢迎光临"}, headers=HTMX)
    assert sent.status_code == 200 and 'id="conversation"' in sent.text and "10 点，欢迎光临" in sent.text
    detail = api.get(f"/v1/inbox/threads/{thread['id']}").json()
    assert [m["direction"] for m in detail["messages"]] == ["in", "out"] and detail["first_response_at"]
    resolved = client.post(f"/console/inbox/{thread['id']}/resolve", follow_redirects=False)
    assert resolved.status_code == 303
    assert api.get(f"/v1/inbox/threads/{thread['id']}").json()["status"] == "resolved"
    english = client.get("/console/inbox?view=resolved", cookies={"yutang_lang": "en"})
    assert "Inbox" in english.text and "请问几点开门？" in english.text


def test_templates_page_previews_and_saves(app, api, tenant):
    cid = api.post("/v1/customers", json={"name": "周杰", "identities": [
        {"kind": "email", "value": "zhou@example.com"}]}).json()["customer"]["id"]
    client = signed_in(app, tenant.key)
    assert "消息模板" in client.get("/console/templates").text
    preview = client.post("/console/templates/preview", headers=HTMX, data={
        "channel_kind": "email", "subject": "Hi", "body": "{{ name }}，您的积分 {{ points }}", "customer": str(cid)})
    assert preview.status_code == 200 and "周杰，您的积分" in preview.text
    by_email = client.post("/console/templates/preview", headers=HTMX, data={
        "channel_kind": "email", "body": "{{ name }}", "customer": "zhou@example.com"})
    assert "周杰" in by_email.text
    bad = client.post("/console/templates/preview", headers=HTMX, data={"channel_kind": "email",
                                                                       "body": "{{ secret }}"})
    assert "secret" in bad.text and 'role="alert"' in bad.text
    saved = client.post("/console/templates", headers=HTMX, data={
        "name": "积分提醒", "channel_kind": "email", "purpose": "marketing", "subject": "积分", "body": "{{ name }}"})
    assert saved.status_code == 200 and "积分提醒" in saved.text
    refused = client.post("/console/templates", headers=HTMX, data={
        "name": "坏", "channel_kind": "email", "purpose": "marketing", "body": "{{ phone }}"})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text


def test_messages_page_shows_log_and_never_secrets(app, api, tenant):
    client = signed_in(app, tenant.key)
    api.post("/v1/messaging/channels", json={"kind": "sms", "name": "短信", "settings": {
        "url": "http://127.0.0.1:9/sms"}, "secrets": {"api_key": "top-secret-value"}})
    config = api.post("/v1/messaging/channels", json={"kind": "null", "name": "N"}).json()
    cid = api.post("/v1/customers", json={"name": "日志", "identities": [
        {"kind": "phone", "value": "13822223333"}]}).json()["customer"]["id"]
    api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid, "body": "hello"})
    page = client.get("/console/messages")
    assert page.status_code == 200 and "top-secret-value" not in page.text
    assert '<span class="chip">API 密钥</span>' in page.text  # the secret's name only, in words
    assert "日志" in page.text and 'id="delivery-log"' in page.text
