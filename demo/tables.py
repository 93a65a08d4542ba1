"""The demo chain's tables: the data files beside the generators (`demo/data/`), each read once."""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from importlib import resources
from typing import Any


def _text(name: str) -> str:
    return (resources.files("demo") / "data" / name).read_text(encoding="utf-8")


@cache
def json_table(name: str) -> Any:
    """The JSON data file `name`, parsed (shared by every caller: never change it)."""
    return json.loads(_text(name))


@cache
def csv_table(name: str) -> tuple[dict[str, str], ...]:
    """The rows of the CSV data file `name`, by column name (shared by every caller: never change them)."""
    return tuple(csv.DictReader(io.StringIO(_text(name))))
