"""The customer domain's entries in the per-customer data registry (merge and erase of these rows are
`service.absorb` and `service.erase`, which archive runs last, as they act on the customer row itself)."""

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from yutang.customers import service
from yutang.customers.models import (
    ChannelMembership,
    ConsentEntry,
    Customer,
    CustomerIdentity,
    CustomerNote,
    MergeRecord,
)
from yutang.kit.personal_data import KEEP, CustomerTable, collect, delete, move, scrub


def section(name: str) -> Callable[..., Any]:
    """One section of the customer domain's export (profile, identities, channel_memberships, consents, notes)."""
    def export(session: Session, *, customer_id: int) -> Any:
        return service.export(session, customer=session.get(Customer, customer_id))[name]
    return export


def export_merges(session: Session, *, customer_id: int) -> list[dict[str, Any]]:
    """The merges the customer took part in, with the prior profile of the merged record."""
    return [{"winner_id": m.winner_id, "loser_id": m.loser_id, "reason": m.reason, "moved": m.moved,
             "loser_snapshot": m.loser_snapshot, "at": m.created_at.isoformat()}
            for m in service.merges_of(session, customer_id=customer_id)]


TABLES = (
    CustomerTable(Customer, merge=KEEP, export=collect("profile", section("profile")),
                  erase=scrub(*service.PROFILE_FIELDS, "attributes"),
                  reason="the loser stays as a tombstone pointing at the winner; erase keeps an anonymous tombstone",
                  references=("merged_into_id",)),
    CustomerTable(CustomerIdentity, merge=move("identities"), export=collect("identities", section("identities")),
                  erase=delete(), reason="phones, emails and ids that recognise the person"),
    CustomerTable(ChannelMembership, merge=move("memberships"),
                  export=collect("channel_memberships", section("channel_memberships")), erase=KEEP,
                  reason="which channels the person is in; kept anonymously for channel aggregates"),
    CustomerTable(ConsentEntry, merge=move("consents"), export=collect("consents", section("consents")),
                  erase=scrub("source"),
                  reason="the consent ledger is evidence and stays; its free-text source may name the person"),
    CustomerTable(CustomerNote, merge=move("notes"), export=collect("notes", section("notes")), erase=delete(),
                  reason="staff's free text about the person"),
    CustomerTable(MergeRecord, merge=KEEP, export=collect("merges", export_merges), erase=scrub("loser_snapshot"),
                  reason="the history of merges stays; the merged record's prior profile is personal",
                  references=("winner_id", "loser_id")),
)
