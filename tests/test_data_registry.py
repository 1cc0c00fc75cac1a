"""The per-customer data registry: every table that references a customer is registered, and merge, export and
erase each do to a table what its entry declares."""

from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, and_, or_, select

from tests.peers.smtp import smtp_server
from yutang.archive.registry import CHANGED_PROFILE, REGISTRY
from yutang.kit.clock import utcnow
from yutang.kit.personal_data import KEEP, OMIT, CustomerTable, collect, nothing_personal
from yutang.orders.models import Order
from yutang.runtime.models import metadata

REFERENCE_NAMES = {"customer_id", "winner_id", "loser_id", "merged_into_id"}
BLANK = (None, "", {}, [], "(erased)", {"scrubbed": True})


def customer_references(table: Table) -> set[str]:
    """Columns pointing at a customer: foreign keys to customers.id and columns named for a customer id."""
    return {c.name for c in table.columns
            if any(fk.target_fullname == "customers.id" for fk in c.foreign_keys)
            or c.name in REFERENCE_NAMES or c.name.endswith("_customer_id")}


def unregistered(meta: MetaData, registry) -> list[str]:
    """Tables (with the columns) that reference a customer without a registry entry declaring those columns."""
    declared: dict[str, set[str]] = {}
    for entry in registry:
        declared.setdefault(entry.name, set()).update(entry.references)
    return [f"{table.name}: {sorted(customer_references(table) - declared.get(table.name, set()))}"
            for table in meta.sorted_tables if customer_references(table) - declared.get(table.name, set())]


def test_every_table_that_references_a_customer_is_registered_once():
    assert unregistered(metadata, REGISTRY) == []
    names = [entry.name for entry in REGISTRY]
    assert len(names) == len(set(names))
    for entry in REGISTRY:
        table = metadata.tables[entry.name]
        assert set(entry.references) | set(entry.only) <= set(table.columns.keys()), entry.name
        assert set(entry.erase.columns) <= set(table.columns.keys()), entry.name


def test_a_new_table_referencing_a_customer_fails_the_check():
    copy = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(copy)
    Table("referrals", copy, Column("id", Integer, primary_key=True),
          Column("referrer_id", Integer, ForeignKey("customers.id")))
    Table("store_visits", copy, Column("id", Integer, primary_key=True), Column("visitor_customer_id", Integer))
    assert sorted(unregistered(copy, REGISTRY)) == ["referrals: ['referrer_id']",
                                                  "store_visits: ['visitor_customer_id']"]


def test_an_entry_says_what_each_operation_does_and_why():
    with pytest.raises(ValueError, match="collect"):
        CustomerTable(Order, merge=collect("orders", len), export=OMIT, erase=KEEP, reason="x")
    with pytest.raises(ValueError, match="why"):
        CustomerTable(Order, merge=KEEP, export=OMIT, erase=KEEP, reason="")
    plain = nothing_personal(Order, reason="ids only")
    assert (plain.merge.verb, plain.export.verb, plain.erase.verb) == ("keep", "omit", "keep")


# ---- a customer with a row in most registered tables ----------------------------------------------------------


@pytest.fixture(scope="module")
def smtp_port():
    with smtp_server() as (_, port):
        yield port


