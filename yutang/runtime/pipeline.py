"""The analytics side of a running server: the warehouse it owns, the relay and the event ingest that feed it."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event

from yutang.events import service as events_service
from yutang.events.ingest import Ingest
from yutang.events.journal import Journal
from yutang.events.loader import Loader
from yutang.loyalty import rules as loyalty_rules
from yutang.loyalty.earning import EventEarner
from yutang.runtime.database import Database
from yutang.runtime.resolution import OltpResolver
from yutang.runtime.subscribers import Subscribers, Subscription
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
    subscribers: Subscribers
    earner: EventEarner

    def start(self) -> None:
        """Begin relaying, loading, delivering outbox rows to subscribers and earning on events in the background."""
        self.relay.start()
        self.loader.start()
        self.subscribers.start()
        self.earner.start()

    def subscribe(self, subscription: Subscription) -> None:
        """Run a side effect after commit for every outbox row of the subscription's topics."""
        self.subscribers.add(subscription)

    def on_touched(self, listener: Callable[[dict[int, set[int]]], None]) -> None:
        """Call listener(customer ids by workspace) after every warehouse commit of the loader or the relay."""
        self.loader.listeners.append(listener)
        self.relay.listeners.append(listener)

    def catch_up(self) -> None:
        """Bring the warehouse, subscribers and event earning up to every commit and acknowledged event."""
        self.loader.catch_up()
        self.relay.catch_up()
        self.subscribers.catch_up()
        self.earner.catch_up()
        self.relay.catch_up()  # what the side effects wrote (points entries) reaches the warehouse too

    def pause(self) -> None:
        """Stop the background threads (the warehouse stays open)."""
        self.earner.stop()
        self.subscribers.stop()
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
    subscribers = Subscribers(database.factory, [Subscription(
        name="loyalty.orders", topics=frozenset({"order.paid", "order.refunded"}),
        handler=loyalty_rules.handle_order_change)])

    def wake_relay(session) -> None:
        # Only commits that wrote outbox rows wake them; the relay's own commits must not (that would spin).
        if outbox.take_written_flag(session):
            relay.notify()
            subscribers.notify()

    event.listen(database.factory, "after_commit", wake_relay)
    journal = Journal(settings.data_dir / "journal")
    loader = Loader(journal, warehouse, OltpResolver(database))
    earner = EventEarner(database.factory, warehouse)

    def authenticate(write_key: str) -> tuple[int, int]:
        with database.unit_of_work() as session:
            return events_service.authenticate(session, write_key=write_key)

    pipeline = Pipeline(warehouse=warehouse, relay=relay, journal=journal, loader=loader,
                        ingest=Ingest(journal, authenticate), subscribers=subscribers, earner=earner)
    pipeline.on_touched(earner.notify)
    return pipeline
