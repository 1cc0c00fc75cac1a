"""The webhook sender: turns Yutang's own events into deliveries and POSTs due deliveries, signed.

Events reach it two ways. Those that come from outbox rows are owed by an outbox subscriber (`on_change`, run
after commit from its own cursor, through the same `events_of` mapping the relay uses), so every committed change
is delivered at least once. Those the warehouse jobs write themselves (segment entries and exits, lifecycle
stage changes) are read from the warehouse's events table after a persisted cursor (`collect`), with a small
overlap re-read and the event's message id as the delivery's key. Claiming (pending → sending) commits before any
network call and the outcome is written in a second short transaction, so no lock is held while a receiver
answers; a claim left by a dead sender comes back after STALE_CLAIM.
"""

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.background import Worker
from yutang.kit.clock import utcnow
from yutang.messaging.adapters.webhook import RETRY_STATUSES, headers_for
from yutang.storage import cursors
from yutang.storage.engine import unit_of_work
from yutang.warehouse.backends import DuckDBWarehouse, PostgresWarehouse
from yutang.warehouse.own_events import DIRECT_EVENTS, SOURCE, TOPICS, OutboxChange, OwnEvent, events_of
from yutang.webhooks import service
from yutang.webhooks.models import WebhookDelivery
from yutang.webhooks.schemas import DeliveryStatus

log = logging.getLogger(__name__)
CURSOR = "warehouse:webhooks.events"
SUBSCRIPTION = "webhooks"
OUTBOX_TOPICS = TOPICS


