"""Channels with acquisition costs; tag groups, search and bulk tagging."""

from tests.helpers.customers import post_customer


def test_channel_registry_with_costs(api):
    created = api.post("/v1/channels", json={"code": "tmall-flagship", "name": "天猫旗舰店", "kind": "tmall_shop",
                                             "external_id": "shop123"})
    assert created.status_code == 201, created.text
    channel = created.json()
    assert (channel["role"], channel["domain"]) == ("auxiliary", "public")
    wecom = api.post("/v1/channels", json={"code": "wecom", "name": "企微导购", "kind": "wecom_staff",
                                           "role": "primary"}).json()
    assert wecom["domain"] == "private"
    ads = api.post("/v1/channels", json={"code": "ads", "name": "广点通", "kind": "paid_ads"}).json()
    assert ads["domain"] == "commercial"
    duplicate = api.post("/v1/channels", json={"code": "wecom", "name": "x", "kind": "app"})
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "code"
    for start, end, fen in (("2026-09-01", "2026-09-30", 1_200_000), ("2026-10-01", "2026-10-31", 900_000)):
        r = api.post(f"/v1/channels/{channel['id']}/costs", json={"period_start": start, "period_end": end,
                                                                  "amount_fen": fen})
        assert r.status_code == 201, r.text
    costs = api.get(f"/v1/channels/{channel['id']}/costs").json()
    assert [c["amount_fen"] for c in costs] == [1_200_000, 900_000]
    backwards = api.post(f"/v1/channels/{channel['id']}/costs", json={"period_start": "2026-10-31",
                                                                      "period_end": "2026-10-01", "amount_fen": 1})
    assert backwards.status_code == 422
    negative = api.post(f"/v1/channels/{channel['id']}/costs", json={"period_start": "2026-10-01",
                                                                     "period_end": "2026-10-02", "amount_fen": -5})
    assert negative.status_code == 422 and negative.json()["field"] == "amount_fen"
    fractional = api.post(f"/v1/channels/{channel['id']}/costs", json={"period_start": "2026-10-01",
                                                                       "period_end": "2026-10-02", "amount_fen": 1.5})
    assert fractional.status_code == 422
    patched = api.patch(f"/v1/channels/{wecom['id']}", json={"role": "auxiliary", "active": False}).json()
    assert (patched["role"], patched["active"]) == ("auxiliary", False)
    bad_kind = api.post("/v1/channels", json={"code": "x", "name": "x", "kind": "myspace"})
    assert bad_kind.status_code == 422 and bad_kind.json()["field"] == "kind"


def _customers(api, n):
    return [post_customer(api, None, app_user_id=f"u{i}") for i in range(n)]


def test_tag_groups_search_and_single_tagging(api):
    api.post("/v1/tag-groups", json={"name": "兴趣偏好", "order": 1, "tags": ["绿茶", "红茶"]})
    api.post("/v1/tag-groups", json={"name": "价值", "order": 0, "tags": ["高价值"]})
    groups = api.get("/v1/tag-groups").json()
    assert [g["name"] for g in groups] == ["价值", "兴趣偏好"]
    found = api.get("/v1/tag-groups", params={"q": "红"}).json()
    assert [(g["name"], [t["name"] for t in g["tags"]]) for g in found] == [("兴趣偏好", ["红茶"])]
    dup = api.post("/v1/tag-groups", json={"name": "价值"})
    assert dup.status_code == 409
    [cid] = _customers(api, 1)
    tagged = api.post(f"/v1/customers/{cid}/tags", json={"add": [{"group": "兴趣偏好", "name": "绿茶"},
                                                                  {"group": "渠道", "name": "直播", }],
                                                          "create_missing": True})
    assert tagged.status_code == 200, tagged.text
    assert sorted(t["name"] for t in tagged.json()) == ["直播", "绿茶"]
    unknown = api.post(f"/v1/customers/{cid}/tags", json={"add": [{"group": "无", "name": "无"}]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "add[0]"
    green = next(t["id"] for g in api.get("/v1/tag-groups").json() for t in g["tags"] if t["name"] == "绿茶")
    assert [t["name"] for t in api.delete(f"/v1/customers/{cid}/tags/{green}").json()] == ["直播"]


def test_bulk_tagging_is_all_or_nothing_and_searchable(api, client, other_tenant):
    group = api.post("/v1/tag-groups", json={"name": "活动", "tags": ["双11", "618"]}).json()
    d11, s618 = (t["id"] for t in group["tags"])
    ids = _customers(api, 5)
    result = api.post("/v1/tags/bulk", json={"customer_ids": ids[:4], "add": [{"id": d11}, {"id": s618}]}).json()
    assert result == {"added": 8, "removed": 0, "customers": 4}
    result = api.post("/v1/tags/bulk", json={"customer_ids": ids[:2], "remove": [{"id": s618}]}).json()
    assert result == {"added": 0, "removed": 2, "customers": 2}
    both = api.get("/v1/customers", params=[("tag", d11), ("tag", s618)]).json()["items"]
    assert sorted(c["id"] for c in both) == sorted(ids[2:4])
    counts = {t["name"]: t["customer_count"] for t in api.get("/v1/tag-groups").json()[0]["tags"]}
    assert counts == {"双11": 4, "618": 2}
    foreign = client.post("/v1/customers", headers=other_tenant.headers,
                          json={"identities": [{"kind": "app_user_id", "value": "x"}]}).json()["customer"]["id"]
    refused = api.post("/v1/tags/bulk", json={"customer_ids": [ids[4], foreign], "add": [{"id": d11}]})
    assert refused.status_code == 404
    assert api.get(f"/v1/customers/{ids[4]}/archive").json()["tags"] == []  # nothing half-written
    assert api.delete(f"/v1/tags/{d11}").status_code == 204
    assert [t["name"] for t in api.get(f"/v1/customers/{ids[3]}/archive").json()["tags"]] == ["618"]


def test_customers_join_and_leave_channels(api):
    api.post("/v1/channels", json={"code": "oa", "name": "服务号", "kind": "wechat_service_account"})
    cid = api.post("/v1/customers", json={"identities": [{"kind": "wechat_unionid", "value": "uJ"}]}).json()
    cid = cid["customer"]["id"]
    joined = api.post(f"/v1/customers/{cid}/channels", json={"channel": "oa", "at": "2026-05-01T00:00:00Z"}).json()
    assert joined[0]["left_at"] is None and joined[0]["joined_at"].startswith("2026-05-01")
    left = api.post(f"/v1/customers/{cid}/channels", json={"channel": "oa", "joined": False}).json()
    assert left[0]["left_at"] is not None
    back = api.post(f"/v1/customers/{cid}/channels", json={"channel": "oa"}).json()
    assert back[0]["left_at"] is None and back[0]["joined_at"].startswith("2026-05-01")
    listed = api.get("/v1/customers", params={"channel_id": joined[0]["channel_id"]}).json()["items"]
    assert [c["id"] for c in listed] == [cid]
    unknown = api.post(f"/v1/customers/{cid}/channels", json={"channel": "nope"})
    assert unknown.status_code == 404 and unknown.json()["field"] == "channel"
    actions = [e["action"] for e in api.get("/v1/audit-log", params={"entity_id": cid}).json()["items"]]
    assert actions[:3] == ["customer.joined", "customer.left", "customer.joined"]
