"""What the loader needs to turn ids in events into customers (implemented by the composition root)."""

from datetime import datetime
from typing import Protocol

from yutang.customers.schemas import IdentityIn, IdentityKind, NewPerson


class CustomerResolver(Protocol):
    """Finds customers by ids in events, and upserts them (OneID, merging if identities link people)."""

    def lookup(self, workspace_id: int, kind: IdentityKind, values: set[str]) -> dict[str, int]:
        """Customer ids of the given non-personal identities, by value."""

    def identify(self, workspace_id: int, identities: list[IdentityIn], profile: dict) -> int:
        """Upsert the customer holding these identities, with profile traits; returns the customer id."""

    def seen(self, workspace_id: int, earliest: dict[int, datetime]) -> None:
        """Move customers' first_seen_at back to the earliest of their events, where that is older."""

    def create_many(self, workspace_id: int, people: list[NewPerson]) -> list[int | None]:
        """Create people known only by app user / anonymous ids in bulk; None for anyone who must be upserted."""
