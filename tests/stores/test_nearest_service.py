"""The nearest-store service on PostgreSQL equals a brute-force geodesic ranking (hypothesis)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from geopy.distance import geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from stores import service as stores_service
from tests.factories import make_stores, store_row

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday: stores with weekday hours are open


def _random_chain(seed: int, size: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for i in range(size):
        lat = round(rng.uniform(50.7, 53.5), 4)
        lon = round(rng.uniform(2.5, 7.2), 4)
        # Every 25th store shares its neighbour's spot, to exercise the tie-break by code.
        location = rows[-1]["location"] if i % 25 == 0 and rows else {"lat": lat, "lon": lon}
        weekend_only = {"weekly": {"saturday": [{"opens": "09:00", "closes": "17:00"}]}, "special": []}
        code = f"S{rng.randrange(10**6):06d}-{i}"
        click_and_collect = rng.random() < 0.7
        hours: dict[str, Any] = {"hours": weekend_only} if rng.random() < 0.3 else {}
        rows.append(store_row(code, location=location, click_and_collect=click_and_collect, **hours))
    return rows


@pytest.fixture(scope="module")
def random_chain(pg_engine: Engine) -> Iterator[tuple[Session, list[dict[str, object]]]]:
    rows = _random_chain(seed=20261123, size=400)
    with pg_engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            make_stores(session, rows)
            session.flush()
            yield session, rows
        transaction.rollback()


def _brute_force(
    rows: list[dict[str, object]],
    lat: float,
    lon: float,
    *,
    radius_km: float | None,
    cnc: bool | None,
    open_now: bool | None,
) -> list[tuple[float, str]]:
    ranked = []
    for row in rows:
        location = row["location"]
        assert isinstance(location, dict)
        distance = geodesic((lat, lon), (location["lat"], location["lon"])).km
        if radius_km is not None and distance > radius_km:
            continue
        if cnc and not row["click_and_collect"]:
            continue
        hours = row["hours"]
        assert isinstance(hours, dict)
        is_open_wednesday = "wednesday" in hours["weekly"]
        if open_now and not is_open_wednesday:
            continue
        ranked.append((distance, str(row["code"])))
    return sorted(ranked)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lat=st.floats(50.0, 54.0),
    lon=st.floats(2.0, 8.0),
    limit=st.integers(1, 50),
    radius_km=st.none() | st.floats(1, 150),
    cnc=st.booleans(),
    open_now=st.booleans(),
)
def test_nearest_equals_brute_force(
    random_chain: tuple[Session, list[dict[str, object]]],
    lat: float,
    lon: float,
    limit: int,
    radius_km: float | None,
    cnc: bool,
    open_now: bool,
) -> None:
    session, rows = random_chain
    page = stores_service.nearest_stores(
        session,
        lat=lat,
        lon=lon,
        limit=limit,
        at=AT,
        radius_km=radius_km,
        open_now_only=open_now,
        click_and_collect_only=cnc,
    )
    expected = _brute_force(rows, lat, lon, radius_km=radius_km, cnc=cnc, open_now=open_now)
    assert [s.store.code for s in page.stores] == [code for _, code in expected[:limit]]
    for found, (distance, _) in zip(page.stores, expected, strict=False):
        assert abs(found.distance_km - distance) < 1e-6
    assert (page.resume_after is not None) is (len(expected) > limit)
