"""The loader's customer resolver, backed by the OLTP store: OneID lookups and upserts (with merges)."""

from datetime import datetime

from yutang.archive import service as archive_service
from yutang.customers import service as customers_service
from yutang.customers.schemas import CustomerIn, IdentityIn, IdentityKind, NewPerson
from yutang.runtime.database import Database
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import system_actor


class OltpResolver:
    """Resolves ids found in events to customers, each call in its own unit of work."""

    def __init__(self, database: Database):
        self.database = database
        self._zones: dict[int, str] = {}

    def _actor(self, session, workspace_id: int):
        if workspace_id not in self._zones:
            self._zones[workspace_id] = workspaces_service.get_workspace(session, workspace_id=workspace_id).timezone
        return system_actor(workspace_id, timezone=self._zones[workspace_id])

    def lookup(self, workspace_id: int, kind: IdentityKind, values: set[str]) -> dict[str, int]:
        """Customer ids by app user id or anonymous id."""
        with self.database.read_only() as session:
            return customers_service.lookup_many(session, actor=self._actor(session, workspace_id), kind=kind,
                                                 values=values)

    def identify(self, workspace_id: int, identities: list[IdentityIn], profile: dict) -> int:
        """OneID upsert of the identities and profile; returns the surviving customer id."""
        with self.database.unit_of_work() as session:
            customer, _, _ = archive_service.upsert_customer(
                session, actor=self._actor(session, workspace_id),
                data=CustomerIn(identities=identities, **profile), merge_reason="identified by an event")
            return customer.id

    def seen(self, workspace_id: int, earliest: dict[int, datetime]) -> None:
        """Move customers' first_seen_at back to their earliest event where that is older."""
        with self.database.unit_of_work() as session:
            customers_service.seen_many(session, actor=self._actor(session, workspace_id), earliest=earliest)

    def create_many(self, workspace_id: int, people: list[NewPerson]) -> list[int | None]:
        """Create new people known only by app user / anonymous ids, all in one unit of work."""
        with self.database.unit_of_work() as session:
            return customers_service.create_many(session, actor=self._actor(session, workspace_id), people=people)