def _seed(api, app, pipeline, port: int, suffix: str) -> int:
    """A customer with identities, a note, consent, tag, order, points, a static list, a message, an inbox thread
    and a broadcast outcome, all made through the API."""
    phone = f"1390000{suffix:0>4}"
    store = f"store{suffix}"
    assert api.post("/v1/channels", json={"code": store, "name": store, "kind": "store"}).status_code == 201
    made = api.post("/v1/customers", json={"name": f"顾客{suffix}", "city": "杭州", "first_channel": store,
                                           "identities": [{"kind": "phone", "value": phone},
                                                          {"kind": "email", "value": f"p{suffix}@example.com"}]})
    assert made.status_code == 200, made.text
    cid = made.json()["customer"]["id"]
    group = api.post("/v1/tag-groups", json={"name": f"G{suffix}", "tags": ["t"]}).json()
    assert api.post(f"/v1/customers/{cid}/tags", json={"add": [{"id": group["tags"][0]["id"]}]}).status_code == 200
    assert api.post(f"/v1/customers/{cid}/notes", json={"body": "住在西湖边"}).status_code == 201
    assert api.post(f"/v1/customers/{cid}/consents", json={"channel": "sms", "status": "granted", "method": "form",
                                                           "source": f"门店 {phone}"}).status_code == 201
    order = api.post("/v1/orders", json={"external_id": f"O{suffix}", "channel": store, "status": "completed",
                                         "placed_at": "2026-02-01T10:00:00+08:00", "customer_id": cid,
                                         "raw": {"receiver": "顾客", "address": "西湖路 1 号"},
                                         "lines": [{"sku": "S1", "quantity": 1, "unit_price_fen": 5000}]})
    assert order.status_code == 200, order.text
    adjusted = api.post("/v1/loyalty/points/adjust", json={"customer_id": cid, "points": 50,
                                                            "idempotency_key": f"adj-{suffix}", "reason": "来电补偿"})
    assert adjusted.status_code in (200, 201), adjusted.text
    config = api.post("/v1/messaging/channels", json={"kind": "email", "name": f"M{suffix}", "settings": {
        "host": "127.0.0.1", "port": port, "sender": "brand@shop.example"}}).json()
    sent = api.post("/v1/messages", json={"channel_id": config["id"], "customer_id": cid, "subject": "新茶",
                                          "body": "您好，新茶到了"})
    assert sent.status_code == 202, sent.text
    wrote = api.post("/v1/inbox/messages", json={"channel_id": config["id"], "identity_kind": "phone",
                                                 "identity_value": phone, "body": "有货吗？"})
    assert wrote.status_code == 201 and wrote.json()["customer_id"] == cid, wrote.text
    template = api.post("/v1/messaging/templates", json={"name": f"T{suffix}", "channel_kind": "email",
                                                         "subject": "通知", "purpose": "service",
                                                         "body": "{{ name }}您好"}).json()
    listed = api.post("/v1/segments", json={"name": f"L{suffix}", "kind": "static", "customer_ids": [cid]}).json()
    now = utcnow()
    broadcast = api.post("/v1/broadcasts", json={"name": f"B{suffix}", "segment_ids": [listed["id"]],
                                                 "channel_id": config["id"], "template_id": template["id"],
                                                 "send_at": now.isoformat()})
    assert broadcast.status_code == 201, broadcast.text
    pipeline.catch_up()
    app.state.broadcaster.run_due(now=now)
    app.state.dispatcher.drain()
    return cid


SEEDED = {"customers", "channel_memberships", "customer_identities", "customer_notes", "consent_entries",
          "customer_tags", "orders", "points_accounts", "points_entries", "points_lots", "messages", "inbox_threads",
          "broadcast_recipients", "segment_static_members", "audit_log", "outbox"}


def _about(entry, customer_id: int):
    """The condition selecting an entry's rows about one customer."""
    table = metadata.tables[entry.name]
    refs = [table.c[ref] == customer_id for ref in entry.references]
    if entry.name == "customers":
        refs.append(table.c.id == customer_id)
    return and_(or_(*refs), *(table.c[column] == value for column, value in entry.only.items()))


def _rows(session, customer_id: int) -> dict[str, dict[int, dict]]:
    return {entry.name: {row.id: dict(row._mapping) for row in session.execute(
                select(metadata.tables[entry.name]).where(_about(entry, customer_id)))}
            for entry in REGISTRY}


def test_export_holds_messages_with_addresses_threads_and_broadcast_outcomes(api, app, pipeline, smtp_port):
    cid = _seed(api, app, pipeline, smtp_port, "11")
    data = api.get(f"/v1/customers/{cid}/export").json()
    sent = next(m for m in data["messages"] if m["body"] == "您好，新茶到了")
    assert {m["body"] for m in data["messages"]} >= {"您好，新茶到了", "有货吗？"}
    assert sent["address"] == "p11@example.com"  # unmasked: the message's address is the person's email
    assert [t["subject"] for t in data["inbox_threads"]] == ["有货吗？"]
    assert [(r["broadcast"], r["customer_id"]) for r in data["broadcast_recipients"]] == [("B11", cid)]
    sections = {entry.export.key for entry in REGISTRY if entry.export.verb == "collect"}
    assert sections <= set(data), sections - set(data)
    assert {"profile", "identities", "consents", "notes", "merges", "audit", "loyalty"} <= set(data)
    assert data["profile"]["name"] == "顾客11" and data["orders"][0]["external_id"] == "O11"


