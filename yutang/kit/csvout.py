"""Reports as CSV text for download: UTF-8 with a BOM so spreadsheets on Chinese Windows read it as UTF-8."""

import csv
import io
from collections.abc import Iterable, Sequence


def to_csv(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """The header and rows as CSV text (None as an empty cell), BOM first."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return out.getvalue()
