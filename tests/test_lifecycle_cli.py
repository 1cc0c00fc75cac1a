"""`yutang lifecycle compute -w <slug>` relays what is pending and refreshes the workspace's scores."""

import json
from datetime import UTC, datetime, timedelta

import duckdb
from typer.testing import CliRunner

from yutang.channels import service as channels_service
from yutang.channels.schemas import ChannelIn
from yutang.cli.main import app
from yutang.kit.settings import Settings
from yutang.orders import service as orders_service
from yutang.orders.schemas import OrderIn
from yutang.runtime.database import open_database
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import system_actor
from yutang.workspaces.schemas import WorkspaceIn

runner = CliRunner()


def test_cli_computes_a_workspace(monkeypatch, tmp_path):
    # Its own OLTP file and warehouse: the CLI relays pending outbox rows, which must not be the suite's.
    settings = Settings(data_dir=tmp_path, secret_key="cli-lifecycle")
    database = open_database(settings)
    database.migrate()
    with database.unit_of_work() as session:
        workspace, _ = workspaces_service.create_workspace(session, data=WorkspaceIn(slug="cli-tea", name="茶"))
        actor = system_actor(workspace.id)
        channels_service.create_channel(session, actor=actor, data=ChannelIn(code="store", name="门店", kind="store"))
        for n, days in enumerate((3, 40)):
            at = datetime.now(UTC) - timedelta(days=days)
            orders_service.record_order(session, actor=actor, data=OrderIn(
                external_id=f"S-{n}", channel="store", status="completed", placed_at=at, paid_at=at,
                buyer=[{"kind": "app_user_id", "value": "u-1"}],
                lines=[{"sku": "LJ", "quantity": 1, "unit_price_fen": 16800}]))
    database.dispose()
    monkeypatch.setenv("YUTANG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("YUTANG_SECRET_KEY", "cli-lifecycle")
    monkeypatch.delenv("YUTANG_DATABASE_URL", raising=False)
    monkeypatch.delenv("YUTANG_WAREHOUSE_URL", raising=False)

    result = runner.invoke(app, ["lifecycle", "compute", "-w", "cli-tea"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["customers"] == 1 and report["baseline"] is True
    with duckdb.connect(str(settings.resolved_warehouse_url.removeprefix("duckdb:///")), read_only=True) as wh:
        assert wh.execute("SELECT lifecycle_stage, historic_value_fen FROM customer_scores").fetchall() == [
            ("repeat", 33600)]
    # As of ten days ago only the order of 40 days ago had happened: a new customer worth one order.
    as_of = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    back = runner.invoke(app, ["lifecycle", "compute", "-w", "cli-tea", "--as-of", as_of])
    assert back.exit_code == 0, back.output
    assert json.loads(back.output)["as_of"] == as_of and json.loads(back.output)["transitions"] == 0
    with duckdb.connect(str(settings.resolved_warehouse_url.removeprefix("duckdb:///")), read_only=True) as wh:
        assert wh.execute("SELECT lifecycle_stage, historic_value_fen FROM customer_scores").fetchall() == [
            ("new", 16800)]
    future = runner.invoke(app, ["lifecycle", "compute", "-w", "cli-tea", "--as-of", "2999-01-01"])
    assert future.exit_code == 2 and "as_of" in future.output
    unknown = runner.invoke(app, ["lifecycle", "compute", "-w", "nope"])
    assert unknown.exit_code == 2 and "no workspace 'nope'" in unknown.output
