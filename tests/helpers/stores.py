"""A small store world built through the API, for console and browser tests."""


def store_brand(api, *, send: bool = False):
    """A store with two guides, an adopted code, a customer the first owns and a planned hand-over to the second."""
    store = api.post("/v1/stores", json={"code": "jingan", "name": "静安店", "region": "华东",
                                         "opening_hours": "10:00-22:00"}).json()
    member = api.post("/v1/members", json={"name": "小美", "role": "guide"}).json()["member"]["id"]
    other = api.post("/v1/members", json={"name": "小丽", "role": "guide"}).json()["member"]["id"]
    mei = api.post("/v1/stores/staff", json={"name": "小美", "member_id": member, "wecom_userid": "xiaomei",
                                             "store_id": store["id"]}).json()
    li = api.post("/v1/stores/staff", json={"name": "小丽", "member_id": other, "wecom_userid": "xiaoli",
                                            "store_id": store["id"]}).json()
    config = api.post("/v1/messaging/channels", json={"kind": "wecom", "name": "企业微信",
                                                      "settings": {"corp_id": "wwtest"},
                                                      "secrets": {"corp_secret": "s"}}).json()
    code = api.post("/v1/stores/codes", json={
        "code": "jingan-door", "name": "门口海报", "kind": "store", "config_id": config["id"], "store_id": store["id"],
        "staff_ids": [mei["id"]], "adopt_config_id": "c0ffee", "adopt_qr_url": "https://wework.qpic.cn/wwpic/c0ffee/0"})
    assert code.status_code == 201, code.text
    customer = api.post("/v1/customers", json={"identities": [{"kind": "phone", "value": "13900003333"}]}).json()
    api.post(f"/v1/stores/owners/{customer['customer']['id']}/claim", json={"member_id": member})
    handover = api.post("/v1/stores/handovers", json={"config_id": config["id"], "from_staff_id": mei["id"],
                                                      "to_staff_id": li["id"], "send": send})
    assert handover.status_code == 201, handover.text
    return store, code.json(), customer["customer"]["id"]


def wecom_store(api, fake, url, userids=("xiaomei", "xiaoli")):
    """A WeCom configuration on the peer at `url`, a store and a guide (member with key, staff) per user id:
    (config, store, {userid: (staff, guide headers)})."""
    config = api.post("/v1/messaging/channels", json={
        "kind": "wecom", "name": "WeCom", "settings": {"corp_id": fake.corp_id, "base_url": url},
        "secrets": {"corp_secret": fake.secret}}).json()
    store = api.post("/v1/stores", json={"code": "s1", "name": "S1", "region": "华东"}).json()
    guides = {}
    for userid in userids:
        body = api.post("/v1/members", json={"name": userid, "role": "guide"}).json()
        staff = api.post("/v1/stores/staff", json={"name": userid, "member_id": body["member"]["id"],
                                                   "wecom_userid": userid, "store_id": store["id"]}).json()
        guides[userid] = (staff, {"Authorization": f"Bearer {body['api_key']['secret']}"})
    return config, store, guides


def owned_contacts(api, fake, config, staff, count, prefix="wm"):
    """`count` WeCom contacts of the staff member, synced into customers they own; their ids in order."""
    for n in range(count):
        fake.add_contact(staff["wecom_userid"], f"{prefix}{n}", f"客户{n}")
    api.post(f"/v1/messaging/channels/{config['id']}/wecom/contacts-sync",
             json={"staff_userids": [staff["wecom_userid"]]})
    ids = []
    for n in range(count):
        customer = api.get("/v1/customers", params={"identity": f"wecom_external_userid:{prefix}{n}"}).json()
        ids.append(customer["items"][0]["id"])
        api.post(f"/v1/stores/owners/{ids[-1]}/claim", json={"member_id": staff["member_id"]})
    return ids


def workbench_world(api, *, now=None):
    """A guide (小美, with a key) owning two customers, one with a paid order and a tag, a second tag to tap on,
    and three tasks: due today, overdue, and one for next week: (guide key, {name: customer id}, {title: task})."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    now = now or datetime.now(ZoneInfo("Asia/Shanghai"))
    store = api.post("/v1/stores", json={"code": "jingan", "name": "静安店", "region": "华东"}).json()
    body = api.post("/v1/members", json={"name": "小美", "role": "guide"}).json()
    member, key = body["member"]["id"], body["api_key"]["secret"]
    staff = api.post("/v1/stores/staff", json={"name": "小美", "member_id": member, "wecom_userid": "xiaomei",
                                               "store_id": store["id"]}).json()
    customers = {}
    for name, phone in (("张三", "13900001111"), ("李四", "13900002222")):
        created = api.post("/v1/customers", json={"name": name, "identities": [{"kind": "phone", "value": phone}]})
        customers[name] = created.json()["customer"]["id"]
        api.post(f"/v1/stores/owners/{customers[name]}/claim", json={"member_id": member})
    paid = (now - timedelta(days=3)).isoformat()
    assert api.post("/v1/orders", json={
        "external_id": "WB1", "channel": "store.jingan", "status": "completed", "placed_at": paid, "paid_at": paid,
        "customer_id": customers["张三"], "lines": [{"sku": "TEA", "quantity": 1, "unit_price_fen": 12800}]},
    ).status_code in (200, 201)
    api.post(f"/v1/customers/{customers['张三']}/tags",
             json={"add": [{"group": "偏好", "name": "爱喝茶"}], "create_missing": True})
    api.post(f"/v1/customers/{customers['李四']}/tags",
             json={"add": [{"group": "偏好", "name": "送礼"}], "create_missing": True})
    tasks = {}
    for title, due in (("回访张三", now.replace(hour=23, minute=59)), ("给李四打电话", now - timedelta(days=1)),
                       ("下周门店活动", now + timedelta(days=7))):
        created = api.post("/v1/stores/tasks", json={"staff_id": staff["id"], "title": title,
                                                     "due_at": due.isoformat(), "customer_id": customers["张三"]})
        assert created.status_code == 201, created.text
        tasks[title] = created.json()
    return key, customers, tasks
