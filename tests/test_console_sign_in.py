"""Console sign-in: server-side sessions (digest only, fixed expiry, sign-out, admin revocation) and one-time links."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.helpers.console import HTMX, seed_brand, sign_in_link, signed_in
from yutang.kit import tokens
from yutang.kit.clock import utcnow
from yutang.workspaces.models import AuditEntry, ConsoleSession, SignInLink


def _cookie(client: TestClient) -> str:
    return client.cookies["yutang_console"]


def _signed_out(client: TestClient) -> bool:
    response = client.get("/console/tags", follow_redirects=False)
    return response.status_code == 303 and response.headers["location"].startswith("/console/login")


def test_a_sign_in_link_works_once_and_lands_where_asked(app, database, tenant):
    link = sign_in_link(database, tenant.key)
    client = TestClient(app)
    for _ in range(2):  # opening the link (a chat app's preview does) asks for a click and uses nothing up
        shown = client.get(link, params={"next": "/console/tags"})
        assert shown.status_code == 200 and "set-cookie" not in shown.headers
        assert shown.headers["referrer-policy"] == "no-referrer" and "Test brand" in shown.text
        assert 'name="next" value="/console/tags"' in shown.text
    used = client.post(link, data={"next": "/console/tags"}, follow_redirects=False)
    assert used.status_code == 303 and used.headers["location"] == "/console/tags"
    assert used.headers["referrer-policy"] == "no-referrer"
    assert client.get("/console/tags").status_code == 200
    for again in (TestClient(app).get(link), TestClient(app).post(link, follow_redirects=False)):
        assert again.status_code == 400 and "set-cookie" not in again.headers
        assert "登录链接无效" in again.text
    assert TestClient(app).post("/console/sign-in/ysl_made-up", follow_redirects=False).status_code == 400


def test_an_expired_sign_in_link_is_refused(app, database, tenant):
    link = sign_in_link(database, tenant.key)
    with database.unit_of_work() as session:
        session.execute(update(SignInLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert TestClient(app).get(link).status_code == 400
    assert TestClient(app).post(link, follow_redirects=False).status_code == 400


def test_the_server_keeps_only_the_session_digest_and_the_expiry_is_fixed(app, database, tenant):
    client = signed_in(app, tenant.key)
    token = _cookie(client)
    assert token.startswith("ycs_") and tenant.key not in token
    with database.read_only() as session:
        row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == tokens.digest(token)))
        assert token not in {str(value) for value in vars(row).values()}
        assert timedelta(hours=11, minutes=59) < row.expires_at - utcnow() <= timedelta(hours=12)
    with database.unit_of_work() as session:
        session.execute(update(ConsoleSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert _signed_out(client)


def test_signing_out_ends_the_session_on_the_server(app, tenant):
    client = signed_in(app, tenant.key)
    copy = TestClient(app, cookies={"yutang_console": _cookie(client)})  # a stolen copy of the cookie
    assert copy.get("/console/tags").status_code == 200
    client.post("/console/logout")
    assert _signed_out(copy)


def test_an_admin_revokes_a_members_console_sessions_through_the_api(app, client, database, tenant):
    brand = seed_brand(database, tenant)
    guide = signed_in(app, brand.guide_key)
    guide_by_link = TestClient(app)
    guide_by_link.post(sign_in_link(database, brand.guide_key))
    owner = signed_in(app, tenant.key)
    guide_id = guide.get("/v1/me", headers={"Authorization": f"Bearer {brand.guide_key}"}).json()["member_id"]
    path = f"/v1/members/{guide_id}/console-sessions"
    guide_headers = {"Authorization": f"Bearer {brand.guide_key}"}
    assert client.delete(path, headers=guide_headers).status_code == 403
    revoked = client.delete(path, headers=tenant.headers)
    assert revoked.status_code == 200 and revoked.json() == {"member_id": guide_id, "revoked": 2}
    assert _signed_out(guide) and _signed_out(guide_by_link)
    partial = guide.get("/console/customers", headers=HTMX)
    assert partial.headers["HX-Redirect"].startswith("/console/login")
    assert owner.get("/console/tags").status_code == 200  # only that member's sessions end
    with database.read_only() as session:
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "member",
                                                                      AuditEntry.entity_id == guide_id)))
    assert {"sign_in_link.issued", "console_sessions.revoked"} <= actions
    assert client.delete("/v1/members/999999/console-sessions", headers=tenant.headers).status_code == 404
