"""The `yutang` CLI: migrate, workspace create, imports and the demo seeder, against the test database."""

import json
import secrets

import pytest
from typer.testing import CliRunner

from yutang.cli.main import app

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch, settings, database, pipeline):
    monkeypatch.setenv("YUTANG_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("YUTANG_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("YUTANG_DATA_DIR", str(settings.data_dir))
    # The commands open the tests' own stores; the tests' server must not relay beside them (one relay per store,
    # as in production, where the server owns the warehouse file).
    pipeline.pause()
    yield
    pipeline.start()


def test_migrate_is_idempotent(cli_env):
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output


def test_workspace_create_prints_a_working_key(cli_env, client):
    slug = "cli-" + secrets.token_hex(4)
    result = runner.invoke(app, ["workspace", "create", slug, "--name", "CLI 品牌"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    me = client.get("/v1/workspace", headers={"Authorization": f"Bearer {key}"}).json()
    assert me["slug"] == slug and me["timezone"] == "Asia/Shanghai"
    again = runner.invoke(app, ["workspace", "create", slug, "--name", "x"])
    assert again.exit_code == 2 and "exists already" in again.output
    bad_zone = runner.invoke(app, ["workspace", "create", slug + "z", "--name", "x", "--timezone", "Mars/Base"])
    assert bad_zone.exit_code == 2


def test_import_customers_reports_and_exits_nonzero_on_bad_rows(cli_env, tmp_path, tenant, api):
    good = tmp_path / "good.csv"
    good.write_text("name,phone\n韩梅梅,13822223333\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "customers", str(good), "--workspace", tenant.slug])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("name,phone\n坏,123\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "customers", str(bad), "--workspace", tenant.slug])
    assert result.exit_code == 1
    assert json.loads(result.output)["errors"][0]["line"] == 2
    assert api.get("/v1/customers", params={"q": "13822223333"}).json()["items"]


def test_import_orders_csv(cli_env, tmp_path, tenant, api):
    api.post("/v1/channels", json={"code": "store", "name": "门店", "kind": "store"})
    csv = tmp_path / "orders.csv"
    csv.write_text("order_id,status,placed_at,phone,sku,category,quantity,unit_price_fen\n"
                   "S-1,completed,2026-10-01 12:00:00,13822224444,GT-001,绿茶,2,16800\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "orders", str(csv), "--workspace", tenant.slug, "--channel", "store"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"] == 1
    orders = api.get("/v1/orders").json()["items"]
    assert orders[0]["total_fen"] == 33600


@pytest.mark.slow
def test_demo_seeds_a_brand_without_serving(cli_env):
    result = runner.invoke(app, ["demo", "--showcase", "20", "--visitors", "300", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "console: http://127.0.0.1:8000/console/login?key=yt_" in result.output
    assert "passed" in result.output and "left contact" in result.output
    customers = int(result.output.split("': ")[1].split(" customers")[0])
    assert 20 + 60 < customers < 20 + 300
    again = runner.invoke(app, ["demo", "--no-serve"])  # a second run reuses the brand and issues a new key
    assert again.exit_code == 0 and f"demo workspace 'demo-tea': {customers} customers" in again.output
