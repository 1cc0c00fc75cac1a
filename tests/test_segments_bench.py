"""The segments benchmark at toy size: the compiled rule counts exactly what the hand-written SQL counts, and the
incremental path runs (the figures themselves are measured at full size, bench/README.md)."""

import json

from bench import segments


def test_compiled_segment_agrees_with_hand_written_sql(tmp_path, capsys):
    assert segments.main(["--customers", "3000", "--events", "60000", "--out", str(tmp_path / "data"), "--runs", "1",
                          "--batches", "3", "--batch-customers", "50", "--skip-postgres"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["duckdb"]["counts_agree"] is True and result["duckdb"]["count"] > 0
    assert result["duckdb_load"]["events"] == 60000
    incremental = result["duckdb_incremental"]
    assert incremental["members"] == result["duckdb"]["count"] and incremental["batches"] == 3
