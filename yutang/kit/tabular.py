"""Reading uploaded CSV: UTF-8 (with or without BOM) or GB18030 as Chinese spreadsheets save it."""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from yutang.kit.errors import Invalid


def decode(data: bytes) -> str:
    """Text of an upload: UTF-8 first, then GB18030 (Excel on Chinese Windows)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid("the file is neither UTF-8 nor GB18030 text", field="file")


def read_rows(data: bytes, *, required: set[str], known: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) with blank cells dropped; a missing required column fails the whole file."""
    reader = csv.DictReader(io.StringIO(decode(data), newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise Invalid("the file is empty", field="file")
    missing = required - set(header)
    if missing:
        raise Invalid(f"missing column(s): {', '.join(sorted(missing))}", field="file")
    unknown = set(header) - known
    if unknown:
        raise Invalid(f"unknown column(s): {', '.join(sorted(unknown))}", field="file")
    reader.fieldnames = header
    for row in reader:
        cells = {k: v.strip() for k, v in row.items() if k is not None and v is not None and v.strip()}
        if cells:
            yield reader.line_num, cells


@dataclass
class Record:
    """One CSV record: the file line it starts on, its cells by column, or why it could not be read.

    `lead` holds the cells read before the fault of an unreadable record, so the caller can still tell which
    group (e.g. which order) it belonged to."""

    line: int
    cells: dict[str, str] = field(default_factory=dict)
    error: Invalid | None = None
    lead: dict[str, str] = field(default_factory=dict)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class _Lines:
    """The file's physical lines, fed to one csv reader from a position that can be moved back."""

    def __init__(self, lines: list[str]) -> None:
        self.lines, self.position = lines, 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        if self.position >= len(self.lines):
            raise StopIteration
        self.position += 1
        return self.lines[self.position - 1]


def read_records(data: bytes, *, required: set[str], known: set[str]) -> Iterator[Record]:
    """Every record with its own fault: a broken quote or a row with more cells than the header fails only
    that row (reading resumes on its next line); a missing or unknown column still fails the whole file."""
    source = _Lines(_LINE.findall(decode(data)))
    reader = csv.reader(source, strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise Invalid("the header line cannot be read", field="file") from exc
    if not any(header):
        raise Invalid("the file is empty", field="file")
    missing = required - set(header)
    if missing:
        raise Invalid(f"missing column(s): {', '.join(sorted(missing))}", field="file")
    unknown = set(header) - known - {""}
    if unknown:
        raise Invalid(f"unknown column(s): {', '.join(sorted(unknown))}", field="file")
    while True:
        start = source.position
        try:
            fields = next(reader, None)
        except csv.Error:
            # Only this record's first line is lost: a quote left open would otherwise swallow the rest.
            source.position = start + 1
            first = source.lines[start]
            index = min(_fault(first), len(header) - 1)
            yield Record(start + 1, error=Invalid(f"a quoted cell is not closed properly (column {header[index]})",
                                                  field=header[index]),
                         lead=_cells(header, next(csv.reader([first]), [])[:index]))
            continue
        if fields is None:
            return
        cells = _cells(header, fields)
        if any(cell.strip() for cell in fields[len(header):]):
            yield Record(start + 1, error=Invalid(f"the row has {len(fields)} cells but the header names "
                                                  f"{len(header)} columns", field="row"), lead=cells)
        elif cells:
            yield Record(start + 1, cells)


def _cells(header: list[str], fields: list[str]) -> dict[str, str]:
    return {name: value.strip() for name, value in zip(header, fields, strict=False) if name and value.strip()}


def _fault(line: str) -> int:
    """Index of the cell whose quoting is broken: the one left open, or one with text after its closing quote."""
    index, quoted, fresh, at = 0, False, True, 0
    while at < len(line):
        char = line[at]
        if quoted and char == '"':
            if line[at + 1:at + 2] == '"':
                at += 2
                continue
            quoted = False
            if line[at + 1:at + 2] not in (",", "\r", "\n", ""):
                return index
        elif not quoted and char == '"' and fresh:
            quoted = True
        elif not quoted and char == ",":
            index += 1
            fresh = True
            at += 1
            continue
        fresh = False
        at += 1
    return index
