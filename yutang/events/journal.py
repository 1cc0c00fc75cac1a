"""The ingest journal: append-only segment files, fsync'd before a request is acknowledged.

An acknowledged event is on disk here until the loader has committed it to the warehouse together with the
journal position it reached, so a kill -9 at any moment loses nothing that was acknowledged.
"""

import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".log"


@dataclass(frozen=True, order=True)
class Position:
    """A place in the journal: segment number and byte offset within it."""

    segment: int
    offset: int


def _name(segment: int) -> str:
    return f"{segment:012d}{SUFFIX}"


class Journal:
    """Append lines durably (group commit: concurrent appenders share one fsync) and read them back in order."""

    def __init__(self, directory: Path, *, segment_bytes: int = 64 * 1024 * 1024):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self._buffer: list[bytes] = []
        self._buffer_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._queued = 0
        self._flushed = 0
        segments = self.segments()
        self._segment = segments[-1] if segments else 1
        self._file = open(self.directory / _name(self._segment), "ab")  # noqa: SIM115 - held for the journal's life
        self._repair_tail()
        self.listeners: list = []
        self.name = self._identity()

    def _identity(self) -> str:
        # Each journal has its own id, so several servers can checkpoint into one shared warehouse.
        path = self.directory / "journal.id"
        if not path.exists():
            path.write_text(f"journal-{uuid.uuid4()}")
        return path.read_text().strip()

    def segments(self) -> list[int]:
        """Segment numbers present, oldest first."""
        return sorted(int(p.stem) for p in self.directory.glob(f"*{SUFFIX}") if p.stem.isdigit())

    def _repair_tail(self) -> None:
        # A crash mid-write can leave a partial last line that was never acknowledged: cut it off.
        path = self.directory / _name(self._segment)
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            self._file.truncate(data.rfind(b"\n") + 1)
            os.fsync(self._file.fileno())

    def append(self, lines: list[bytes]) -> None:
        """Write the lines and return once they are on disk."""
        if not lines:
            return
        with self._buffer_lock:
            self._buffer.append(b"".join(line + b"\n" for line in lines))
            self._queued += 1
            ticket = self._queued
        with self._flush_lock:
            if self._flushed >= ticket:  # another appender's fsync already covered these lines
                return
            with self._buffer_lock:
                chunk = b"".join(self._buffer)
                self._buffer.clear()
                upto = self._queued
            self._file.write(chunk)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._flushed = upto
            if self._file.tell() >= self.segment_bytes:
                self._rotate()
        for listener in self.listeners:
            listener()

    def _rotate(self) -> None:
        self._file.close()
        self._segment += 1
        self._file = open(self.directory / _name(self._segment), "ab")  # noqa: SIM115
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # make the new segment's name durable too
        finally:
            os.close(directory)

    def start(self) -> Position:
        """The position of the oldest line still kept."""
        segments = self.segments()
        return Position(segments[0] if segments else 1, 0)

    def read(self, position: Position, *, max_lines: int, max_bytes: int = 8 * 1024 * 1024,
             until: Position | None = None) -> tuple[list[bytes], Position]:
        """Complete lines from a position onward (stopping at until, a line boundary), and the position after the
        last one returned."""
        lines: list[bytes] = []
        segment, offset = position.segment, position.offset
        while len(lines) < max_lines:
            if until is not None and Position(segment, offset) >= until:
                break
            if until is not None and segment == until.segment:
                max_bytes = min(max_bytes, until.offset - offset)
            path = self.directory / _name(segment)
            finished = segment < self._segment  # no appender writes to it any more
            if not path.exists():
                later = [s for s in self.segments() if s > segment]
                if not later:
                    break
                segment, offset = later[0], 0
                continue
            with open(path, "rb") as handle:
                handle.seek(offset)
                data = handle.read(max_bytes)
                at_end = handle.tell() >= os.fstat(handle.fileno()).st_size
            end = data.rfind(b"\n")
            if end >= 0:
                chunk = data[: end + 1].split(b"\n")[:-1][: max_lines - len(lines)]
                lines.extend(chunk)
                offset += sum(len(line) + 1 for line in chunk)
            if finished and at_end and offset >= path.stat().st_size:
                segment, offset = segment + 1, 0
                continue
            break
        return lines, Position(segment, offset)

    def discard_before(self, position: Position) -> None:
        """Delete whole segments that lie entirely before a committed position."""
        for segment in self.segments():
            if segment < position.segment and segment != self._segment:
                (self.directory / _name(segment)).unlink(missing_ok=True)

    def close(self) -> None:
        """Close the current segment."""
        self._file.close()
