"""The analytics side of a running server: the warehouse it owns, the relay and the event ingest that feed it."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

from sqlalchemy import event

from yutang.events import service as events_service
from yutang.events.ingest import Ingest
from yutang.events.journal import Journal
from yutang.events.loader import Loader
from yutang.groups import tasks as groups_tasks
from yutang.journeys.listener import Listener as JourneyListener
from yutang.lifecycle import tasks as lifecycle_tasks
from yutang.loyalty import rules as loyalty_rules
from yutang.loyalty.earning import EventEarner
from yutang.referral import flows as referral_flows
from yutang.runtime.database import Database
from yutang.runtime.resolution import OltpResolver
from yutang.runtime.schedule import Job, Scheduler
from yutang.runtime.subscribers import Subscribers, Subscription
from yutang.segments import flows as segments_flows
from yutang.segments.membership import Membership
from yutang.storage import outbox
from yutang.storage.topics import Topic
from yutang.stores import tasks as stores_tasks
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse, open_warehouse
from yutang.warehouse.relay import Relay
from yutang.webhooks import sender as webhooks_sender
from yutang.webhooks.service import QUEUED_FLAG as WEBHOOKS_QUEUED

LIFECYCLE_AT = time(3, 0)  # stages, RFM and value are refreshed nightly at 03:00 in each workspace's zone
SEGMENTS_AT = time(3, 30)  # dynamic segments are rebuilt nightly (time windows move with the clock)
BEHAVIOR_AT = time(2, 0)  # WeCom's contact statistics of a day are complete the next morning
GROUP_SENDS_AT = time(21, 0)  # waiting group sends are read after the guides' working day
REFERRAL_AT = time(1, 0)  # freezes end and held rewards go out before the morning's figures


@dataclass
class Pipeline:
    """Warehouse, outbox relay, event journal and loader, and the scheduler of periodic warehouse jobs; in embedded
    mode the server is the only writer."""

    warehouse: DuckDBWarehouse | PostgresWarehouse
    relay: Relay
    journal: Journal
    loader: Loader
    ingest: Ingest
    subscribers: Subscribers
    earner: EventEarner
    scheduler: Scheduler
    segments: Membership
    webhooks: webhooks_sender.Sender
    journeys: JourneyListener

    def start(self) -> None:
        """Begin relaying, loading, delivering outbox rows to subscribers, earning on events and running scheduled
        jobs in the background."""
        self.relay.start()
        self.loader.start()
        self.segments.tagger.start()
        self.subscribers.start()
        self.earner.start()
        self.scheduler.start()
        self.webhooks.start()
        self.journeys.start()

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
        self.journeys.catch_up()
        self.segments.tagger.catch_up()
        self.relay.catch_up()  # what the side effects wrote (points entries, auto-tags) reaches the warehouse too
        self.segments.tagger.catch_up()  # and the auto-tags that decided

    def pause(self) -> None:
        """Stop the background threads (the warehouse stays open)."""
        self.journeys.stop()
        self.webhooks.stop()
        self.scheduler.stop()
        self.earner.stop()
        self.subscribers.stop()
        self.loader.stop()
        self.relay.stop()
        self.segments.tagger.stop()  # last: the loader and relay queue auto-tags until they stop

    def stop(self) -> None:
        """Stop the background threads and close the journal and the warehouse."""
        self.pause()
        self.webhooks.close()
        self.journal.close()
        self.warehouse.close()


def open_pipeline(database: Database, *, warehouse_url: str | None = None) -> Pipeline:
    """Open the warehouse and the journal, and wire the relay to wake after each OLTP commit."""
    settings = database.settings
    warehouse = open_warehouse(warehouse_url or settings.resolved_warehouse_url)
    relay = Relay(database.factory, warehouse)
    subscribers = Subscribers(database.factory, [Subscription(
        name="loyalty.orders", topics=frozenset({Topic.ORDER_PAID, Topic.ORDER_REFUNDED}),
        handler=loyalty_rules.handle_order_change), Subscription(
        name=referral_flows.SUBSCRIPTION, topics=referral_flows.TOPICS, handler=referral_flows.on_change), Subscription(
        name=webhooks_sender.SUBSCRIPTION, topics=webhooks_sender.OUTBOX_TOPICS, handler=webhooks_sender.on_change)])
    webhooks = webhooks_sender.Sender(database.factory, warehouse)

    def wake_relay(session) -> None:
        # Only commits that wrote outbox rows wake them; the relay's own commits must not (that would spin).
        if outbox.take_written_flag(session):
            relay.notify()
            subscribers.notify()
        if session.info.pop(WEBHOOKS_QUEUED, False):
            webhooks.wake()

    event.listen(database.factory, "after_commit", wake_relay)
    journal = Journal(settings.data_dir / "journal")
    loader = Loader(journal, warehouse, OltpResolver(database))
    earner = EventEarner(database.factory, warehouse)

    def authenticate(write_key: str) -> tuple[int, int]:
        with database.unit_of_work() as session:
            return events_service.authenticate(session, write_key=write_key)

    scheduler = Scheduler(database.factory)
    pipeline = Pipeline(warehouse=warehouse, relay=relay, journal=journal, loader=loader,
                        ingest=Ingest(journal, authenticate), subscribers=subscribers, earner=earner,
                        scheduler=scheduler, segments=Membership(database.factory, warehouse),
                        webhooks=webhooks, journeys=JourneyListener(database.factory, warehouse))
    pipeline.on_touched(earner.notify)
    pipeline.on_touched(pipeline.segments.on_touched)  # dynamic segments follow every event and change
    pipeline.on_touched(webhooks.wake)  # segment entries and exits are written on those commits
    pipeline.on_touched(pipeline.journeys.notify)  # exits, goals and entries on every event

    def refresh_lifecycle(actor, _slot) -> None:
        pipeline.catch_up()
        lifecycle_tasks.compute(database.factory, warehouse, actor=actor)

    def rebuild_segments(actor, slot) -> None:
        pipeline.catch_up()
        segments_flows.rebuild_all(database.factory, pipeline.segments, now=slot, workspace_id=actor.workspace_id)

    scheduler.register(Job(name="lifecycle.compute", at=LIFECYCLE_AT, run=refresh_lifecycle))
    # After the lifecycle refresh, so rules on stages and RFM classes see the night's scores.
    scheduler.register(Job(name="segments.rebuild", at=SEGMENTS_AT, run=rebuild_segments))
    scheduler.register(Job(name="stores.behavior", at=BEHAVIOR_AT,
                           run=lambda actor, slot: stores_tasks.fetch_behavior(database.factory, actor=actor,
                                                                               now=slot)))
    scheduler.register(Job(name="stores.group_sends", at=GROUP_SENDS_AT,
                           run=lambda actor, _slot: stores_tasks.sync_group_sends(database.factory, actor=actor)))
    scheduler.register(Job(name="groups.sync", at=GROUP_SENDS_AT,
                           run=lambda actor, _slot: groups_tasks.sync_waiting(database.factory, actor=actor)))
    scheduler.register(Job(name="referral.nightly", at=REFERRAL_AT,
                           run=lambda actor, slot: referral_flows.nightly(database.factory, actor=actor, now=slot)))
    return pipeline
