"""Transfer lanes: which stores ship to which, on what timetable, and how long the goods travel.

The admin upsert writes them (`PUT /admin/v1/transfer-lanes`); an order that needs a transfer reads the
lanes into its pickup store (`lanes_to`) and asks `stores.hours.promise.transfer_eta` when each would
arrive. Services take the session first and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from retail import dialect
from retail.bulk import RowError, validate_rows
from retail.clock import utcnow
from stores.hours.promise import Timetable
from stores.models import Store, TransferLane
from stores.schemas import LaneIn, LaneUpsertResult

_ERROR_CODES = (
    ("from_store", "invalid_code"),
    ("to_store", "invalid_code"),
    ("departures", "invalid_departures"),
    ("transit_hours", "invalid_transit_hours"),
)


def _row_error_code(path: str) -> str:
    for prefix, code in _ERROR_CODES:
        if path == prefix or path.startswith(prefix + "."):
            return code
    return "invalid_row"


def upsert_lanes(session: Session, *, rows: Sequence[Any]) -> LaneUpsertResult:
    """Insert or replace lanes by (from_store, to_store); bad rows, unknown stores and a lane given twice
    are reported by index, and the rest apply."""
    valid, errors = validate_rows(rows, LaneIn, error_code=_row_error_code)
    codes = {code for _, lane in valid for code in (lane.from_store, lane.to_store)}
    ids = dict(session.exec(select(Store.code, Store.id).where(col(Store.code).in_(sorted(codes)))).all())
    first_index_of: dict[tuple[str, str], int] = {}
    values: list[dict[str, Any]] = []
    now = utcnow()
    for index, lane in valid:
        missing = next((f for f in ("from_store", "to_store") if getattr(lane, f) not in ids), None)
        if missing is not None:
            detail = f"{missing}: no store {getattr(lane, missing)!r}"
            errors.append(RowError(index=index, code="unknown_store", detail=detail))
            continue
        earlier = first_index_of.setdefault((lane.from_store, lane.to_store), index)
        if earlier != index:
            detail = f"the lane {lane.from_store} -> {lane.to_store} already appears at index {earlier}"
            errors.append(RowError(index=index, code="duplicate_lane", detail=detail))
            continue
        values.append(
            {
                "from_store_id": ids[lane.from_store],
                "to_store_id": ids[lane.to_store],
                "departures": lane.sorted_departures(),
                "transit_hours": float(lane.transit_hours),
                "updated_at": now,
            }
        )
    errors.sort(key=lambda e: e.index)
    if values:
        statement = dialect.insert(session, TransferLane.__table__)  # type: ignore[attr-defined]
        replaced = {c: statement.excluded[c] for c in ("departures", "transit_hours", "updated_at")}
        session.connection().execute(
            statement.on_conflict_do_update(index_elements=["from_store_id", "to_store_id"], set_=replaced),
            values,
        )
    return LaneUpsertResult(applied=len(values), errors=errors)


@dataclass(frozen=True)
class Lane:
    """A lane into a pickup store, ready for the promise rules."""

    from_store_id: int
    to_store_id: int
    timetable: Timetable
    transit_hours: float


def lanes_to(session: Session, *, store_id: int) -> list[Lane]:
    """The lanes into `store_id`, each timetable in its source's time zone, by source id."""
    rows = session.exec(
        select(TransferLane, Store.timezone)
        .join(Store, col(Store.id) == col(TransferLane.from_store_id))
        .where(TransferLane.to_store_id == store_id)
        .order_by(col(TransferLane.from_store_id))
    ).all()
    return [
        Lane(lane.from_store_id, lane.to_store_id, Timetable.of(zone, lane.departures), lane.transit_hours)
        for lane, zone in rows
    ]
