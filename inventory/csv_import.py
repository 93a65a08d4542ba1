"""Stock snapshots as CSV: the `PUT /sync/v1/stock` text/csv body and `retail stock import FILE.csv`.

The header names the columns (`store_code,sku,on_hand,as_of`, in any order); rows are parsed one at a time
from a byte stream, so a file of any size is read with flat memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

from inventory.exceptions import InvalidCsv
from retail.bulk import RowError

SNAPSHOT_COLUMNS = ("store_code", "sku", "on_hand", "as_of")


def snapshot_rows(
    stream: io.RawIOBase, *, on_row: Callable[[int], None] | None = None
) -> Iterator[tuple[int, dict[str, object] | RowError]]:
    """(index, row) for each data line; a file that cannot be read as CSV raises `InvalidCsv`."""
    text_stream = io.TextIOWrapper(io.BufferedReader(stream, 1 << 16), encoding="utf-8-sig", newline="")
    reader = csv.reader(text_stream, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidCsv(
                "the CSV is empty; its first line must be the header " + ",".join(SNAPSHOT_COLUMNS)
            )
        names = [name.strip() for name in header]
        if sorted(names) != sorted(SNAPSHOT_COLUMNS):
            raise InvalidCsv(
                f"the CSV header must name the columns {','.join(SNAPSHOT_COLUMNS)} (any order), "
                f"got {','.join(names)[:200]!r}",
                line=1,
            )
        width = len(names)
        index = -1
        for record in reader:
            if not record:  # a blank line, e.g. at the end of the file
                continue
            index += 1
            if on_row is not None:
                on_row(index)
            if len(record) != width:
                detail = f"row: {len(record)} fields where the header has {width}"
                yield index, RowError(index=index, code="invalid_row", detail=detail)
                continue
            yield index, dict(zip(names, record, strict=True))
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InvalidCsv(
            f"the CSV cannot be read at line {reader.line_num}: {exc}", line=reader.line_num
        ) from exc
