"""The webshop's stock sync: absolute counts (snapshots, as JSON or CSV) and relative movements.

The rules:
- A snapshot is the absolute count at `as_of`. One not newer than the stored `as_of` is stale and changes
  nothing. Otherwise `on_hand` becomes the count plus every recorded movement after `as_of`: those are not
  in the count yet, while movements before `as_of` already are.
- A movement counts once (by `movement_id`). It changes `on_hand` only if it happened after the stored
  `as_of`; an older one is already contained in the last count.
- No count or movement may be dated outside `inventory.instants`' window.

One path for every batch: rows are checked here field by field (or, for a CSV on PostgreSQL, copied in
as they are and checked in SQL), staged in a temporary table (`inventory.staging`), then written by a
handful of set-based statements (`inventory.merges`, `inventory.movement_merges`), so a 10,000-row request
or a million-row CSV costs a handful of round trips.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import IO

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from inventory import csv_import, movement_merges, staging
from inventory.codes import MOVEMENT_ID, MOVEMENT_ID_MAX_LENGTH, SKU
from inventory.instants import instant_problem
from inventory.merges import MAX_REPORTED_ERRORS, NEGATIVE_COUNT, SnapshotMerge, merge_snapshots
from inventory.schemas import MovementResult, SnapshotResult
from retail import dialect
from retail.bulk import RowError
from retail.clock import utcnow
from stores.codes import STORE_CODE

_SNAPSHOT_FIELDS = frozenset(csv_import.SNAPSHOT_COLUMNS)
_MOVEMENT_FIELDS = frozenset(("movement_id", "store_code", "sku", "delta", "at"))
_MAX_COUNT = 10_000_000
_MAX_DELTA = 1_000_000
# Bytes of a CSV body handed to COPY at a time.
_COPY_CHUNK = 1 << 20


# ------------------------------------------------------------------------------------------------ rows


def _integer(value: object, field: str, low: int, high: int) -> int | str:
    # A JSON integer only: JSON has true and "3" for what they are, and a reader of text (the CSV) turns
    # its fields into numbers itself.
    if isinstance(value, bool):
        return f"{field}: a whole number, not {str(value).lower()}"
    if isinstance(value, str):
        return f"{field}: a whole number, not the string {value[:40]!r}"
    if not isinstance(value, int):
        return f"{field}: a whole number"
    if not low <= value <= high:
        return f"{field}: must lie between {low} and {high}"
    return value


def _instant(value: object, field: str, *, now: datetime) -> datetime | str:
    if not isinstance(value, str) or len(value) > 40:
        return f"{field}: an RFC 3339 timestamp with an offset"
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return f"{field}: {value!r} is not an RFC 3339 timestamp"
    if parsed.tzinfo is None:
        return f"{field}: give an offset, e.g. {value}+01:00"
    problem = instant_problem(parsed, now=now)
    return f"{field}: {value!r} {problem}" if problem else parsed


def _unknown_field(index: int, unknown: set[str]) -> RowError:
    return RowError(index=index, code="invalid_row", detail=f"{sorted(unknown)[0]}: unknown field")


# The checks are written out in each parser rather than called: they run once a row, a million times for
# a large CSV read row by row.
_INVALID_STORE_CODE = ("invalid_store_code", "store_code: a store code")
_INVALID_SKU = ("invalid_sku", "sku: a sku")


def parse_snapshot(index: int, row: dict[str, object], *, now: datetime) -> staging.StagedSnapshot | RowError:
    """One snapshot row (JSON object or CSV record), checked field by field; fast enough for a million.
    `now` is the server's clock, which no count may be dated ahead of."""
    unknown = row.keys() - _SNAPSHOT_FIELDS
    if unknown:
        return _unknown_field(index, unknown)
    store_code, sku = row.get("store_code"), row.get("sku")
    if not (isinstance(store_code, str) and STORE_CODE.fullmatch(store_code)):
        return RowError(index=index, code=_INVALID_STORE_CODE[0], detail=_INVALID_STORE_CODE[1])
    if not (isinstance(sku, str) and SKU.fullmatch(sku)):
        return RowError(index=index, code=_INVALID_SKU[0], detail=_INVALID_SKU[1])
    on_hand = _integer(row.get("on_hand"), "on_hand", -_MAX_COUNT, _MAX_COUNT)
    if isinstance(on_hand, str):
        return RowError(index=index, code="invalid_on_hand", detail=on_hand)
    if on_hand < 0:
        return RowError(index=index, code="negative_on_hand", detail=NEGATIVE_COUNT)
    as_of = _instant(row.get("as_of"), "as_of", now=now)
    if isinstance(as_of, str):
        return RowError(index=index, code="invalid_date", detail=as_of)
    return staging.StagedSnapshot(index, store_code, sku, on_hand, as_of)


