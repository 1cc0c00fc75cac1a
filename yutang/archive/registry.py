"""The per-customer data registry: every domain's tables that reference a customer, composed once.

Merge, export and erase all walk this registry; `tests/test_data_registry.py` fails when a table in the metadata
references a customer and is not in it. A new domain adds its `personal_data.TABLES` to `DOMAINS` below.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yutang.customers import personal_data as customers_data
from yutang.customers.service import PROFILE_FIELDS
from yutang.groupbuy import personal_data as groupbuy_data
from yutang.groups import personal_data as groups_data
from yutang.journeys import personal_data as journeys_data
from yutang.kit.personal_data import KEEP, OMIT, CustomerTable, Step, scrub
from yutang.loyalty import personal_data as loyalty_data
from yutang.messaging import personal_data as messaging_data
from yutang.orders import personal_data as orders_data
from yutang.referral import personal_data as referral_data
from yutang.segments import personal_data as segments_data
from yutang.storage.outbox import OutboxRow
from yutang.storage.topics import Topic
from yutang.stores import personal_data as stores_data
from yutang.tags import personal_data as tags_data
from yutang.workspaces import personal_data as workspaces_data

# What customer.changed rows of the outbox carry of the profile (the replica never holds names or identities).
CHANGED_PROFILE = tuple(f for f in (*PROFILE_FIELDS, "source_campaign") if f != "name")


def scrub_outbox(session: Session, *, customer_id: int) -> None:
    """Blank the profile the outbox's customer.changed rows carried to the warehouse."""
    for row in session.scalars(select(OutboxRow).where(OutboxRow.topic == Topic.CUSTOMER_CHANGED,
                                                       OutboxRow.entity_id == customer_id)):
        row.payload = {**row.payload, **dict.fromkeys(CHANGED_PROFILE)}


STORAGE = (
    CustomerTable(OutboxRow, merge=KEEP, export=OMIT, erase=scrub("payload", fn=scrub_outbox),
                  reason="changes already relayed to the warehouse, which merges and erases its own copy; the "
                         "profile they carried is blanked", references=("entity_id",),
                  only={"topic": Topic.CUSTOMER_CHANGED.value}),
)

DOMAINS: tuple[tuple[CustomerTable, ...], ...] = (
    customers_data.TABLES, tags_data.TABLES, orders_data.TABLES, messaging_data.TABLES, loyalty_data.TABLES,
    segments_data.TABLES, workspaces_data.TABLES, stores_data.TABLES, groups_data.TABLES, journeys_data.TABLES,
    referral_data.TABLES,
    groupbuy_data.TABLES,
    STORAGE,
)
REGISTRY: tuple[CustomerTable, ...] = tuple(entry for tables in DOMAINS for entry in tables)


def _calls(steps: Iterable[Step]) -> Iterator[Step]:
    """Steps with a function, each (key, function) once: one function often serves several tables."""
    seen: set[tuple[str | None, Any]] = set()
    for step in steps:
        if step.fn is not None and (step.key, step.fn) not in seen:
            seen.add((step.key, step.fn))
            yield step


def move_all(session: Session, *, from_id: int, to_id: int) -> dict[str, int]:
    """Every registered move but the customer domain's own; returns counts by key."""
    moved: dict[str, int] = {}
    for step in _calls(entry.merge for entry in REGISTRY):
        moved[step.key] = moved.get(step.key, 0) + step.fn(session, from_id=from_id, to_id=to_id)
    return moved


def collect_all(session: Session, *, customer_id: int) -> dict[str, Any]:
    """Every registered export section of one customer."""
    data: dict[str, Any] = {}
    for step in _calls(entry.export for entry in REGISTRY):
        data[step.key] = step.fn(session, customer_id=customer_id)
    return data


def erase_all(session: Session, *, customer_ids: list[int]) -> None:
    """Every registered scrub and delete but the customer domain's own, for each of the ids."""
    steps = list(_calls(entry.erase for entry in REGISTRY))
    for customer_id in customer_ids:
        for step in steps:
            step.fn(session, customer_id=customer_id)
