"""The sender job: claims due messages after commit, hands each to its channel adapter, records the outcome.

Claiming (queued → sending) commits before any network call, and the outcome is written in a second short
transaction, so no database lock is held while a channel answers. Adapters are kept per configuration (their
tokens and connections live on) and rebuilt when the configuration changes. Embedded mode runs this in a
background thread woken after each commit that queued messages; a worker process can run the same run_once().
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.background import Background, Worker
from yutang.kit.clock import utcnow
from yutang.messaging import service
from yutang.messaging.adapters.base import ChannelAdapter, ChannelError, SendResult
from yutang.messaging.models import ChannelConfig, Message
from yutang.messaging.schemas import Status
from yutang.storage.engine import unit_of_work

log = logging.getLogger(__name__)


class Dispatcher(Background):
    """Sends queued messages through their adapters; idempotent per message (a claimed message is sent once)."""

    def __init__(self, factory: sessionmaker[Session], *, batch_size: int = 200, idle_seconds: float = 5.0,
                 build: Callable[[Session, ChannelConfig], ChannelAdapter] = service.adapter_for):
        self.factory = factory
        self.batch_size = batch_size
        self.build = build
        self._adapters: dict[int, tuple[object, ChannelAdapter]] = {}
        self.worker = Worker(self.run_until_idle, name="yutang-sender", idle_seconds=idle_seconds)

    def stop(self) -> None:
        """Stop the background thread and close the adapters."""
        super().stop()
        for _, adapter in self._adapters.values():
            adapter.close()
        self._adapters.clear()

    def _adapter(self, session: Session, config: ChannelConfig) -> ChannelAdapter:
        version = (config.updated_at, config.secrets)
        cached = self._adapters.get(config.id)
        if cached is None or cached[0] != version:
            if cached is not None:
                cached[1].close()
            cached = (version, self.build(session, config))
            self._adapters[config.id] = cached
        return cached[1]

    def run_once(self, *, now: datetime | None = None) -> int:
        """Claim and send one batch of due messages; returns how many were attempted."""
        now = now or utcnow()
        with unit_of_work(self.factory) as session:
            claimed = service.claim_due(session, now=now, limit=self.batch_size)
            work = []
            for message, config in claimed:
                try:
                    adapter = self._adapter(session, config) if config.enabled else None
                except (KeyError, ValueError) as exc:
                    adapter = None
                    log.warning("channel %s cannot be built: %s", config.id, exc)
                work.append((message.id, service.outbound(message), adapter, config))
        outcomes = []
        for message_id, outbound, adapter, config in work:
            started = time.perf_counter()
            if adapter is None:
                result = SendResult.failed("channel_unavailable", f"messaging channel {config.id} is disabled or "
                                           "misconfigured")
            else:
                try:
                    result = self._send(adapter, outbound)
                except Exception as exc:  # an adapter bug must not leave the message claimed forever
                    log.exception("adapter %s failed on message %s", config.kind, message_id)
                    result = SendResult.failed("adapter_error", repr(exc), retryable=True)
            outcomes.append((message_id, result, int((time.perf_counter() - started) * 1000)))
        # One transaction records the batch; if it fails the claims go stale and are retried (at least once).
        with unit_of_work(self.factory) as session:
            service.record_attempts(session, outcomes=outcomes, now=utcnow() if now is None else now)
        return len(work)

    @staticmethod
    def _send(adapter: ChannelAdapter, outbound) -> SendResult:
        welcome = outbound.payload.get("welcome_code")
        if welcome and hasattr(adapter, "send_welcome"):
            try:
                adapter.send_welcome(welcome_code=welcome, text=outbound.body,
                                     attachments=outbound.payload.get("attachments", []))
            except ChannelError as exc:
                return exc.result()
            return SendResult.sent(f"welcome:{welcome}")
        return adapter.send(outbound)

    def run_until_idle(self, *, now: datetime | None = None) -> int:
        """Send batches until nothing is due."""
        total = 0
        while True:
            done = self.run_once(now=now)
            total += done
            if done < self.batch_size:
                return total

    def drain(self, *, now: datetime | None = None, timeout: float = 20.0) -> int:
        """Send everything due and wait for sends another thread has claimed (tests, graceful stops)."""
        deadline = time.monotonic() + timeout
        total = 0
        while True:
            total += self.run_until_idle(now=now)
            # Another sender may hold rows we skipped (claim under way) or be sending them: wait for both.
            with unit_of_work(self.factory) as session:
                busy = session.scalar(select(Message.id).where(
                    (Message.status == Status.SENDING)
                    | ((Message.status == Status.QUEUED) & (Message.next_attempt_at <= (now or utcnow()))))
                    .limit(1))
            if busy is None or time.monotonic() > deadline:
                return total
            time.sleep(0.02)
