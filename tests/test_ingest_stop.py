"""A graceful stop is prompt mid-backlog of new people; the journal keeps the rest and a restart attributes it."""

import time
from datetime import UTC, datetime

from sqlalchemy import text

from yutang.events import messages
from yutang.events.journal import Journal
from yutang.events.loader import Loader
from yutang.runtime.resolution import OltpResolver


def _identifies(workspace_id: int, count: int) -> list[bytes]:
    # Two identifies per person, so each goes through the one-by-one OneID upsert (the slow path).
    now = datetime.now(UTC)
    return [messages.accept({"type": "identify", "userId": f"stop-{n}", "messageId": f"stop-{n}-{step}",
                             "traits": {"email": f"stop-{n}@example.com"} if step else {"name": f"S{n}"}},
                            kind=None, received_at=now, workspace_id=workspace_id, source_id=1, where="body").line
            for n in range(count // 2) for step in (0, 1)]


def _attributed(pipeline, workspace_id: int) -> int:
    return pipeline.warehouse.query("SELECT count(*) FROM events WHERE workspace_id = %(w)s AND message_id LIKE "
                                    "'stop-%%' AND customer_id IS NOT NULL", {"w": workspace_id})[0][0]


def test_stop_returns_promptly_mid_backlog_and_a_restart_finishes_attribution(tmp_path, pipeline, database, tenant):
    # Given a backlog of identifies of people the store has never seen, in one batch, being attributed
    journal = Journal(tmp_path / "journal")
    journal.append(_identifies(tenant.id, 1500))
    loader = Loader(journal, pipeline.warehouse, OltpResolver(database), idle_seconds=0.05)
    loader.load_once()
    loader.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with database.read_only() as session:
            created = session.execute(text("SELECT count(*) FROM customer_identities WHERE workspace_id = :w AND "
                                           "kind = 'app_user_id' AND value LIKE 'stop-%'"), {"w": tenant.id}).scalar()
        if created >= 20:
            break
        time.sleep(0.02)
    # When the server stops mid-batch
    started = time.monotonic()
    loader.stop()
    took = time.monotonic() - started
    # then the stop is prompt and the batch is not marked attributed
    assert took < 2, f"stop took {took:.1f} s"
    assert _attributed(pipeline, tenant.id) == 0
    journal.close()
    # and after a restart on the same journal, everything is attributed, once
    reopened = Journal(tmp_path / "journal")
    Loader(reopened, pipeline.warehouse, OltpResolver(database)).catch_up()
    assert _attributed(pipeline, tenant.id) == 1500
    counted = pipeline.warehouse.query("SELECT count(*) FROM events WHERE workspace_id = %(w)s AND message_id LIKE "
                                       "'stop-%%'", {"w": tenant.id})[0][0]
    assert counted == 1500
    reopened.close()
