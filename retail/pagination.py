"""Opaque cursors for `{items, next_cursor}` lists.

A cursor is the JSON of the last position a page reached, base64url-encoded so that clients treat it as a
token and do not build their own. Anything that does not decode is a 422 naming `query.cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from retail.errors import RetailError, ValidationProblem

MAX_CURSOR_LENGTH = 512


class InvalidCursor(RetailError):
    status_code = 422
    code = "invalid_cursor"
    problem = ValidationProblem

    def __init__(self) -> None:
        super().__init__(
            "cursor is not one this endpoint gave out",
            extra={"errors": [{"field": "query.cursor", "message": "invalid cursor"}]},
        )


def encode_cursor(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc


def decode_position(cursor: str | None, *kinds: type) -> tuple[Any, ...] | None:
    """The position a cursor holds, checked to be one value of each of `kinds` (int, float or str)."""
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if not isinstance(value, list) or len(value) != len(kinds):
        raise InvalidCursor()
    position: list[Any] = []
    for item, kind in zip(value, kinds, strict=True):
        # JSON has one number type, and a bool is an int to Python: accept exactly what we wrote.
        if isinstance(item, bool):
            raise InvalidCursor()
        if kind is float and isinstance(item, int | float):
            position.append(float(item))
        elif isinstance(item, kind):
            position.append(item)
        else:
            raise InvalidCursor()
    return tuple(position)
