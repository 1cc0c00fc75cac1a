"""Typed outbox topics: one enum, a payload shape per topic, rows stored before the types still relay."""

import re
from pathlib import Path

import pytest

from yutang.kit.clock import utcnow
from yutang.storage import outbox
from yutang.storage.topics import PAYLOADS, Topic
from yutang.warehouse import replica

SOURCE = Path(__file__).resolve().parent.parent / "yutang"


def test_every_topic_has_a_payload_shape_and_the_replica_knows_only_topics():
    assert set(PAYLOADS) == set(Topic)
    assert set(replica.HANDLERS) | set(replica.BULK_HANDLERS) | set(replica.EVENT_NAMES) <= set(Topic)


def test_no_call_site_spells_a_topic_as_a_string():
    literal = re.compile(r"""topic\s*=\s*f?["']|["']topic["']\s*:\s*f?["']|'(?:points|message|order)\.\w+',""")
    offenders = [str(path.relative_to(SOURCE)) for path in SOURCE.rglob("*.py")
                 if path.name != "topics.py" and literal.search(path.read_text())]
    assert offenders == []


def test_emit_refuses_a_payload_missing_a_key_of_its_shape(database, tenant):
    with database.unit_of_work() as session, pytest.raises(ValueError, match="tag_id"):
        outbox.emit(session, workspace_id=tenant.id, topic=Topic.TAG_ADDED, entity_id=1, payload={"customer_id": 1})


def test_a_row_stored_before_the_types_still_relays(pipeline, tenant):
    # Given rows as they were written before the topics were typed (plain strings, plain dicts)
    changes = [
        replica.Change(id=10**12 + 1, workspace_id=tenant.id, topic="tag.added", entity_id=10**9 + 7,
                       payload={"customer_id": 10**9 + 7, "tag_id": 42}, created_at=utcnow()),
        replica.Change(id=10**12 + 2, workspace_id=tenant.id, topic="consent.changed", entity_id=10**9 + 7,
                       payload={"customer_id": 10**9 + 7, "channel": "sms", "status": "withdrawn",
                                "occurred_at": "2026-01-05T08:00:00+00:00"}, created_at=utcnow()),
    ]
    # When the relay applies them
    with pipeline.warehouse.transaction() as tx:
        replica.apply(tx, changes)
    # Then the replicas and the events hold them as before
    assert pipeline.warehouse.query("SELECT tag_id FROM customer_tags WHERE customer_id = %(c)s",
                                    {"c": 10**9 + 7}) == [(42,)]
    assert pipeline.warehouse.query("SELECT status FROM consents WHERE customer_id = %(c)s",
                                    {"c": 10**9 + 7}) == [("withdrawn",)]
    events = pipeline.warehouse.query("SELECT event FROM events WHERE customer_id = %(c)s ORDER BY event",
                                      {"c": 10**9 + 7})
    assert events == [("Consent Changed",), ("Tag Added",)]
