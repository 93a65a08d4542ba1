"""Transfer lanes: which stores ship to which, on what timetable, and how long the goods travel.

The admin upsert writes them (`PUT /admin/v1/transfer-lanes`); an order that needs a transfer reads the
lanes into its pickup store (`transfer_sources`; the shopper's answers, for a page of stores at once:
`transfer_sources_into`) and asks `stores.hours.promise.transfer_eta` when each would arrive. Services take
the session first and never commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session, col, select

from retail import dialect
from retail.bulk import RowError, validate_rows
from retail.clock import utcnow
from stores.geo import geodesic_km
from stores.hours.promise import Timetable, transfer_eta
from stores.models import Store, TransferLane
from stores.network import schedule_for
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


@dataclass(frozen=True)
class TransferSource:
    """A store or warehouse that can send goods to a pickup store, and when goods it reserves now arrive."""

    store: Store
    distance_km: float
    eta: datetime


class Located(Protocol):
    """What the sources of a pickup store need of it: a `Store` row or the shoppers' `StoreView`."""

    @property
    def id(self) -> int | None: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


def transfer_sources(session: Session, *, store: Store, at: datetime) -> list[TransferSource]:
    """The sources with a lane into `store`, nearest first (then by code), each with the ETA of a transfer
    reserved at `at` (`transfer_eta`: the source's pick time in its opening hours, the lane's next
    departure, the transit). A lane that never departs, or a source that never opens, is left out."""
    assert store.id is not None
    return transfer_sources_into(session, stores=[store], at=at).get(store.id, [])


def transfer_sources_into(
    session: Session, *, stores: Sequence[Located], at: datetime
) -> dict[int, list[TransferSource]]:
    """`transfer_sources` of several pickup stores in one query, by pickup store id; a store without a
    lane into it is absent. The shopper's answers ask it for a page of stores at once."""
    targets = {s.id: s for s in stores if s.id is not None}
    if not targets:
        return {}
    rows = session.exec(
        select(TransferLane, Store)
        .join(Store, col(Store.id) == col(TransferLane.from_store_id))
        .where(col(TransferLane.to_store_id).in_(sorted(targets)))
        .order_by(col(TransferLane.to_store_id), col(TransferLane.from_store_id))
    ).all()
    found: dict[int, list[TransferSource]] = {}
    for lane, source in rows:
        target = targets[lane.to_store_id]
        if source.id == target.id:
            continue
        schedule = schedule_for(
            _hours_key(source),
            source.timezone,
            source.country,
            source.subdivision,
            source.closed_on_public_holidays,
        )
        eta = transfer_eta(
            schedule,
            Timetable.of(source.timezone, lane.departures),
            reserved_at=at,
            pick_minutes=source.pick_minutes,
            transit_hours=lane.transit_hours,
        )
        if eta is not None:
            distance = geodesic_km(target.lat, target.lon, source.lat, source.lon)
            found.setdefault(lane.to_store_id, []).append(TransferSource(source, distance, eta))
    return {
        target: sorted(sources, key=lambda s: (s.distance_km, s.store.code))
        for target, sources in found.items()
    }


def _hours_key(store: Store) -> str:
    # `schedule_for` caches compiled schedules by the hours' canonical JSON, as `stores.service` asks it.
    return json.dumps(store.hours, sort_keys=True)
