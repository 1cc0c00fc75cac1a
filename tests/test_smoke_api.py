"""Walk the main API paths once: channel, customer upsert, tags, order, archive."""


def test_customer_upsert_tag_order_archive(api):
    channel = api.post("/v1/channels", json={"code": "mp", "name": "Mini program", "kind": "mini_program",
                                             "role": "primary"})
    assert channel.status_code == 201, channel.text
    created = api.post("/v1/customers", json={"name": "张三", "first_channel": "mp",
                                              "identities": [{"kind": "phone", "value": "13800138000"}]})
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["outcome"] == "created"
    customer_id = body["customer"]["id"]
    assert body["customer"]["identities"][0]["value"] == "+8613800138000"
    again = api.post("/v1/customers", json={"identities": [{"kind": "phone", "value": "+86 138 0013 8000"}]})
    assert again.json()["customer"]["id"] == customer_id
    assert again.json()["outcome"] == "unchanged"
    group = api.post("/v1/tag-groups", json={"name": "兴趣", "tags": ["茶", "咖啡"]})
    assert group.status_code == 201, group.text
    tea = group.json()["tags"][0]["id"]
    tagged = api.post(f"/v1/customers/{customer_id}/tags", json={"add": [{"id": tea}]})
    assert [t["name"] for t in tagged.json()] == ["茶"]
    order = api.post("/v1/orders", json={"external_id": "A1", "channel": "mp", "status": "paid",
                                         "placed_at": "2026-11-01T10:00:00+08:00", "customer_id": customer_id,
                                         "lines": [{"sku": "T-1", "category": "tea", "quantity": 2,
                                                    "unit_price_fen": 3990}]})
    assert order.status_code == 200, order.text
    assert order.json()["total_fen"] == 7980
    archive = api.get(f"/v1/customers/{customer_id}/archive").json()
    assert archive["order_summary"]["paid_fen"] == 7980
    assert archive["tags"][0]["group_name"] == "兴趣"
    assert archive["first_channel"]["code"] == "mp"
