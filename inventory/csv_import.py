"""Stock snapshots as CSV: the `PUT /sync/v1/stock` text/csv body and `retail stock import FILE.csv`.

The header names the columns (`store_code,sku,on_hand,as_of`, in any order); rows are parsed one at a time
from a byte stream, so a file of any size is read with flat memory.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from inventory.exceptions import InvalidCsv
from retail.bulk import RowError

SNAPSHOT_COLUMNS = ("store_code", "sku", "on_hand", "as_of")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,18}")


def snapshot_rows(
    stream: io.RawIOBase | IO[bytes], *, on_row: Callable[[int], None] | None = None
) -> Iterator[tuple[int, dict[str, object] | RowError]]:
    """(index, row) for each data line, `on_hand` a whole number (the JSON body's type), the rest text; a
    file that cannot be read as CSV raises `InvalidCsv`."""
    buffered = io.BufferedReader(stream, 1 << 16) if isinstance(stream, io.RawIOBase) else stream
    text_stream = io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")
    reader = csv.reader(text_stream, strict=True)
    try:
        names = header_columns(next(reader, None))
        width = len(names)
        on_hand_at = names.index("on_hand")
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
            row: dict[str, object] = dict(zip(names, record, strict=True))
            on_hand = _whole_number(record[on_hand_at])
            if on_hand is None:
                detail = f"on_hand: {record[on_hand_at][:40]!r} is not a whole number"
                yield index, RowError(index=index, code="invalid_on_hand", detail=detail)
                continue
            row["on_hand"] = on_hand
            yield index, row
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InvalidCsv(
            f"the CSV cannot be read at line {reader.line_num}: {exc}", line=reader.line_num
        ) from exc


def header_columns(header: list[str] | None) -> list[str]:
    """The column names of a header line split into its fields (None: the file is empty); raises
    `InvalidCsv` unless they are the snapshot's columns, in any order. The one check of both readers."""
    if header is None:
        raise InvalidCsv("the CSV is empty; its first line must be the header " + ",".join(SNAPSHOT_COLUMNS))
    names = [name.strip() for name in header]
    if sorted(names) != sorted(SNAPSHOT_COLUMNS):
        raise InvalidCsv(
            f"the CSV header must name the columns {','.join(SNAPSHOT_COLUMNS)} (any order), "
            f"got {','.join(names)[:200]!r}",
            line=1,
        )
    return names


def split_header(chunks: Iterator[bytes]) -> tuple[list[str], Iterator[bytes]]:
    """The CSV header's column names, and the chunks of the data that follows it."""
    buffered = b""
    for chunk in chunks:
        buffered += chunk
        end = buffered.find(b"\n")
        if end >= 0:
            break
        if len(buffered) > 4096:
            raise InvalidCsv("the first line (the header) is longer than 4096 bytes", line=1)
    else:
        end = len(buffered)
    try:
        header_line = buffered[:end].decode("utf-8-sig").strip()
    except UnicodeDecodeError as exc:
        raise InvalidCsv(f"the header is not UTF-8: {exc}", line=1) from exc
    try:
        header = next(csv.reader([header_line], strict=True)) if header_line else None
    except csv.Error as exc:
        raise InvalidCsv(f"the CSV cannot be read at line 1: {exc}", line=1) from exc
    names = header_columns(header)
    rest = buffered[end + 1 :]

    def data() -> Iterator[bytes]:
        if rest:
            yield rest
        yield from chunks

    return names, data()


def _whole_number(text: str) -> int | None:
    """A CSV field as an integer (spaces around it allowed), or None when it is not one."""
    stripped = text.strip()
    return int(stripped) if _WHOLE_NUMBER.fullmatch(stripped) else None


_BLANK_LINES = re.compile(rb"\n(?:[ \t]*\n)+")


def without_blank_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Drop empty lines, which COPY would read as rows with missing fields (files often end with some).

    Safe because no field of a stock count can hold a line break.
    """
    previous_ended_line = True  # the header's line break came before the first chunk
    carry = b""
    for raw in chunks:
        # COPY wants one line-ending style: CRLF becomes LF (a CR at a chunk's end waits for the next).
        chunk = (carry + raw).replace(b"\r\n", b"\n")
        carry = b"\r" if chunk.endswith(b"\r") else b""
        chunk = _BLANK_LINES.sub(b"\n", chunk[: len(chunk) - len(carry)])
        if previous_ended_line:
            chunk = chunk.lstrip(b"\r\n \t")
        if chunk:
            previous_ended_line = chunk.endswith(b"\n")
            yield chunk
    if carry:
        yield carry
