"""Customer CSV import: OneID upsert per row, tags, bad rows reported by line and field, idempotent."""

from sqlalchemy import func, select

from yutang.customers.models import Customer, CustomerIdentity
from yutang.tags.models import CustomerTag
from yutang.workspaces.models import AuditEntry

CSV = """name,phone,email,gender,birthday,city,wechat_unionid,channel,campaign,tags,first_seen_at
王芳,13811112222,wf@example.com,female,1991-03-04,上海,uWF,store,开业,兴趣偏好/绿茶;价值/高价值,2026-01-02 10:00:00
李娜,13811113333,,female,,杭州,,store,,兴趣偏好/红茶,
坏行,12345,,,,,,store,,,
赵磊,13811114444,,male,1990-13-01,,,store,,,
孙强,13811115555,,male,,,,nowhere,,,
周杰,,,male,,,,store,,,
"""


def _import(api, data: bytes):
    response = api.post("/v1/customers/import", files={"file": ("customers.csv", data, "text/csv")})
    assert response.status_code == 200, response.text
    return response.json()


def _counts(database, workspace_id):
    with database.unit_of_work() as session:
        return [session.scalar(select(func.count()).select_from(model).where(model.workspace_id == workspace_id))
                for model in (Customer, CustomerIdentity, CustomerTag, AuditEntry)]


def test_import_reports_bad_rows_and_imports_good_ones(api, database, tenant):
    api.post("/v1/channels", json={"code": "store", "name": "门店", "kind": "store"})
    report = _import(api, CSV.encode())
    assert (report["created"], report["updated"], report["unchanged"]) == (2, 0, 0)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (4, "phone"), (5, "birthday"), (6, "first_channel"), (7, "phone")]
    found = api.get("/v1/customers", params={"q": "13811112222"}).json()["items"][0]
    archive = api.get(f"/v1/customers/{found['id']}/archive").json()
    assert sorted(t["name"] for t in archive["tags"]) == ["绿茶", "高价值"]
    assert archive["customer"]["first_seen_at"].startswith("2026-01-02T02:00:00")  # Asia/Shanghai wall time
    assert archive["first_channel"]["code"] == "store"
    assert api.get("/v1/customers", params={"q": "13811114444"}).json()["items"] == []  # bad row left no trace


def test_reimport_changes_nothing(api, database, tenant):
    api.post("/v1/channels", json={"code": "store", "name": "门店", "kind": "store"})
    _import(api, CSV.encode())
    before = _counts(database, tenant.id)
    report = _import(api, CSV.encode())
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 2)
    assert _counts(database, tenant.id) == before


def test_gb18030_file_from_excel_imports(api):
    data = "name,phone\n钱七,13811116666\n".encode("gb18030")
    assert _import(api, data)["created"] == 1
    assert api.get("/v1/customers", params={"name": "钱七"}).json()["items"]


def test_unknown_column_fails_the_whole_file(api, database, tenant):
    before = _counts(database, tenant.id)
    response = api.post("/v1/customers/import", files={"file": ("c.csv", b"name,phone,shoe_size\na,13811117777,42\n")})
    assert response.status_code == 422
    assert response.json()["field"] == "file" and "shoe_size" in response.json()["detail"]
    assert _counts(database, tenant.id) == before


def test_a_broken_row_fails_alone_at_its_line(api):
    # Given a stray quote on line 2 and a surplus cell on line 4
    data = ("name,phone\n"
            "\"王芳,13811110001\n"
            "李雷,13811110002\n"
            "韩梅梅,13811110003,surplus\n"
            "张伟,13811110004\n").encode()
    # When the file is imported
    report = _import(api, data)
    # Then those rows fail at their own lines and the others import
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "name"), (4, "row")]
    assert report["created"] == 2
