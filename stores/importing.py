"""Reading store files for the CLI import: CSV (one store a row, hours in OpenStreetMap syntax) or JSON
(the admin API's store objects). Rows come out in the admin upsert's shape, so one validator serves both."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

_ADDRESS = ("street", "postcode", "city", "country", "subdivision")
_OPTIONAL_SCALARS = (
    "phone",
    "click_and_collect",
    "low_stock_threshold",
    "hold_hours",
    "pick_minutes",
    "return_days",
    "handover_minutes",
    "closed_on_public_holidays",
    "opening_hours",
    "kind",
    "daily_order_capacity",
    "same_day_cutoff",
    "click_and_collect_paused",
    "hold_opening_hours",
)
CSV_COLUMNS = ("code", "name", *_ADDRESS, "lat", "lon", "timezone", *_OPTIONAL_SCALARS)


_INTEGERS = frozenset(
    {
        "low_stock_threshold",
        "hold_hours",
        "pick_minutes",
        "return_days",
        "handover_minutes",
        "daily_order_capacity",
        "hold_opening_hours",
    }
)
_BOOLEANS = frozenset({"click_and_collect", "closed_on_public_holidays", "click_and_collect_paused"})
_BOOLEAN_WORDS = {
    **dict.fromkeys(("true", "t", "yes", "y", "on", "1"), True),
    **dict.fromkeys(("false", "f", "no", "n", "off", "0"), False),
}
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,9}")


def csv_row_to_store(row: dict[str, str | None]) -> dict[str, Any]:
    """A CSV row as a store object; blanks mean "not given", and validation happens in the upsert.

    The upsert takes JSON's types only (a number for `lat`, `true` for `click_and_collect`), so the cells
    that hold numbers or yes/no are read here; one that does not read as its type is passed on as text,
    for the upsert to report it by its field."""

    def cell(name: str) -> str | None:
        value = row.get(name)
        return value.strip() if value and value.strip() else None

    store: dict[str, Any] = {
        "code": cell("code"),
        "name": cell("name"),
        "address": {name: cell(name) for name in _ADDRESS if cell(name) is not None},
        "location": {"lat": _typed("lat", cell("lat")), "lon": _typed("lon", cell("lon"))},
        "timezone": cell("timezone"),
    }
    store.update({name: _typed(name, cell(name)) for name in _OPTIONAL_SCALARS if cell(name) is not None})
    return store


def _typed(name: str, text: str | None) -> object:
    if text is None:
        return None
    if name in ("lat", "lon"):
        try:
            return float(text)
        except ValueError:
            return text
    if name in _INTEGERS:
        return int(text) if _WHOLE_NUMBER.fullmatch(text) else text
    if name in _BOOLEANS:
        return _BOOLEAN_WORDS.get(text.lower(), text)
    return text


def count_rows(path: Path) -> int:
    """How many stores a file holds, for the progress bar."""
    if path.suffix.lower() == ".json":
        return sum(1 for _ in read_store_file(path))
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def read_store_file(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix.lower() == ".json":
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
        rows = data.get("stores") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise ValueError('a JSON store file holds a list of stores or {"stores": [...]}')
        yield from rows
        return
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from read_store_csv(handle)


def read_store_csv(handle: TextIO) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(handle)
    missing = {"code", "name", "city", "country", "lat", "lon", "timezone"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(
            f"the CSV header lacks {', '.join(sorted(missing))}; columns: {', '.join(CSV_COLUMNS)}"
        )
    for row in reader:
        yield csv_row_to_store(row)