def parse_movement(index: int, row: dict[str, object], *, now: datetime) -> staging.StagedMovement | RowError:
    """One movement row, checked field by field."""
    unknown = row.keys() - _MOVEMENT_FIELDS
    if unknown:
        return _unknown_field(index, unknown)
    movement_id, store_code, sku = row.get("movement_id"), row.get("store_code"), row.get("sku")
    if not (isinstance(movement_id, str) and MOVEMENT_ID.fullmatch(movement_id)):
        detail = f"movement_id: 1-{MOVEMENT_ID_MAX_LENGTH} printable characters"
        return RowError(index=index, code="invalid_movement_id", detail=detail)
    if not (isinstance(store_code, str) and STORE_CODE.fullmatch(store_code)):
        return RowError(index=index, code=_INVALID_STORE_CODE[0], detail=_INVALID_STORE_CODE[1])
    if not (isinstance(sku, str) and SKU.fullmatch(sku)):
        return RowError(index=index, code=_INVALID_SKU[0], detail=_INVALID_SKU[1])
    delta = _integer(row.get("delta"), "delta", -_MAX_DELTA, _MAX_DELTA)
    if isinstance(delta, str):
        return RowError(index=index, code="invalid_delta", detail=delta)
    at = _instant(row.get("at"), "at", now=now)
    if isinstance(at, str):
        return RowError(index=index, code="invalid_date", detail=at)
    return staging.StagedMovement(index, movement_id, store_code, sku, delta, at)


# ------------------------------------------------------------------------------------------- snapshots


def apply_snapshots(
    session: Session, *, rows: Iterable[tuple[int, dict[str, object] | RowError]]
) -> SnapshotResult:
    """Absolute counts (JSON rows or a CSV stream, as (index, row)), each checked here field by field. A
    row a reader could not split into fields arrives as its error."""
    errors: list[RowError] = []
    error_count = 0
    now = utcnow()

    def valid_rows() -> Iterator[staging.StagedSnapshot]:
        nonlocal error_count
        for index, row in rows:
            parsed = row if isinstance(row, RowError) else parse_snapshot(index, row, now=now)
            if isinstance(parsed, RowError):
                error_count += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append(parsed)
            else:
                yield parsed

    staged = staging.stage_snapshots(session, valid_rows())
    return _snapshot_result(merge_snapshots(session, checked=True, staged=staged), errors, error_count)


def apply_snapshot_csv(session: Session, *, body: IO[bytes]) -> SnapshotResult:
    """A snapshot CSV of any size, read from `body` (the spooled request body, or a file)."""
    return dialect.pick(session, postgresql=_copy_csv, sqlite=_read_csv)(session, body)


def _read_csv(session: Session, body: IO[bytes]) -> SnapshotResult:
    """Row by row, in Python: names each bad row."""
    return apply_snapshots(session, rows=csv_import.snapshot_rows(body))


def _copy_csv(session: Session, body: IO[bytes]) -> SnapshotResult:
    """The bytes go straight into COPY and SQL checks and casts them: no Python work per row, which is
    what makes a million rows take seconds. If COPY or a cast meets a row it cannot read, the body is
    read again from the start, row by row."""
    columns, data = csv_import.split_header(iter(partial(body.read, _COPY_CHUNK), b""))
    try:
        with session.begin_nested():
            staged = staging.stage_snapshot_csv(session, columns, csv_import.without_blank_lines(data))
            merged = merge_snapshots(session, checked=False, staged=staged)
    except (DBAPIError, psycopg.Error) as exc:
        if not dialect.is_bad_input(exc):
            raise
        body.seek(0)
        return _read_csv(session, body)
    return _snapshot_result(merged, [], 0)


def _snapshot_result(merged: SnapshotMerge, errors: list[RowError], error_count: int) -> SnapshotResult:
    errors.extend(merged.problems)
    errors.sort(key=lambda e: e.index)
    return SnapshotResult(
        applied=merged.applied,
        stale=merged.stale,
        errors=errors[:MAX_REPORTED_ERRORS],
        errors_omitted=max(0, error_count + merged.problem_count - MAX_REPORTED_ERRORS),
    )


# ------------------------------------------------------------------------------------------- movements


def record_movements(session: Session, *, rows: Sequence[dict[str, object]]) -> MovementResult:
    """Relative changes from the webshop, idempotent by `movement_id`."""
    errors: list[RowError] = []
    staged: list[staging.StagedMovement] = []
    now = utcnow()
    for index, row in enumerate(rows):
        parsed = parse_movement(index, row, now=now)
        if isinstance(parsed, RowError):
            errors.append(parsed)
        else:
            staged.append(parsed)
    staging.stage_movements(session, staged)
    errors += movement_merges.unknown_codes(session)
    outcome = movement_merges.merge_movements(session)
    errors.sort(key=lambda e: e.index)
    return MovementResult(
        applied=outcome.applied, duplicates=outcome.duplicates, errors=errors[:MAX_REPORTED_ERRORS]
    )
