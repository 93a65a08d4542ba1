"""Opaque cursors for `{items, next_cursor}` lists.

A cursor is the JSON of the last position a page reached, base64url-encoded so that clients treat it as a
token and do not build their own. A cursor belongs to the query that made it: a list with filters passes
them as `scope`, and the cursor carries a digest of them, so the same cursor sent with other filters is
refused instead of silently skipping the rows the other query would have shown before that position.

Decoding is the one gate every cursor goes through, and a cursor is client input like any other: whatever
was tampered with (a number out of the database's range, NUL, a lone surrogate, a value of the wrong type
or a list of the wrong shape) is a 422 `invalid_cursor` naming `query.cursor`, never a database error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from retail.errors import RetailError, ValidationProblem

MAX_CURSOR_LENGTH = 512
# Positions hold ids, counters, ranks and distances: never negative, and an integer must fit the
# database's BIGINT (SQLite's driver raises on anything larger, PostgreSQL compares it as numeric).
MAX_POSITION_INT = 2**63 - 1
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_SCOPE_DIGEST_CHARS = 12


class InvalidCursor(RetailError):
    status_code = 422
    code = "invalid_cursor"
    problem = ValidationProblem

    def __init__(self, reason: str = "cursor is not one this endpoint gave out") -> None:
        super().__init__(reason, extra={"errors": [{"field": "query.cursor", "message": reason}]})


def encode_cursor(position: Sequence[object], *, scope: Mapping[str, object] | None = None) -> str:
    """The cursor of `position`, bound to the filters in `scope` (the route's name and every parameter
    that decides which rows come in which order) when given."""
    values = [scope_digest(scope), *position] if scope is not None else list(position)
    raw = json.dumps(values, separators=(",", ":"), allow_nan=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def scope_digest(scope: Mapping[str, object]) -> str:
    canonical = json.dumps(scope, sort_keys=True, separators=(",", ":"), allow_nan=False)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SCOPE_DIGEST_CHARS]


def decode_cursor(cursor: str) -> Any:
    """The JSON a cursor holds, or `InvalidCursor`. NaN and infinities are not JSON and are refused."""
    if len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(cursor):
        raise InvalidCursor()
    try:
        raw = base64.urlsafe_b64decode(cursor.rstrip("=") + "=" * (-len(cursor.rstrip("=")) % 4))
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidCursor() from exc


def decode_position(
    cursor: str | None, *kinds: type, scope: Mapping[str, object] | None = None
) -> tuple[Any, ...] | None:
    """The position a cursor holds, one value of each of `kinds` (int, float, str or datetime), checked to
    be in range and, with `scope`, to have been made for these filters. None without a cursor."""
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if not isinstance(value, list):
        raise InvalidCursor()
    if scope is not None:
        if not value or value[0] != scope_digest(scope):
            raise InvalidCursor("this cursor belongs to a query with other filters; start without one")
        value = value[1:]
    if len(value) != len(kinds):
        raise InvalidCursor()
    return tuple(_position_value(item, kind) for item, kind in zip(value, kinds, strict=True))


def _position_value(item: object, kind: type) -> Any:
    # JSON has one number type, and a bool is an int to Python: accept exactly what we wrote.
    if isinstance(item, bool):
        raise InvalidCursor()
    if kind is int and isinstance(item, int) and 0 <= item <= MAX_POSITION_INT:
        return item
    if kind is float and isinstance(item, int | float):
        try:
            number = float(item)
        except OverflowError as exc:  # an integer literal of hundreds of digits
            raise InvalidCursor() from exc
        if math.isfinite(number) and number >= 0:
            return number
    if kind is str and isinstance(item, str) and _is_clean_text(item):
        return item
    if kind is datetime and isinstance(item, str) and _is_clean_text(item):
        try:
            instant = datetime.fromisoformat(item)
        except ValueError as exc:
            raise InvalidCursor() from exc
        if instant.tzinfo is not None:
            return instant.astimezone(UTC)
    raise InvalidCursor()


def _is_clean_text(text: str) -> bool:
    """No NUL (PostgreSQL text cannot hold it) and no lone surrogate (no encoding can)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")
