"""Tag groups and tags managed through the API and the console: rename, delete, tagging one customer from the
archive (an HTMX partial) and many at once, by list or by everything a search matches, set-based."""

import time
from datetime import UTC, datetime

from sqlalchemy import event, func, select

from tests.helpers.console import HTMX, seed_brand, signed_in
from tests.helpers.customers import post_customer
from yutang.customers import service as customers_service
from yutang.customers.schemas import IdentityKind
from yutang.storage.outbox import OutboxRow
from yutang.tags import service as tags_service
from yutang.tags.schemas import TagGroupIn, TagRef
from yutang.web.i18n import LOCALE_COOKIE


def _tag(api, group: str, name: str) -> int:
    return next(t["id"] for g in api.get("/v1/tag-groups").json() if g["name"] == group
                for t in g["tags"] if t["name"] == name)


def test_groups_and_tags_are_renamed_and_deleted(api):
    group = api.post("/v1/tag-groups", json={"name": "兴趣", "tags": ["绿茶", "红茶"]}).json()
    green, black = (t["id"] for t in group["tags"])
    cid = post_customer(api, "张三", phone="13800138000")
    api.post(f"/v1/customers/{cid}/tags", json={"add": [{"id": green}, {"id": black}]})

    renamed = api.patch(f"/v1/tags/{green}", json={"name": "龙井"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "龙井"
    taken = api.patch(f"/v1/tags/{green}", json={"name": "红茶"})
    assert taken.status_code == 409 and taken.json()["field"] == "name"
    assert api.patch(f"/v1/tags/{green}", json={"name": None}).status_code == 422
    assert api.patch(f"/v1/tag-groups/{group['id']}", json={"name": "口味"}).json()["name"] == "口味"
    assert [t["name"] for t in api.get(f"/v1/customers/{cid}/archive").json()["tags"]] == ["龙井", "红茶"]

    assert api.delete(f"/v1/tag-groups/{group['id']}").status_code == 204
    assert api.get("/v1/tag-groups").json() == []
    assert api.get(f"/v1/customers/{cid}/archive").json()["tags"] == []
    assert api.delete(f"/v1/tag-groups/{group['id']}").status_code == 404


def test_bulk_tagging_everyone_a_search_matches(api, pipeline):
    api.post("/v1/tag-groups", json={"name": "活动", "tags": ["双11"]})
    d11 = _tag(api, "活动", "双11")
    ids = [post_customer(api, f"王{i}", phone=f"1390000{i:04d}") for i in range(3)]
    other = post_customer(api, "李四", phone="13700001111")
    result = api.post("/v1/tags/bulk", json={"match": {"q": "王"}, "add": [{"id": d11}]})
    assert result.json() == {"added": 3, "removed": 0, "customers": 3}
    again = api.post("/v1/tags/bulk", json={"match": {"q": "王"}, "add": [{"id": d11}]}).json()
    assert again == {"added": 0, "removed": 0, "customers": 3}
    tagged = api.get("/v1/customers", params={"tag": d11}).json()["items"]
    assert sorted(c["id"] for c in tagged) == sorted(ids) and other not in [c["id"] for c in tagged]
    off = api.post("/v1/tags/bulk", json={"match": {"tag": [d11]}, "remove": [{"id": d11}]}).json()
    assert off == {"added": 0, "removed": 3, "customers": 3}
    neither = api.post("/v1/tags/bulk", json={"add": [{"id": d11}]})
    assert neither.status_code == 422 and neither.json()["field"] == "customer_ids"
    pipeline.catch_up()


def test_bulk_tagging_is_set_based(database, tenant, pipeline):
    """5,000 customers tagged in one call: one row and one outbox row each, in a few statements."""
    actor = tenant.actor
    now = datetime.now(UTC)
    with database.unit_of_work() as session:
        ids = customers_service.create_many(session, actor=actor, people=[
            ([(IdentityKind.APP_USER_ID, f"bulk-{i}")], now) for i in range(5000)])
        tags_service.create_group(session, actor=actor, data=TagGroupIn(name="批量", tags=["五千"]))
    with database.unit_of_work() as session:
        tag = tags_service.resolve(session, actor=actor, refs=[TagRef(group="批量", name="五千")])[0]
        before = session.scalar(select(func.count()).select_from(OutboxRow))
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
        event.listen(database.engine, "before_cursor_execute", listener)
        started = time.perf_counter()
        try:
            added, removed = tags_service.apply(session, actor=actor, customer_ids=ids, add=[tag], remove=[])
        finally:
            elapsed = time.perf_counter() - started
            event.remove(database.engine, "before_cursor_execute", listener)
        # Chunks of a thousand, not a statement per customer (background threads share the engine: count only
        # what touched the tagging table).
        tagging = [sql for sql in statements if "customer_tags" in sql]
        assert 2 <= len(tagging) <= 12, len(tagging)
        assert (added, removed) == (5000, 0)
        assert session.scalar(select(func.count()).select_from(OutboxRow)) - before == 5000
    print(f"tagged 5000 customers in {elapsed:.3f}s")
    assert elapsed < 10
    pipeline.catch_up()


def test_console_creates_renames_and_deletes_tags_with_errors_by_their_fields(app, database, tenant):
    brand = seed_brand(database, tenant)
    client = signed_in(app, tenant.key)
    created = client.post("/console/tags/groups", data={"name": "会员等级", "tags": "金卡，银卡、铜卡"},
                          follow_redirects=False)
    assert created.status_code == 303
    page = client.get("/console/tags").text
    assert all(name in page for name in ("会员等级", "金卡", "银卡", "铜卡"))
    taken = client.post("/console/tags/groups", data={"name": "兴趣", "tags": ""})
    assert taken.status_code == 422 and "名称已被使用" in taken.text and 'aria-invalid="true"' in taken.text
    empty = client.post("/console/tags", data={"group_id": _group_id(database, tenant, "会员等级"), "name": " "})
    assert empty.status_code == 422 and "此项为必填" in empty.text
    client.post(f"/console/tags/{brand.tea}", data={"name": "明前绿茶"})
    assert "明前绿茶" in client.get(f"/console/customers/{brand.zhang}").text
    clash = client.post(f"/console/tags/{brand.tea}", data={"name": "咖啡"})
    assert clash.status_code == 422 and "名称已被使用" in clash.text
    assert client.post(f"/console/tags/{brand.tea}/delete", follow_redirects=False).status_code == 303
    assert "明前绿茶" not in client.get("/console/tags").text
    analyst = signed_in(app, brand.analyst_key)
    assert "新建标签组" not in analyst.get("/console/tags").text
    assert analyst.post("/console/tags/groups", data={"name": "x"}).status_code == 403


def _group_id(database, tenant, name: str) -> int:
    with database.read_only() as session:
        return next(g.id for g in tags_service.list_groups(session, actor=tenant.actor) if g.name == name)


def test_archive_tags_a_customer_in_place(app, database, tenant):
    brand = seed_brand(database, tenant)
    client = signed_in(app, tenant.key)
    coffee = next(t.id for g in _groups(database, tenant) for t in g.tags if t.name == "咖啡")
    added = client.post(f"/console/customers/{brand.zhang}/tags", data={"tag_id": coffee}, headers=HTMX)
    assert added.status_code == 200 and added.text.startswith('<div id="customer-tags"')
    assert "兴趣 / 咖啡" in added.text and "兴趣 / 绿茶" in added.text
    removed = client.post(f"/console/customers/{brand.zhang}/tags/{brand.tea}/remove", headers=HTMX)
    assert "兴趣 / 绿茶" not in removed.text and "兴趣 / 咖啡" in removed.text
    unchosen = client.post(f"/console/customers/{brand.zhang}/tags", data={"tag_id": ""}, headers=HTMX)
    assert unchosen.status_code == 422 and "请选择标签" in unchosen.text
    plain = client.post(f"/console/customers/{brand.zhang}/tags", data={"tag_id": brand.tea}, follow_redirects=False)
    assert plain.headers["location"] == f"/console/customers/{brand.zhang}"
    analyst = signed_in(app, brand.analyst_key).get(f"/console/customers/{brand.zhang}").text
    assert "添加标签" not in analyst and "兴趣 / 绿茶" in analyst


def _groups(database, tenant):
    with database.read_only() as session:
        return tags_service.list_groups(session, actor=tenant.actor)


def test_tag_forms_speak_english_too(app, database, tenant):
    brand = seed_brand(database, tenant)
    client = signed_in(app, tenant.key)
    client.cookies.set(LOCALE_COOKIE, "en", path="/console")
    page = client.get("/console/tags").text
    assert "New tag group" in page and "Create group" in page
    taken = client.post("/console/tags/groups", data={"name": "兴趣"})
    assert taken.status_code == 422 and "This name is taken: pick another." in taken.text
    unchosen = client.post(f"/console/customers/{brand.zhang}/tags", data={"tag_id": ""}, headers=HTMX)
    assert "Choose a tag." in unchosen.text
    listed = client.get("/console/customers").text
    assert "3 customers" in listed and "Export CSV" in listed and "All 3 matching the search" in listed
