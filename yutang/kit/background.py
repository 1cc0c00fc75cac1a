"""A step run over and over in a daemon thread: at once when woken, else every few seconds."""

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Worker:
    """Runs `step` in a background thread after each wake() and at least every `idle_seconds`."""

    def __init__(self, step: Callable[[], object], *, name: str, idle_seconds: float):
        self.step = step
        self.name = name
        self.idle_seconds = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Run the step soon (cheap; safe from any thread)."""
        self._wake.set()

    def start(self) -> None:
        """Start the thread if it is not running."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, *, timeout: float = 30) -> None:
        """Stop after the step under way finishes."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.idle_seconds)
            self._wake.clear()
            try:
                self.step()
            except Exception:  # the loop must outlive a bad batch: the work stays queued and is retried
                log.exception("%s failed; will retry", self.name)

    @property
    def thread(self) -> threading.Thread | None:
        """The thread while running."""
        return self._thread


class Background:
    """A component whose work runs in one Worker: the runtime starts, wakes and stops it through these."""

    worker: Worker

    def start(self) -> None:
        """Run in the background until stop()."""
        self.worker.start()

    def wake(self) -> None:
        """Run soon (cheap; safe from any thread, e.g. after a commit that left work)."""
        self.worker.wake()

    def notify(self, _touched: object = None) -> None:
        """Wake, as a pipeline listener (after a commit or a warehouse batch)."""
        self.worker.wake()

    def stop(self) -> None:
        """Stop after the step under way finishes."""
        self.worker.stop()
