"""Group commit for points awards: concurrent callers' awards are applied in one transaction, so N awards cost
one commit (one fsync on PostgreSQL) instead of N, as the event journal shares one fsync among appenders.

A caller hands its award to `Awarder.award` and returns once the transaction holding it has committed (durable,
like an award in its own unit of work). A committer thread takes everything queued while the previous commit was
under way and applies it with `batch.earn_many`. An award that cannot apply fails alone; if the batch's
transaction fails as a whole (a deadlock with another kind of writer, a key written concurrently), its awards are
applied again, and finally each in its own transaction.

The runtime starts the committer and stops it: stop() refuses new awards (`AwarderStopped`, 503) and returns
once everything queued before it has been committed (or has failed with its own error), so no award is dropped.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.errors import DomainError
from yutang.loyalty import batch, points, tiers
from yutang.loyalty.models import PointsEntry
from yutang.loyalty.schemas import EntryKind
from yutang.workspaces.access import Actor


class AwarderStopped(DomainError):
    """The server is stopping (or the awarder was not started): the award was not taken; send it again."""

    status, code, title = 503, "awards-stopped", "Awards are not being taken"


class _Pending:
    __slots__ = ("request", "outcome", "done")

    def __init__(self, request: batch.AwardRequest):
        self.request = request
        self.outcome: tuple[PointsEntry | batch.AwardedEntry, bool] | BaseException | None = None
        self.done = threading.Event()


class Awarder:
    """Collects concurrent awards of one process and commits them together (see the module's docstring)."""

    def __init__(self, factory: sessionmaker[Session], *, max_batch: int = 500, evaluate_tiers: bool = True):
        self.factory = factory  # the app's session factory (its after-commit hooks wake the outbox relay)
        self._connection: Connection | None = None  # the committer keeps one (no pool check-out per batch)
        self.max_batch = max_batch
        self.evaluate_tiers = evaluate_tiers
        self._queue: list[_Pending] = []
        self._wake = threading.Condition()
        self._committer: threading.Thread | None = None
        self._taking = False  # between start() and stop()
        self.batches = 0  # transactions committed, for tests and figures

    def start(self) -> None:
        """Start the committer thread (the runtime does, with the other background workers)."""
        with self._wake:
            if self._committer is None:
                self._taking = True
                self._committer = threading.Thread(target=self._commit_forever, name="yutang-points-awarder",
                                                   daemon=True)
                self._committer.start()

    def stop(self, *, timeout: float = 30) -> None:
        """Refuse new awards, commit every award already queued, then end the committer thread."""
        with self._wake:
            self._taking = False
            self._wake.notify()
            committer, self._committer = self._committer, None
        if committer is not None:
            committer.join(timeout=timeout)
        if self._connection is not None and (committer is None or not committer.is_alive()):
            self._connection.close()
            self._connection = None

    @property
    def thread(self) -> threading.Thread | None:
        """The committer thread while running."""
        return self._committer

    def award(self, actor: Actor, *, customer_id: int, points: int, key: str, reason: str = "",
              source_type: str | None = None, source_ref: str | None = None, rule_id: int | None = None,
              occurred_at: datetime | None = None, kind: str = EntryKind.EARN
              ) -> tuple[PointsEntry | batch.AwardedEntry, bool]:
        """Award points durably, as `points.earn` in its own unit of work would; returns (entry, created)."""
        pending = _Pending(points_request(actor, customer_id=customer_id, points=points, key=key, reason=reason,
                                          source_type=source_type, source_ref=source_ref, rule_id=rule_id,
                                          occurred_at=occurred_at, kind=kind))
        with self._wake:
            if not self._taking:
                raise AwarderStopped("points awards are not being taken right now (the server is stopping)")
            self._queue.append(pending)
            self._wake.notify()
        pending.done.wait()
        if isinstance(pending.outcome, BaseException):
            raise pending.outcome
        return pending.outcome

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction on the committer's connection: commit on success, roll back on any error."""
        if self._connection is None:
            self._connection = self.factory.kw["bind"].connect()
        session = self.factory(bind=self._connection)
        try:
            yield session
            session.commit()
        except BaseException as error:
            try:
                session.rollback()
            finally:
                if isinstance(error, DBAPIError):  # the connection may be broken: the next batch takes a fresh one
                    self._connection.close()
                    self._connection = None
            raise
        finally:
            session.close()

    def _commit_forever(self) -> None:
        while True:
            with self._wake:
                while not self._queue and self._taking:
                    self._wake.wait()
                if not self._queue:  # stopped, and everything queued before stop() is committed
                    return
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
            self._apply(batch)

    def _apply(self, batch: list[_Pending]) -> None:
        try:
            try:
                self._apply_together(batch, check_keys=False)  # keys are rarely repeated: don't look first
            except batch.BatchConflict:
                self._apply_together(batch, check_keys=True)
        except Exception:  # noqa: BLE001 - the batch as a whole failed: each award on its own, failing alone
            for pending in batch:
                try:
                    pending.outcome = self._apply_alone(pending.request)
                except Exception as error:  # noqa: BLE001
                    pending.outcome = error
        finally:
            for pending in batch:
                pending.done.set()

    def _apply_together(self, batch: list[_Pending], *, check_keys: bool) -> None:
        with self.unit_of_work() as session:
            done = batch.earn_many(session, [pending.request for pending in batch], check_keys=check_keys)
            outcomes = done.results
            if self.evaluate_tiers and done.tiered:
                seen = set()  # each customer re-rated once, after all of the batch's awards
                for pending, outcome in zip(batch, outcomes, strict=True):
                    actor = pending.request.actor
                    if isinstance(outcome, tuple) and outcome[1] and actor.workspace_id in done.tiered \
                            and (actor.workspace_id, outcome[0].customer_id) not in seen:
                        seen.add((actor.workspace_id, outcome[0].customer_id))
                        tiers.evaluate(session, actor=actor, customer_id=outcome[0].customer_id)
        self.batches += 1
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.outcome = outcome

    def _apply_alone(self, request: batch.AwardRequest) -> tuple[PointsEntry, bool]:
        with self.unit_of_work() as session:
            entry, created = points.earn(
                session, actor=request.actor, customer_id=request.customer_id, points=request.points,
                key=request.key, reason=request.reason, source_type=request.source_type,
                source_ref=request.source_ref, rule_id=request.rule_id, occurred_at=request.occurred_at,
                kind=request.kind)
            if created and self.evaluate_tiers:
                tiers.evaluate(session, actor=request.actor, customer_id=entry.customer_id)
            return entry, created


def points_request(actor: Actor, **fields) -> batch.AwardRequest:
    """An award request for `batch.earn_many`."""
    return batch.AwardRequest(actor=actor, **fields)
