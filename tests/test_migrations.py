"""The Alembic head matches the models, so migrations never drift from the code."""

import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from yutang.kit.settings import Settings
from yutang.runtime.database import open_database
from yutang.runtime.models import metadata


def test_migrations_match_models(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_0009_sets_paid_at_and_moves_only_yutangs_own_ledger_keys(tmp_path):
    # Given a store at 0007 holding a paid order without paid_at, and Yutang's and clients' ledger entries
    legacy = open_database(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'yutang.sqlite3'}",
                                    secret_key="k"))
    legacy.migrate("0007")
    connection = sqlite3.connect(tmp_path / "yutang.sqlite3")  # foreign keys off: bare rows are enough
    now = "2026-07-09 02:00:00"
    for status, external_id in (("paid", "A"), ("pending", "B")):
        connection.execute(
            "INSERT INTO orders (workspace_id, external_id, channel_id, status, currency, total_fen, paid_fen, "
            "refunded_fen, placed_at, raw, content_hash, created_at) VALUES (1, ?, 1, ?, 'CNY', 100, 100, 0, ?, "
            "'{}', 'h', ?)", (external_id, status, now, now))
    entries = [("earn", "merge:5:4", None, None, None),  # a client's key shaped like a merge
               ("merge", "merge:5:4:x", None, "customer", "5"), ("expire", "expire:7", None, "lot", "7"),
               ("earn", "order:9:earn:2", 2, "order", "9"), ("reverse", "order:9:refund:50:1", None, "order", "9"),
               ("earn", "event:m-1:3", 3, "event", "m-1"), ("earn", "task:4", None, "task", "4"),
               ("earn", "order:9:earn:2:client", None, "order", "9")]
    for kind, key, rule_id, source_type, source_ref in entries:
        connection.execute(
            "INSERT INTO points_entries (workspace_id, customer_id, kind, points, balance_after, shortfall, "
            "idempotency_key, reason, source_type, source_ref, rule_id, occurred_at, detail, created_at) "
            "VALUES (1, 1, ?, 1, 1, 0, ?, '', ?, ?, ?, ?, '{}', ?)", (kind, key, source_type, source_ref, rule_id,
                                                                      now, now))
    connection.commit()
    # When it migrates to the head
    legacy.migrate()
    # Then the paid order is paid when placed, and only Yutang's own keys moved under its prefix
    paid = dict(connection.execute("SELECT external_id, paid_at FROM orders").fetchall())
    assert paid == {"A": now, "B": None}
    keys = [row[0] for row in connection.execute("SELECT idempotency_key FROM points_entries ORDER BY id")]
    assert keys == ["merge:5:4", "yutang:merge:5:4:x", "yutang:expire:7", "yutang:order:9:earn:2",
                    "yutang:order:9:refund:50:1", "yutang:event:m-1:3", "yutang:task:4", "order:9:earn:2:client"]
    connection.close()
    legacy.dispose()
