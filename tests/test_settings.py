"""Settings: event sources and their write keys, members, roles and API keys, through the API and the console."""

from tests.helpers.console import signed_in
from tests.helpers.events import basic
from tests.helpers.tenants import add_member, bearer


def _track(client, write_key: str):
    return client.post("/v1/track", headers=basic(write_key), json={"userId": "u1", "event": "Viewed"})


def test_a_source_is_renamed_its_key_rotated_and_disabled(api, client):
    # Given a source whose write key is in use
    source = api.post("/v1/sources", json={"name": "小程序", "kind": "mini_program"}).json()
    assert _track(client, source["write_key"]).status_code == 200
    # When it is renamed, then the name is taken by nobody else
    assert api.patch(f"/v1/sources/{source['id']}", json={"name": "小程序商城"}).json()["name"] == "小程序商城"
    api.post("/v1/sources", json={"name": "官网", "kind": "web"})
    clash = api.patch(f"/v1/sources/{source['id']}", json={"name": "官网"})
    assert clash.status_code == 409 and clash.json()["errors"][0]["field"] == "name"
    assert api.patch(f"/v1/sources/{source['id']}", json={"name": None}).status_code == 422
    # When its key is rotated, the old key stops at once and the new one works
    rotated = api.post(f"/v1/sources/{source['id']}/rotate-key").json()
    assert rotated["write_key"].startswith("ywk_") and rotated["write_key"] != source["write_key"]
    assert _track(client, source["write_key"]).status_code == 401
    assert _track(client, rotated["write_key"]).status_code == 200
    assert api.get("/v1/sources").json()[0]["write_key"] is None
    # When it is disabled, its key stops too
    assert api.delete(f"/v1/sources/{source['id']}").json()["revoked_at"]
    assert _track(client, rotated["write_key"]).status_code == 401
    actions = [e["action"] for e in api.get("/v1/audit-log", params={"entity_type": "source"}).json()["items"]]
    assert {"source.updated", "source.key_rotated", "source.revoked"} <= set(actions)


def test_members_change_role_lose_their_keys_when_removed_and_an_owner_always_remains(api, client, tenant):
    member_id, headers = add_member(api, "analyst", "小安")
    assert client.get("/v1/api-keys", headers=headers).status_code == 403
    # When promoted to operator, the same key carries the new role at once
    changed = api.patch(f"/v1/members/{member_id}", json={"role": "operator", "name": "安安"}).json()
    assert changed["role"] == "operator" and changed["name"] == "安安"
    assert client.get("/v1/me", headers=headers).json()["role"] == "operator"
    assert api.patch(f"/v1/members/{member_id}", json={"role": "boss"}).json()["errors"][0]["field"] == "role"
    # Another key for them, then removal revokes every key
    second = api.post(f"/v1/members/{member_id}/api-keys", params={"name": "手机"}).json()["secret"]
    assert client.get("/v1/me", headers=bearer(second)).status_code == 200
    removed = api.delete(f"/v1/members/{member_id}").json()
    assert removed["active"] is False
    assert client.get("/v1/me", headers=headers).status_code == 401
    assert client.get("/v1/me", headers=bearer(second)).status_code == 401
    assert api.post(f"/v1/members/{member_id}/api-keys").status_code == 409
    # The last owner can be neither demoted nor removed
    owner = tenant.actor.member_id
    assert api.patch(f"/v1/members/{owner}", json={"role": "analyst"}).status_code == 409
    assert api.delete(f"/v1/members/{owner}").status_code == 409
    # With a second owner, the first may step down
    _, partner = add_member(api, "owner", "合伙人")
    assert api.patch(f"/v1/members/{owner}", json={"role": "operator"}).json()["role"] == "operator"
    actions = [e["action"] for e in client.get("/v1/audit-log", headers=partner).json()["items"]]
    assert {"member.updated", "member.removed"} <= set(actions)


def test_only_owners_manage_members(api, client):
    member_id, operator = add_member(api, "operator")
    assert client.patch(f"/v1/members/{member_id}", headers=operator, json={"role": "owner"}).status_code == 403
    assert client.delete(f"/v1/members/{member_id}", headers=operator).status_code == 403


def test_console_settings_adds_a_source_and_a_member_and_shows_errors_beside_fields(app, api, tenant):
    console = signed_in(app, tenant.key)
    page = console.get("/console/settings")
    assert page.status_code == 200 and 'href="/console/settings"' in page.text
    # An empty name is refused beside its field, in Chinese
    refused = console.post("/console/settings/sources", data={"name": "", "kind": "web"})
    assert refused.status_code == 422 and 'id="source-new-name-error">此项为必填' in refused.text
    created = console.post("/console/settings/sources", data={"name": "官网", "kind": "web"})
    assert created.status_code == 200 and "ywk_" in created.text
    source = api.get("/v1/sources").json()[0]
    taken = console.post("/console/settings/sources", data={"name": "官网", "kind": "web"})
    assert taken.status_code == 422 and "这个名称已被使用" in taken.text
    # Rename, rotate and disable from the page
    console.post(f"/console/settings/sources/{source['id']}/name", data={"name": "品牌官网"})
    rotated = console.post(f"/console/settings/sources/{source['id']}/rotate")
    assert "ywk_" in rotated.text
    console.post(f"/console/settings/sources/{source['id']}/disable")
    after = api.get("/v1/sources").json()[0]
    assert after["name"] == "品牌官网" and after["revoked_at"]
    assert after["write_key_prefix"] != source["write_key_prefix"]
    # A member: role required, then added with a key shown once
    missing = console.post("/console/settings/members", data={"name": "小周", "role": ""})
    assert missing.status_code == 422 and 'id="member-new-role-error"' in missing.text
    added = console.post("/console/settings/members", data={"name": "小周", "role": "guide"})
    secret = added.text.split('<pre class="mono">')[1].split("<")[0]
    assert secret.startswith("yt_")
    member = next(m for m in api.get("/v1/members").json() if m["name"] == "小周")
    # The last owner keeps the role: the refusal sits beside the role field
    last = console.post(f"/console/settings/members/{tenant.actor.member_id}",
                        data={"name": "Owner", "role": "operator"})
    assert last.status_code == 422 and "工作区至少要保留一位所有者" in last.text
    # Revoke the guide's key, then remove them
    key = next(k for k in api.get("/v1/api-keys").json() if k["member_id"] == member["id"])
    console.post(f"/console/settings/keys/{key['id']}/revoke")
    assert api.get("/v1/me", headers=bearer(secret)).status_code == 401
    console.post(f"/console/settings/members/{member['id']}/remove")
    assert not next(m for m in api.get("/v1/members").json() if m["id"] == member["id"])["active"]


def test_console_settings_is_for_owners_only(app, api):
    _, headers = add_member(api, "operator")
    console = signed_in(app, headers["Authorization"][7:])
    assert 'href="/console/settings"' not in console.get("/console/customers").text
    assert console.get("/console/settings").status_code == 403
    assert console.post("/console/settings/sources", data={"name": "x"}).status_code == 403
