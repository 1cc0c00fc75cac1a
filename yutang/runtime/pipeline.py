"""The analytics side of a running server: the warehouse it owns, the relay and the event ingest that feed it."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event

from yutang.events import service as events_service
from yutang.events.ingest import Ingest
from yutang.events.journal import Journal
from yutang.events.loader import Loader
from yutang.runtime.database import Database
from yutang.runtime.resolution import OltpResolver
from yutang.segments.membership import Membership
from yutang.storage import outbox
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse, open_warehouse
from yutang.warehouse.relay import Relay


@dataclass
class Pipeline:
    """Warehouse, outbox relay, event journal and loader; in embedded mode the server is the only writer."""

    warehouse: DuckDBWarehouse | PostgresWarehouse
    relay: Relay
    journal: Journal
    loader: Loader
    ingest: Ingest
    segments: Membership

    def start(self) -> None:
        """Begin relaying and loading in the background."""
        self.relay.start()
        self.loader.start()

    def on_touched(self, listener: Callable[[dict[int, set[int]]], None]) -> None:
        """Call listener(customer ids by workspace) after every warehouse commit of the loader or the relay."""
        self.loader.listeners.append(listener)
        self.relay.listeners.append(listener)

    def catch_up(self) -> None:
        """Bring the warehouse up to every commit and every acknowledged event (read-your-writes)."""
        self.loader.catch_up()
        self.relay.catch_up()

    def pause(self) -> None:
        """Stop the background threads (the warehouse stays open)."""
        self.loader.stop()
        self.relay.stop()

    def stop(self) -> None:
        """Stop the background threads and close the journal and the warehouse."""
        self.pause()
        self.journal.close()
        self.warehouse.close()


def open_pipeline(database: Database, *, warehouse_url: str | None = None) -> Pipeline:
    """Open the warehouse and the journal, and wire the relay to wake after each OLTP commit."""
    settings = database.settings
    warehouse = open_warehouse(warehouse_url or settings.resolved_warehouse_url)
    relay = Relay(database.factory, warehouse)
    def wake_relay(session) -> None:
        # Only commits that wrote outbox rows wake it; the relay's own commits must not (that would spin).
        if outbox.take_written_flag(session):
            relay.notify()

    event.listen(database.factory, "after_commit", wake_relay)
    journal = Journal(settings.data_dir / "journal")
    loader = Loader(journal, warehouse, OltpResolver(database))

    def authenticate(write_key: str) -> tuple[int, int]:
        with database.unit_of_work() as session:
            return events_service.authenticate(session, write_key=write_key)

    pipeline = Pipeline(warehouse=warehouse, relay=relay, journal=journal, loader=loader,
                        ingest=Ingest(journal, authenticate), segments=Membership(database.factory, warehouse))
    pipeline.on_touched(pipeline.segments.on_touched)  # dynamic segments follow every event and change
    return pipeline
