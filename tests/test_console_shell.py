"""The console's shell: its 404 page, its favicon."""

from fastapi.testclient import TestClient

from tests.helpers.console import signed_in


def test_unknown_console_paths_answer_the_consoles_404_page(app, tenant):
    client = signed_in(app, tenant.key)
    missing = client.get("/console/no-such-page/at-all")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "未找到" in missing.text and "此地址没有控制台页面" in missing.text
    assert 'href="/console/customers"' in missing.text and "/static/app/console.css" in missing.text
    client.get("/console/language", params={"to": "en"})
    assert "There is no console page at this address" in client.get("/console/nope").text
    assert client.get("/console/logout").status_code == 404  # a page address that takes only a form post
    signed_out = TestClient(app).get("/console/nope")
    assert signed_out.status_code == 404 and "<html" in signed_out.text


def test_api_paths_keep_problem_json(app, tenant):
    client = TestClient(app, headers=tenant.headers)
    for path in ("/v1/no-such-thing", "/nowhere"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json"), path


def test_the_favicon_is_a_local_icon(app):
    response = TestClient(app).get("/favicon.ico")
    assert response.status_code == 200 and response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00" and len(response.content) > 500
