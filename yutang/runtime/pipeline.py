"""The analytics side of a running server: the warehouse it owns and the relay that feeds it."""

from dataclasses import dataclass

from sqlalchemy import event

from yutang.runtime.database import Database
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse, open_warehouse
from yutang.warehouse.relay import Relay


@dataclass
class Pipeline:
    """Warehouse + relay; in embedded mode the server process is the warehouse's only writer."""

    warehouse: DuckDBWarehouse | PostgresWarehouse
    relay: Relay

    def start(self) -> None:
        """Begin relaying in the background (and right after every commit)."""
        self.relay.start()

    def stop(self) -> None:
        """Stop relaying and close the warehouse."""
        self.relay.stop()
        self.warehouse.close()


def open_pipeline(database: Database, *, warehouse_url: str | None = None) -> Pipeline:
    """Open the configured warehouse and wire the relay to wake after each OLTP commit."""
    warehouse = open_warehouse(warehouse_url or database.settings.resolved_warehouse_url)
    relay = Relay(database.factory, warehouse)
    event.listen(database.factory, "after_commit", lambda _session: relay.notify())
    return Pipeline(warehouse=warehouse, relay=relay)
