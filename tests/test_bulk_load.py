"""Bulk-loading event history into the warehouse (yutang.warehouse.bulk and `yutang warehouse load-events`)."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bench.generate import iter_event_batches
from yutang.cli.main import app
from yutang.warehouse import bulk

runner = CliRunner()
NOW = datetime(2026, 11, 1, 8, 30, 15, 123456, tzinfo=UTC)
AWKWARD = ['x"y\n\\.\nz', "", "\\.", "a,b", '中文 "引号"', "tab\there", "back\\slash", "\r\n"]


def generated(workspace_id: int, rows: int = 3000, batch_rows: int = 1000) -> list[pa.Table]:
    """The bench generator's events, converted to the warehouse's columns (source and context added)."""
    out = []
    for batch in iter_event_batches(200, rows, seed=3, batch_rows=batch_rows, workspace_id=workspace_id):
        out.append(batch.append_column("source", pa.repeat(pa.scalar("backfill"), batch.num_rows)))
    return out


def awkward(workspace_id: int) -> pa.Table:
    """Text that CSV, COPY and JSON each treat specially, in plain and JSON columns."""
    n = len(AWKWARD)
    return pa.table({
        "workspace_id": [workspace_id] * n, "message_id": [f"awk-{i}" for i in range(n)], "type": ["track"] * n,
        "event": AWKWARD, "user_id": [None, *AWKWARD[1:]],
        "properties": [json.dumps({"v": text}, ensure_ascii=False) for text in AWKWARD],
        "context": [json.dumps({"ip": "127.0.0.1", "note": text}) for text in AWKWARD],
        "ts": pa.array([NOW] * n), "received_at": pa.array([NOW] * n), "source": ["backfill"] * n,
    })


def _count(warehouse, workspace_id: int) -> int:
    return warehouse.query("SELECT count(*) FROM events WHERE workspace_id = %(w)s", {"w": workspace_id})[0][0]


def test_load_events_appends_every_row_in_large_transactions(pipeline, tenant):
    batches = generated(tenant.id)
    report = bulk.load_events(pipeline.warehouse, batches, transaction_rows=2000)
    assert report["rows"] == 3000 and report["transactions"] == 2 and report["backend"] == pipeline.warehouse.dialect
    expected = pa.concat_tables(batches)
    rows = pipeline.warehouse.query(
        "SELECT message_id, type, event, customer_id, user_id, anonymous_id, properties, context, ts, source "
        "FROM events WHERE workspace_id = %(w)s ORDER BY message_id", {"w": tenant.id})
    assert [r[0] for r in rows] == sorted(expected["message_id"].to_pylist())
    by_id = {r[0]: r for r in rows}
    for want in expected.slice(0, 300).to_pylist():
        got = by_id[want["message_id"]]
        assert got[1:6] == (want["type"], want["event"], want["customer_id"], want["user_id"], want["anonymous_id"])
        properties = got[6] if isinstance(got[6], dict) else json.loads(got[6])  # JSONB comes back parsed
        assert properties == json.loads(want["properties"])
        assert got[7] is None and got[8] == want["ts"] and got[9] == "backfill"


def test_awkward_text_and_json_arrive_unchanged(pipeline, tenant):
    assert bulk.load_events(pipeline.warehouse, [awkward(tenant.id)])["rows"] == len(AWKWARD)
    rows = pipeline.warehouse.query("SELECT message_id, event, user_id, properties, context, ts FROM events "
                                    "WHERE workspace_id = %(w)s", {"w": tenant.id})
    for message_id, event, user_id, properties, context, ts in rows:
        i = int(message_id.removeprefix("awk-"))
        properties = properties if isinstance(properties, dict) else json.loads(properties)
        context = context if isinstance(context, dict) else json.loads(context)
        assert event == AWKWARD[i] and user_id == (None if i == 0 else AWKWARD[i])  # '' stays '', null stays null
        assert properties == {"v": AWKWARD[i]} and context["note"] == AWKWARD[i] and ts == NOW


def test_workspace_override_and_missing_nullable_columns(pipeline, tenant):
    table = awkward(999_999).drop_columns(["event", "user_id", "context"])
    bulk.load_events(pipeline.warehouse, [table], workspace_id=tenant.id)
    assert _count(pipeline.warehouse, tenant.id) == len(AWKWARD)
    assert pipeline.warehouse.query("SELECT count(*) FROM events WHERE workspace_id = 999999")[0][0] == 0
    nulls = pipeline.warehouse.query("SELECT count(*) FROM events WHERE workspace_id = %(w)s AND event IS NULL "
                                     "AND user_id IS NULL AND context IS NULL", {"w": tenant.id})
    assert nulls[0][0] == len(AWKWARD)


def test_bad_rows_are_refused_and_roll_back_their_transaction(pipeline, tenant):
    good = awkward(tenant.id)
    with pytest.raises(bulk.BulkLoadError, match="required column source"):
        bulk.conform(good.drop_columns(["source"]))
    with pytest.raises(bulk.BulkLoadError, match="unknown event column"):
        bulk.conform(good.append_column("colour", pa.array(["red"] * good.num_rows)))
    with pytest.raises(bulk.BulkLoadError, match="message_id has 1 null"):
        bulk.conform(good.set_column(1, "message_id", pa.array([None, *good["message_id"].to_pylist()[1:]])))
    broken = good.set_column(good.schema.get_field_index("properties"), "properties",
                             pa.array(["{}"] * (good.num_rows - 1) + ["{not json"]))
    with pytest.raises(bulk.BulkLoadError, match="after 8 committed"):
        bulk.load_events(pipeline.warehouse, [good, broken], transaction_rows=len(AWKWARD))
    assert _count(pipeline.warehouse, tenant.id) == len(AWKWARD)  # the first transaction stays, the second is gone


def test_batches_are_conformed_from_compatible_types(pipeline, tenant):
    table = awkward(tenant.id)
    narrow = table.set_column(0, "workspace_id", pc.cast(table["workspace_id"], pa.int32())).set_column(
        table.schema.get_field_index("ts"), "ts", pc.cast(table["ts"], pa.timestamp("ms", tz="UTC"), safe=False))
    bulk.load_events(pipeline.warehouse, [narrow])
    assert _count(pipeline.warehouse, tenant.id) == len(AWKWARD)


@pytest.fixture
def duckdb_cli_env(monkeypatch, tmp_path, settings, database):
    """The CLI on its own DuckDB warehouse file (the session's pipeline holds the suite's) and the suite's OLTP."""
    monkeypatch.setenv("YUTANG_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("YUTANG_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("YUTANG_DATA_DIR", str(tmp_path))
    path = tmp_path / "cli-warehouse.duckdb"
    monkeypatch.setenv("YUTANG_WAREHOUSE_URL", f"duckdb:///{path}")
    return path


def test_cli_loads_parquet_files(duckdb_cli_env, tmp_path, tenant):
    files = []
    for i, batch in enumerate(generated(workspace_id=1)):
        files.append(tmp_path / f"events-{i}.parquet")
        pq.write_table(batch, files[-1])
    result = runner.invoke(app, ["warehouse", "load-events", *map(str, files), "--workspace-id", str(tenant.id)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == 3000
    with duckdb.connect(str(duckdb_cli_env), read_only=True) as connection:
        assert connection.execute("SELECT workspace_id, count(*) FROM events GROUP BY 1").fetchall() == [(tenant.id,
                                                                                                       3000)]


def test_cli_refuses_bad_files_and_unknown_workspaces_before_writing(duckdb_cli_env, tmp_path, tenant):
    bad = tmp_path / "bad.parquet"
    pq.write_table(awkward(tenant.id).drop_columns(["ts"]), bad)
    result = runner.invoke(app, ["warehouse", "load-events", str(bad)])
    assert result.exit_code == 2 and "required column ts" in result.output
    good = tmp_path / "good.parquet"
    pq.write_table(awkward(tenant.id), good)
    result = runner.invoke(app, ["warehouse", "load-events", str(good), "--workspace-id", "987654321"])
    assert result.exit_code == 2 and "no such workspace" in result.output
    assert not duckdb_cli_env.exists()


@pytest.mark.slow
def test_cli_says_to_stop_the_server_when_the_warehouse_file_is_held(duckdb_cli_env, tmp_path, tenant):
    good = tmp_path / "good.parquet"
    pq.write_table(awkward(tenant.id), good)
    holder = duckdb.connect(str(duckdb_cli_env))  # as a running server would hold it
    try:
        # Another process: within one process DuckDB shares the open database instead of locking.
        done = subprocess.run([sys.executable, "-m", "yutang.cli.main", "warehouse", "load-events", str(good)],
                              env=dict(os.environ), capture_output=True, text=True, timeout=120)
    finally:
        holder.close()
    assert done.returncode == 2, done.stderr
    assert "stop the server or load through it" in done.stderr and "Traceback" not in done.stderr
