"""What the loader needs from the OLTP store: ids in events to customers, and a place for dead letters."""

from datetime import datetime
from typing import Protocol

from yutang.customers.schemas import CustomerFields, IdentityIn, IdentityKind, NewPerson
from yutang.events.deadletters import SetAside


class CustomerResolver(Protocol):
    """Finds customers by ids in events, and upserts them (OneID, merging if identities link people)."""

    def lookup(self, workspace_id: int, kind: IdentityKind, values: set[str]) -> dict[str, int]:
        """Customer ids of the given non-personal identities, by value."""

    def identify(self, workspace_id: int, identities: list[IdentityIn], profile: dict
                 ) -> tuple[int | None, list[tuple[IdentityIn, str]]]:
        """Upsert the customer holding the valid identities, with profile traits; returns the customer id (None
        when no identity is valid) and each invalid identity, dropped, with why."""

    def seen(self, workspace_id: int, earliest: dict[int, datetime]) -> None:
        """Move customers' first_seen_at back to the earliest of their events, where that is older."""

    def create_many(self, workspace_id: int, people: list[NewPerson],
                    profiles: list[CustomerFields | None] | None = None) -> list[int | None]:
        """Create new people with their identities (none namespaced) and profiles in bulk; None for anyone who
        must be upserted one by one."""

    def set_aside(self, entries: list[SetAside]) -> None:
        """Record dead letters, committed before the loader moves past them."""
