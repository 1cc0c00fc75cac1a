"""The web console, server-rendered: sign-in, the customer list and its HTMX partial, the archive, channels,
languages and what each role may see."""

import logging
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from tests.helpers.console import HTMX, Brand, seed_brand, signed_in
from yutang.app import create_app
from yutang.archive import service as archive_service
from yutang.customers.schemas import CustomerIn
from yutang.web import i18n
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.schemas import WorkspaceIn

WEB = Path(i18n.__file__).parent


@pytest.fixture
def brand(database, tenant) -> Brand:
    return seed_brand(database, tenant)


def test_signed_out_pages_send_you_to_sign_in(app):
    client = TestClient(app)
    response = client.get("/console/customers?q=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2Fcustomers%3Fq%3Dx"
    partial = client.get("/console/customers", headers=HTMX | {"HX-Current-URL": "http://testserver/console/tags"})
    assert partial.headers["HX-Redirect"] == "/console/login?next=%2Fconsole%2Ftags"
    forged = TestClient(app, cookies={"yutang_console": "yt_forged.signature"})
    assert forged.get("/console/channels", follow_redirects=False).status_code == 303
    posted = client.post("/console/customers/1/notes", data={"body": "x"},
                         headers={"referer": "http://testserver/console/customers/1"}, follow_redirects=False)
    assert posted.headers["location"] == "/console/login?next=%2Fconsole%2Fcustomers%2F1"


def test_sign_in_with_a_key_and_out_again(app, tenant):
    client = TestClient(app)
    bad = client.post("/console/login", data={"key": "yt_not-a-key"})
    assert bad.status_code == 400
    assert "密钥无效" in bad.text and 'aria-invalid="true"' in bad.text
    keyed = client.get("/console/login", params={"key": tenant.key})  # a key in a URL no longer signs in
    assert keyed.status_code == 200 and "set-cookie" not in keyed.headers
    good = client.post("/console/login", data={"key": tenant.key, "next": "/console/tags"},
                       follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == "/console/tags"
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert tenant.key not in cookie and "yutang_console=ycs_" in cookie  # a session token, not the key
    offsite = client.post("/console/login", data={"key": tenant.key, "next": "//evil.example/"},
                          follow_redirects=False)
    assert offsite.headers["location"] == "/console/analytics"
    assert client.get("/console/tags").status_code == 200
    out = client.post("/console/logout", follow_redirects=False)
    assert out.headers["location"] == "/console/login"
    assert client.get("/console/tags", follow_redirects=False).status_code == 303


def test_a_revoked_key_ends_the_session(app, database, tenant):
    client = signed_in(app, tenant.key)
    with database.unit_of_work() as session:
        workspaces_service.revoke_key(session, actor=tenant.actor, key_id=tenant.actor.api_key_id)
    after = client.get("/console/customers", follow_redirects=False)
    assert after.headers["location"].startswith("/console/login")


def test_customer_list_search_and_filters(app, brand):
    client = signed_in(app, brand.tenant.key)
    page = client.get("/console/customers")
    assert page.status_code == 200
    assert all(name in page.text for name in ("张三", "李四", "王五"))
    assert 'hx-get="/console/customers"' in page.text
    assert "/static/vendor/htmx.org/dist/htmx.min.js" in page.text
    row = re.search(rf'<td><a href="/console/customers/{brand.zhang}">张三</a>.*?</tr>', page.text, re.S)
    assert "+8613800138000" in row[0] and "小程序商城" in row[0] and "绿茶" in row[0]
    assert "2026-" in row[0]  # created time, in the workspace's zone

    partial = client.get("/console/customers", params={"q": "139 0013 9000"}, headers=HTMX)
    assert partial.status_code == 200 and "HX-Request" in partial.headers["vary"]
    assert "<html" not in partial.text and "李四" in partial.text and "张三" not in partial.text
    restore = client.get("/console/customers", headers=HTMX | {"HX-History-Restore-Request": "true"})
    assert "<html" in restore.text

    def names(**params):
        text = client.get("/console/customers", params=params, headers=HTMX).text
        return sorted(n for n in ("张三", "李四", "王五") if n in text)

    assert names(tag=str(brand.tea)) == ["张三"]
    assert names(channel=str(brand.tmall)) == ["李四"]
    assert names(q="wang@example.com") == ["王五"]
    assert names(status="merged") == []
    assert names(tag="", channel="", status="bogus") == ["张三", "李四", "王五"]


def test_customer_list_pages_by_number_with_the_total(app, database, tenant):
    with database.unit_of_work() as session:
        for n in range(53):
            archive_service.upsert_customer(session, actor=tenant.actor, data=CustomerIn(
                name=f"顾客{n:02d}", identities=[{"kind": "app_user_id", "value": f"u{n}"}]))
    client = signed_in(app, tenant.key)
    first = client.get("/console/customers")
    assert "顾客52" in first.text and "顾客02" not in first.text and "共 53 位客户" in first.text
    second_url = re.search(r'href="(/console/customers\?page=2)"', first.text)[1]
    second = client.get(second_url, headers=HTMX)
    assert "顾客02" in second.text and "顾客00" in second.text and "顾客52" not in second.text
    assert 'aria-current="page" class="current">2<' in second.text
    beyond = client.get("/console/customers?page=99")
    assert beyond.status_code == 200 and "顾客00" in beyond.text  # past the end: the last page


def test_archive_shows_orders_in_yuan_tags_consents_and_takes_notes(app, brand):
    client = signed_in(app, brand.tenant.key)
    page = client.get(f"/console/customers/{brand.zhang}")
    assert page.status_code == 200
    text = page.text
    assert "客户档案" in text and "MP-1001" in text and "明前龙井" in text
    assert "2 × ¥6.15" in text and text.count("¥12.30") >= 3  # line, order total, paid total
    assert "兴趣 / 绿茶" in text and "小程序勾选" in text and "短信" in text and "已同意" in text
    assert "2026-11-01 10:00" in text  # placed 10:00 Shanghai time, stored in UTC

    notes_url = f"/console/customers/{brand.zhang}/notes"
    added = client.post(notes_url, data={"body": "偏好明前茶，周末到店"}, headers=HTMX)
    assert added.status_code == 200 and added.text.startswith('<article id="notes">')
    assert "偏好明前茶，周末到店" in added.text and "Owner" in added.text
    empty = client.post(notes_url, data={"body": "  "}, headers=HTMX)
    assert empty.status_code == 422 and "此项为必填" in empty.text
    plain = client.post(notes_url, data={"body": "second"}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].endswith("#notes")
    notes = client.get(f"/console/customers/{brand.zhang}").text.split('id="notes"')[1]
    assert notes.index("second") < notes.index("偏好明前茶")  # newest first

    missing = client.get("/console/customers/999999")
    assert missing.status_code == 404 and "未找到" in missing.text and "<nav" in missing.text


def test_language_follows_the_switch_then_the_workspace(app, database, brand):
    client = signed_in(app, brand.tenant.key)
    url = f"/console/customers/{brand.zhang}"
    assert '<html lang="zh-CN">' in client.get(url).text
    switched = client.get("/console/language", params={"to": "en"}, headers={"referer": f"http://testserver{url}"},
                          follow_redirects=False)
    assert switched.headers["location"] == url
    english = client.get(url).text
    assert '<html lang="en">' in english
    assert "Customer archive" in english and "Consent records" in english and "Merge history" in english
    assert "Paid" in english and "SMS" in english and "客户档案" not in english
    client.get("/console/language", params={"to": "zh_CN"})
    assert "同意记录" in client.get(url).text

    with database.unit_of_work() as session:
        _, issued = workspaces_service.create_workspace(session, data=WorkspaceIn(
            slug="en-brand-" + brand.tenant.slug, name="English brand", locale="en"))
    english_brand = signed_in(app, issued.secret)
    assert "Customers" in english_brand.get("/console/customers").text
    assert "Not found" in english_brand.get("/console/customers/999999").text
    signed_out = TestClient(app, cookies={"yutang_lang": "en"})
    assert "Sign in to the console" in signed_out.get("/console/login").text


def test_analyst_sees_masked_personal_data_and_no_forms(app, brand):
    client = signed_in(app, brand.analyst_key)
    listing = client.get("/console/customers").text
    assert "138****8000" in listing and "+8613800138000" not in listing and "张*" in listing
    archive = client.get(f"/console/customers/{brand.zhang}").text
    assert "138****8000" in archive and "¥12.30" in archive
    assert 'name="body"' not in archive
    channels = client.get("/console/channels").text
    assert "天猫旗舰店" in channels and 'name="code"' not in channels
    refused = client.post("/console/channels", data={"name": "x", "code": "x", "kind": "store"}, headers=HTMX)
    assert refused.status_code == 422 and "analyst role may not bulk" in refused.text
    note = client.post(f"/console/customers/{brand.zhang}/notes", data={"body": "hi"}, headers=HTMX)
    assert note.status_code == 422 and "may not write" in note.text


def test_guide_sees_only_own_customers(app, brand):
    client = signed_in(app, brand.guide_key)
    listing = client.get("/console/customers").text
    assert "139****9000" in listing and "李*" in listing  # guides see personal data masked, like analysts
    assert "138****8000" not in listing and "w***@example.com" not in listing
    assert client.get(f"/console/customers/{brand.zhang}").status_code == 404
    assert client.get(f"/console/customers/{brand.li}").status_code == 200


def test_channels_page_lists_costs_and_adds_a_channel_inline(app, brand):
    client = signed_in(app, brand.tenant.key)
    page = client.get("/console/channels").text
    assert "天猫旗舰店" in page and "¥12,345.00" in page and "公域" in page and "主流量池" in page
    added = client.post("/console/channels", data={"name": "杭州西湖店", "code": "store-hz", "kind": "store",
                                                   "role": "primary", "domain": ""}, headers=HTMX)
    assert added.status_code == 200 and added.text.startswith('<div id="channels-panel">')
    assert '<tr class="created">' in added.text and "杭州西湖店" in added.text and "私域" in added.text
    duplicate = client.post("/console/channels", data={"name": "again", "code": "store-hz", "kind": "store"},
                            headers=HTMX)
    assert duplicate.status_code == 422
    assert re.search(r'value="store-hz".*?<small class="error">a channel with code', duplicate.text, re.S)
    invalid = client.post("/console/channels", data={"name": "", "code": "Bad Code!", "kind": "store"},
                          headers=HTMX)
    assert invalid.status_code == 422
    assert "此项为必填" in invalid.text and "格式不正确" in invalid.text
    plain = client.post("/console/channels", data={"name": "JD", "code": "jd", "kind": "jd_shop"},
                        follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == "/console/channels"


def test_tags_page_counts_customers(app, brand):
    client = signed_in(app, brand.tenant.key)
    page = client.get("/console/tags").text
    assert re.search(rf'\?tag={brand.tea}">绿茶</a> <span class="count">1</span>', page)
    assert "咖啡" in page
    assert "咖啡" not in client.get("/console/tags", params={"q": "绿"}).text


def test_console_renders_without_front_end_packages(settings, database, tenant, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="yutang.web"):
        bare_settings = settings.model_copy(update={"assets_dir": tmp_path / "no-node-modules"})
        bare = create_app(bare_settings, database=database)
    assert any("npm ci" in record.getMessage() for record in caplog.records)
    page = signed_in(bare, tenant.key).get("/console/customers")
    assert page.status_code == 200 and "npm ci" in page.text and 'role="alert"' in page.text
    assert TestClient(bare).get("/static/vendor/htmx.org/dist/htmx.min.js").status_code == 404


def test_static_files_and_root(app):
    client = TestClient(app)
    assert client.get("/static/app/console.css").status_code == 200
    assert client.get("/", follow_redirects=False).headers["location"] == "/console/analytics"
    assert not any(path.startswith("/console") for path in app.openapi()["paths"])


def test_catalogues_translate_every_message():
    with open(WEB / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    extracted = extract_from_dir(str(WEB), method_map, options_map)
    wanted = {(context, msgid) for _, _, msgid, _, context in extracted}
    assert len(wanted) > 100
    for locale in i18n.LOCALES:
        with open(WEB / "locale" / locale / "LC_MESSAGES" / "messages.po", "rb") as source:
            catalog = read_po(source, locale=locale)
        have = {(m.context, m.id) for m in catalog if m.id}
        missing = sorted(wanted - have, key=str)
        assert not missing, f"{locale} lacks {missing[:5]}: run pybabel extract and update (see babel.cfg)"
        if locale == "zh_CN":
            untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
            assert not untranslated, f"zh_CN needs translations for {untranslated[:5]}"
    zh = i18n.load_translations()["zh_CN"]
    assert zh.gettext("Customer archive") == "客户档案" and zh.pgettext("person", "Name") == "姓名"


def test_archive_timeline_filters_by_kind_and_loads_more_with_htmx(app, brand, monkeypatch):
    api = TestClient(app, headers=brand.tenant.headers)
    write_key = api.post("/v1/sources", json={"name": "小程序"}).json()["write_key"]
    batch = [{"type": "identify", "userId": "zhang-app", "timestamp": "2026-10-19T02:00:00Z",
              "traits": {"phone": "13800138000"}}]
    batch += [{"type": "track", "userId": "zhang-app", "event": "Article Read", "timestamp": f"2026-10-2{n}T02:00:00Z",
               "properties": {"title": f"第{n}篇茶经"}} for n in range(5)]
    sent = api.post("/v1/batch", json={"batch": batch}, auth=(write_key, ""))
    assert sent.status_code == 200, sent.text
    url = f"/console/customers/{brand.zhang}"
    client = signed_in(app, brand.tenant.key)

    text = client.get(url).text  # the server catches the warehouse up: the events are there at once
    section = text.split('<article id="timeline">')[1].split("</article>")[0]
    assert "时间线" in text and all(label in section for label in ("全部", "行为事件", "订单", "变更记录"))
    assert "Article Read" in section and "第4篇茶经" in section and "来源：小程序" in section
    assert "2026-10-24 10:00" in section  # 02:00 UTC shown in Asia/Shanghai
    assert "MP-1001" in section and "¥12.30" in section and "LJ-250" in section and "小程序商城" in section
    assert "订单支付" in section and "打标签" in section and "绿茶" in section and "创建客户" in section
    assert "操作人：Owner" in section and "已同意" in section

    orders = client.get(f"{url}/timeline", params={"kind": "order"}, headers=HTMX)
    assert orders.status_code == 200 and orders.text.startswith('<article id="timeline">')
    assert "MP-1001" in orders.text and "Article Read" not in orders.text and "创建客户" not in orders.text
    pressed = re.findall(r'aria-pressed="true">([^<]+)</a>', orders.text)
    assert pressed == ["订单"]
    both = client.get(f"{url}/timeline", params={"kind": ["order", "bogus"]}, headers=HTMX)
    assert "MP-1001" in both.text and "Article Read" not in both.text
    plain = client.get(f"{url}/timeline", params={"kind": "event"}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == f"{url}?kind=event#timeline"
    assert "创建客户" not in client.get(plain.headers["location"]).text.split('<article id="timeline">')[1]

    def entries(html: str) -> list[str]:
        return re.findall(r'<li class="entry kind-(\w+)">\s*<time datetime="([^"]+)"', html)

    monkeypatch.setattr("yutang.web.routes.customers.TIMELINE_PAGE", 500)
    everything = entries(client.get(url).text)
    assert len(everything) > 10
    monkeypatch.setattr("yutang.web.routes.customers.TIMELINE_PAGE", 3)
    first = client.get(url).text
    walked = entries(first)
    more = re.search(r'hx-get="([^"]*cursor=[^"]*)"', first)
    while more:
        rows = client.get(more[1].replace("&amp;", "&"), headers=HTMX)
        assert rows.status_code == 200 and "<article" not in rows.text and rows.text.lstrip().startswith("<li")
        walked += entries(rows.text)
        more = re.search(r'hx-get="([^"]*cursor=[^"]*)"', rows.text)
    assert walked == everything
    assert "加载更多" in first and client.get(f"{url}/timeline?cursor=garbage", headers=HTMX).status_code == 422


def test_timeline_in_the_console_follows_roles(app, brand):
    api = TestClient(app, headers=brand.tenant.headers)
    write_key = api.post("/v1/sources", json={"name": "app"}).json()["write_key"]
    identify = {"userId": "zhang-app", "traits": {"phone": "13800138000", "name": "张三"}}
    assert api.post("/v1/identify", json=identify, auth=(write_key, "")).status_code == 200
    analyst = signed_in(app, brand.analyst_key).get(f"/console/customers/{brand.zhang}").text
    section = analyst.split('<article id="timeline">')[1]
    assert "身份识别" in section and "138****8000" in section and "13800138000" not in analyst
    guide = signed_in(app, brand.guide_key)
    assert guide.get(f"/console/customers/{brand.zhang}/timeline", headers=HTMX).status_code == 404
    assert "时间线" in guide.get(f"/console/customers/{brand.li}").text
    english = signed_in(app, brand.tenant.key)
    english.get("/console/language", params={"to": "en"})
    page = english.get(f"/console/customers/{brand.zhang}").text
    assert "Timeline" in page and "Behaviour events" in page and "Order paid" in page


def test_the_change_log_names_profile_fields_in_words(app, brand):
    api = TestClient(app, headers=brand.tenant.headers)
    changed = api.patch(f"/v1/customers/{brand.zhang}", json={"city": "杭州", "source_campaign": "双11"})
    assert changed.status_code == 200
    client = signed_in(app, brand.tenant.key)
    page = client.get(f"/console/customers/{brand.zhang}/timeline", params={"kind": "change"}, headers=HTMX)
    assert page.status_code == 200, page.text
    assert "城市、来源活动" in page.text and "source_campaign" not in page.text