def test_erase_does_to_each_table_what_the_registry_declares(api, app, pipeline, database, smtp_port):
    cid = _seed(api, app, pipeline, smtp_port, "21")
    with database.unit_of_work() as session:
        before = _rows(session, cid)
    assert {name for name, rows in before.items() if rows} >= SEEDED
    assert api.post(f"/v1/customers/{cid}/erase").status_code == 200
    with database.unit_of_work() as session:
        after = _rows(session, cid)
    for entry in REGISTRY:
        was, now = before[entry.name], after[entry.name]
        if entry.erase.verb == "delete":
            assert now == {}, entry.name
        elif entry.erase.verb == "keep":
            assert set(was) <= set(now), entry.name
        else:
            assert set(was) <= set(now), entry.name
            for row in now.values():
                for column in entry.erase.columns:
                    value = row[column]
                    if entry.name == "outbox":
                        assert all(value.get(f) is None for f in CHANGED_PROFILE), value
                    else:
                        assert value in BLANK, (entry.name, column, value)
    exported = api.get(f"/v1/customers/{cid}/export").json()
    assert "p21@example.com" not in str(exported) and "西湖" not in str(exported) and "有货" not in str(exported)


def test_merge_does_to_each_table_what_the_registry_declares(api, app, pipeline, database, smtp_port):
    winner, loser = _seed(api, app, pipeline, smtp_port, "31"), _seed(api, app, pipeline, smtp_port, "32")
    with database.unit_of_work() as session:
        before = _rows(session, loser)
    assert {name for name, rows in before.items() if rows} >= SEEDED
    merged = api.post(f"/v1/customers/{winner}/merge", json={"loser_id": loser, "reason": "same person"})
    assert merged.status_code == 200, merged.text
    assert merged.json()["moved"]["broadcast_recipients"] == 1 and merged.json()["moved"]["messages"] == 3
    with database.unit_of_work() as session:
        after = _rows(session, loser)
    for entry in REGISTRY:
        if entry.merge.verb == "move":
            assert after[entry.name] == {}, entry.name
        else:
            assert set(before[entry.name]) <= set(after[entry.name]), entry.name
    exported = api.get(f"/v1/customers/{winner}/export").json()
    assert {r["broadcast"] for r in exported["broadcast_recipients"]} == {"B31", "B32"}
    assert len(exported["inbox_threads"]) == 2 and exported["merges"][0]["loser_id"] == loser
    # The merged record is the same person: erasing the winner scrubs what stayed with it (audit, merge snapshot).
    assert api.post(f"/v1/customers/{winner}/erase").status_code == 200
    with database.unit_of_work() as session:
        ghost = _rows(session, loser)
    assert ghost["audit_log"] and ghost["customer_merges"]
    for entry in REGISTRY:
        if entry.erase.verb == "scrub" and entry.name != "outbox":
            assert all(row[c] in BLANK for row in ghost[entry.name].values() for c in entry.erase.columns), entry.name


# ---- docs/personal-data.md holds the registry as it is ----------------------------------------------------------


def registry_table() -> str:
    """The registry as the Markdown table in docs/personal-data.md."""
    rows = ["| table | merge | export | erase | why |", "|---|---|---|---|---|"]
    for entry in REGISTRY:
        export = "omitted" if entry.export.verb == "omit" else f"`{entry.export.key}`"
        erase = entry.erase.verb + (f" {', '.join(entry.erase.columns)}" if entry.erase.columns else "")
        rows.append(f"| `{entry.name}` | {entry.merge.verb} | {export} | {erase} | {entry.reason} |")
    return "\n".join(rows)


def test_the_docs_list_the_registry_as_it_is():
    page = (Path(__file__).parent.parent / "docs" / "personal-data.md").read_text(encoding="utf-8")
    assert registry_table() in page, "replace the table in docs/personal-data.md with:\n" + registry_table()
