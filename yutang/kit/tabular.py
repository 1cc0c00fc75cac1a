"""Reading uploaded CSV: UTF-8 (with or without BOM) or GB18030 as Chinese spreadsheets save it."""

import csv
import io
from collections.abc import Iterator

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
