"""The persona accounts page: open a persona with staff behind it, errors next to their fields, its acts listed."""

from tests.helpers.console import signed_in
from tests.helpers.stores import store_brand


def test_open_a_persona_and_see_what_was_done_in_its_name(app, api, client, tenant):
    _, _, customer = store_brand(api)
    staff = {s["name"]: s for s in api.get("/v1/stores/staff").json()}
    browser = signed_in(app, tenant.key)
    bad = browser.post("/console/stores/personas", data={"name": "小完子", "avatar_url": "ftp://x",
                                                          "staff_ids": [str(staff["小美"]["id"])]})
    assert bad.status_code == 422 and "头像地址须以 http:// 或 https:// 开头" in bad.text
    made = browser.post("/console/stores/personas", data={
        "name": "小完子", "avatar_url": "https://cdn.example.com/x.png", "wecom_alias": "xiaowanzi",
        "external_position": "美妆顾问", "staff_ids": [str(staff["小美"]["id"]), str(staff["小丽"]["id"])]},
        follow_redirects=False)
    assert made.status_code == 303, made.text
    taken = browser.post("/console/stores/personas", data={"name": "小美妆", "staff_ids": [str(staff["小丽"]["id"])]})
    assert taken.status_code == 422 and "请勾选仍在职且未归属其他人设的员工" in taken.text
    again = browser.post("/console/stores/personas", data={"name": "小完子"})
    assert again.status_code == 422 and "已有同名的人设账号" in again.text
    key = api.post(f"/v1/members/{staff['小美']['member_id']}/api-keys").json()["secret"]
    task = client.post("/v1/stores/tasks", headers={"Authorization": f"Bearer {key}"}, json={
        "title": "回访", "due_at": "2099-01-01T00:00:00Z", "customer_id": customer}).json()
    assert task["persona_id"] is not None
    page = browser.get("/console/stores/personas")
    assert page.status_code == 200
    assert "小完子" in page.text and "美妆顾问" in page.text and "小美、小丽" in page.text
    assert "创建任务" in page.text and "操作人 小美" in page.text