def on_change(session: Session, change: OutboxChange) -> None:
    """The outbox subscriber's handler: owe the row's events to the endpoints that want them."""
    service.enqueue(session, events=events_of(change))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Sender:
    """Collects direct events and sends due deliveries in a background thread; wake() after commits that queued
    deliveries, drain() in tests and graceful stops."""

    def __init__(self, factory: sessionmaker[Session], warehouse: DuckDBWarehouse | PostgresWarehouse, *,
                 batch_size: int = 100, overlap: timedelta = timedelta(minutes=2), idle_seconds: float = 5.0,
                 timeout: float = 10.0):
        self.factory = factory
        self.warehouse = warehouse
        self.batch_size = batch_size
        self.overlap = overlap
        self.http = httpx.Client(timeout=timeout)
        self._collecting = threading.Lock()
        self._worker = Worker(self._step, name="yutang-webhooks", idle_seconds=idle_seconds)

    def _step(self) -> None:
        self.collect()
        self.run_until_idle()

    # ---- direct events from the warehouse -------------------------------------------------------------------

    def collect_once(self) -> int:
        """Owe one page of direct events after the cursor (less the overlap); returns rows read on a full page."""
        with unit_of_work(self.factory) as session:
            wanted = service.subscribed_names(session)
            names = sorted({n for _, subscribed in wanted.values() for n in subscribed} & set(DIRECT_EVENTS))
            if not names:
                return 0
            cursor = cursors.lock(session, name=CURSOR)
            earliest = min(since for since, subscribed in wanted.values() if subscribed & set(names))
            position = cursor.position
            at = datetime.fromisoformat(position["at"]) if position.get("at") else earliest
            params: dict = {f"e{i}": name for i, name in enumerate(names)} | {"s": SOURCE}
            if position.get("page_at"):
                where = "(received_at > %(pa)s OR (received_at = %(pa)s AND message_id > %(pm)s))"
                params |= {"pa": datetime.fromisoformat(position["page_at"]), "pm": position["page_id"]}
            else:
                where = "received_at >= %(start)s"
                params["start"] = max(at, earliest) - self.overlap
            rows = self.warehouse.query(
                "SELECT workspace_id, message_id, event, customer_id, properties, ts, received_at FROM events "
                f"WHERE source = %(s)s AND event IN ({', '.join(f'%(e{i})s' for i in range(len(names)))}) "
                f"AND {where} ORDER BY received_at, message_id LIMIT {int(self.batch_size)}", params)
            service.enqueue(session, events=[
                OwnEvent(id=message_id, workspace_id=workspace_id, name=event, customer_id=customer_id,
                         properties=json.loads(properties) if isinstance(properties, str) else (properties or {}),
                         occurred_at=_aware(ts), recorded_at=_aware(received_at))
                for workspace_id, message_id, event, customer_id, properties, ts, received_at in rows])
            full = len(rows) == self.batch_size
            newest = max([at, *(_aware(row[6]) for row in rows)])
            cursors.save(session, cursor=cursor, position={"at": newest.isoformat(), **(
                {"page_at": _aware(rows[-1][6]).isoformat(), "page_id": rows[-1][1]} if full else {})})
            return len(rows) if full else 0

    def collect(self) -> int:
        """Owe every direct event in the warehouse so far."""
        total = 0
        with self._collecting:
            while read := self.collect_once():
                total += read
        return total

    # ---- sending --------------------------------------------------------------------------------------------

    def run_once(self, *, now: datetime | None = None) -> int:
        """Claim and send one batch of due deliveries; returns how many were attempted."""
        now = now or utcnow()
        with unit_of_work(self.factory) as session:
            work = [(delivery.id, endpoint.url, service.signing_secrets(session, endpoint, now=now),
                     delivery.event_id, delivery.body)
                    for delivery, endpoint in service.claim_due(session, now=now, limit=self.batch_size)]
        outcomes = []
        for delivery_id, url, secrets, event_id, body in work:
            started = time.perf_counter()
            status, error, retryable = self._post(url, secrets, event_id, body)
            outcomes.append((delivery_id, status, error, retryable, int((time.perf_counter() - started) * 1000)))
        # If this transaction fails the claims go stale and are sent again (at least once).
        with unit_of_work(self.factory) as session:
            for delivery_id, status, error, retryable, duration_ms in outcomes:
                service.record_attempt(session, delivery_id=delivery_id, status_code=status, error=error,
                                       retryable=retryable, duration_ms=duration_ms, now=now)
        return len(work)

    def _post(self, url: str, secrets: list[str], event_id: str, body: dict) -> tuple[int | None, str | None, bool]:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        msg_id = "msg_" + event_id.replace(":", "_")  # the same on every retry and replay of the event
        try:
            response = self.http.post(url, content=text.encode(), headers=headers_for(secrets, msg_id=msg_id,
                                                                                      body=text))
        except httpx.HTTPError as exc:
            return None, f"network: {exc or type(exc).__name__}", True
        except Exception as exc:  # a malformed URL or secret must not leave the delivery claimed
            log.exception("webhook delivery to %s failed", url)
            return None, f"error: {exc!r}", False
        if 200 <= response.status_code < 300:
            return response.status_code, None, False
        retry = response.status_code >= 500 or response.status_code in RETRY_STATUSES
        return response.status_code, f"http_{response.status_code}: {response.text[:200]}", retry

    def run_until_idle(self, *, now: datetime | None = None) -> int:
        """Send batches until nothing is due."""
        total = 0
        while True:
            done = self.run_once(now=now)
            total += done
            if done < self.batch_size:
                return total

    def drain(self, *, now: datetime | None = None, timeout: float = 20.0) -> int:
        """Collect and send everything due, waiting for deliveries another thread has claimed."""
        deadline = time.monotonic() + timeout
        self.collect()
        total = 0
        while True:
            total += self.run_until_idle(now=now)
            with unit_of_work(self.factory) as session:
                # A due row another thread is claiming is still PENDING to us (its lock is skipped), so wait on it too.
                busy = session.scalar(select(WebhookDelivery.id).where(or_(
                    WebhookDelivery.status == DeliveryStatus.SENDING,
                    (WebhookDelivery.status == DeliveryStatus.PENDING)
                    & (WebhookDelivery.next_attempt_at <= (now or utcnow()))
                    & WebhookDelivery.endpoint_id.in_(service.enabled_endpoints()))).limit(1))
            if busy is None or time.monotonic() > deadline:
                return total
            time.sleep(0.02)

    # ---- the thread ------------------------------------------------------------------------------------------

    def wake(self, _touched: object = None) -> None:
        """Look for work now (after commits that queued deliveries, and after warehouse commits)."""
        self._worker.wake()

    def start(self) -> None:
        """Send in the background."""
        self._worker.start()

    def stop(self) -> None:
        """Stop after the step under way."""
        self._worker.stop()

    def close(self) -> None:
        """Stop and close the HTTP connections."""
        self.stop()
        self.http.close()
