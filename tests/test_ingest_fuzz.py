"""Gate: generated Segment messages, good and bad mixed, through the running pipeline on this run's stores.

Every good message is loaded and attributed; every bad one is refused with 400 naming it (nothing stored), or
stored, and where something was dropped it is dead-lettered with its reason; the pipeline never stops.
"""

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.helpers.events import basic, new_source
from yutang.events.messages import MAX_DEPTH

BAD_PHONES = ["12345", "abc", "+86 000"]
BAD_EMAILS = ["a@ex.test", "not-an-email", "a@b", "a@localhost"]
text = st.text(alphabet=st.characters(codec=None, exclude_categories=("Cs",)), max_size=12)
odd_text = st.sampled_from(["a\x00b", "\x00", "x\ud800y", "\udfff", "\ud83d", "ok\x00\ud800"])
leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=False), text,
                 odd_text)
properties = st.dictionaries(text, st.recursive(leaf, lambda inner: st.lists(inner, max_size=3)
                                                | st.dictionaries(text, inner, max_size=3), max_leaves=8),
                             max_size=4)


@st.composite
def message(draw):
    """(kind of case, message): good, bad_trait, odd_text, too_deep, unknown_type, huge_number."""
    case = draw(st.sampled_from(["good", "good", "bad_trait", "odd_text", "too_deep", "unknown_type",
                                 "huge_number"]))
    user = f"fz-{draw(st.integers(0, 40))}"
    kind = draw(st.sampled_from(["track", "identify", "page"]))
    body: dict = {"type": kind, "userId": user, "properties": draw(properties)}
    if kind == "track":
        body["event"] = draw(st.sampled_from(["Viewed", "Paid", "签到"]))
    if kind == "page":
        body["name"], body["category"] = "首页", draw(text)
    if kind == "identify":
        body["traits"] = {"name": draw(text), "email": f"{user}@example.com"}
    if case == "bad_trait":
        body["type"], body["traits"] = "identify", draw(st.sampled_from(
            [{"phone": p} for p in BAD_PHONES] + [{"email": e} for e in BAD_EMAILS]))
    elif case == "odd_text":
        body["properties"]["s"] = draw(odd_text)
        body["userId"] = user + draw(st.sampled_from(["\x00", "\ud800", ""]))
    elif case == "too_deep":
        nested: dict = {}
        for _ in range(MAX_DEPTH + draw(st.integers(0, 5))):
            nested = {"a": nested}
        body["properties"] = nested
    elif case == "unknown_type":
        body["type"] = draw(st.sampled_from(["teleport", "", "Track"]))
    elif case == "huge_number":
        body["properties"]["n"] = draw(st.sampled_from([10**300, -(10**200), 1e308, float("inf")]))
    return case, body


@pytest.fixture
def write_key(api):
    return new_source(api, "fuzz", "server")


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@seed(20261204)
@given(batch=st.lists(message(), min_size=1, max_size=6))
def test_generated_messages_never_stop_the_pipeline(client, api, pipeline, tenant, write_key, batch):
    headers = {**basic(write_key), "Content-Type": "application/json"}
    sent = {}
    for case, body in batch:
        body = {**body, "messageId": f"fz-{uuid.uuid4()}"}
        # json.dumps writes lone surrogates as \\ud800 escapes and inf as Infinity, as a sloppy client would
        response = client.post("/v1/batch", content=json.dumps({"batch": [body]}).encode(), headers=headers)
        if case in ("too_deep", "unknown_type"):
            assert response.status_code == 400, response.text
            assert response.json()["errors"][0]["field"] == "batch[0]"
        else:
            assert response.status_code == 200, (case, response.text)
            sent[body["messageId"]] = case
    pipeline.catch_up()
    rows = dict(pipeline.warehouse.query(
        "SELECT message_id, customer_id FROM events WHERE workspace_id = %(w)s AND message_id = ANY(%(m)s)",
        {"w": tenant.id, "m": list(sent)}))
    assert set(rows) == set(sent), "every acknowledged message is stored"
    letters = {x["message_id"]: x for x in api.get("/v1/events/dead-letters", params={"limit": 200}).json()["items"]}
    for message_id, case in sent.items():
        assert rows[message_id] is not None, (case, "attributed")
        if case == "bad_trait":
            assert letters[message_id]["stage"] == "trait" and "traits." in letters[message_id]["error"]
        else:
            assert message_id not in letters, letters.get(message_id)
