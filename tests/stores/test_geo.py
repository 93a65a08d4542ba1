from __future__ import annotations

import math
import random
from collections.abc import Callable
from itertools import islice

import pytest
from geopy.distance import geodesic
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import stores.geo
from stores.geo import GeoIndex, geodesic_km

AMSTERDAM = (52.37403, 4.88969)
UTRECHT = (52.09083, 5.12222)
BRUSSELS = (50.85045, 4.34878)


def brute_force(
    index_rows: list[tuple[str, float, float]], lat: float, lon: float
) -> list[tuple[str, float]]:
    ranked = sorted((geodesic_km(lat, lon, s_lat, s_lon), code) for code, s_lat, s_lon in index_rows)
    return [(code, d) for d, code in ranked]


def build(rows: list[tuple[str, float, float]]) -> GeoIndex:
    return GeoIndex([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


# ------------------------------------------------------------------------------------------- distances


def test_known_distances_equal_geopy() -> None:
    assert geodesic_km(*AMSTERDAM, *UTRECHT) == 35.29030221149083
    assert geodesic_km(*AMSTERDAM, *UTRECHT) == geodesic(AMSTERDAM, UTRECHT).km
    assert geodesic_km(*AMSTERDAM, *BRUSSELS) == 173.60365795686457
    assert geodesic_km(*AMSTERDAM, *AMSTERDAM) == 0.0
    # across the antimeridian: 1 degree of equator
    assert geodesic_km(0, 179.5, 0, -179.5) == 111.31949079327356


latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)


def agrees_with_geopy(km: float, lat1: float, lon1: float, lat2: float, lon2: float) -> bool:
    """GeographicLib in C (pyproj) against GeographicLib in Python (geopy): the same algorithm, so the
    same distance to within a micrometre, a thousandth of the slack the index's ranking proof allows."""
    return math.isclose(km, geodesic((lat1, lon1), (lat2, lon2)).km, rel_tol=1e-13, abs_tol=1e-9)


@given(latitudes, longitudes, latitudes, longitudes)
@settings(max_examples=300, deadline=None)
def test_geodesic_km_agrees_with_geopy(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    assert agrees_with_geopy(geodesic_km(lat1, lon1, lat2, lon2), lat1, lon1, lat2, lon2)


@given(latitudes, longitudes, st.lists(st.tuples(latitudes, longitudes), min_size=1, max_size=40))
@settings(max_examples=200, deadline=None)
def test_the_index_measures_a_batch_exactly_as_geodesic_km_does(
    lat: float, lon: float, points: list[tuple[float, float]]
) -> None:
    # The index computes its candidates in batches; the ranking must hold for `geodesic_km` itself.
    codes = [f"S{i}" for i in range(len(points))]
    index = GeoIndex(codes, [p[0] for p in points], [p[1] for p in points])
    measured = dict(index.nearest(lat, lon))
    expected = {code: geodesic_km(lat, lon, *point) for code, point in zip(codes, points, strict=True)}
    assert measured == expected


def test_negative_zero_is_normalised_like_geopy() -> None:
    assert geodesic_km(-0.0, -0.0, 10.0, 20.0) == geodesic((-0.0, -0.0), (10.0, 20.0)).km


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (90.0001, 0),
        (-91, 0),
        (0, 180.5),
        (0, -181),
        (math.nan, 0),
        (0, math.inf),
        (None, 0),
        ("abc", 0),
        (True, 0),
    ],
)
def test_geodesic_km_rejects_bad_coordinates(lat: object, lon: object) -> None:
    with pytest.raises(ValueError, match=r"latitude|longitude"):
        geodesic_km(lat, lon, 0, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"latitude|longitude"):
        geodesic_km(0, 0, lat, lon)  # type: ignore[arg-type]


def test_boundary_coordinates_are_accepted() -> None:
    assert agrees_with_geopy(geodesic_km(90, 180, -90, -180), 90, 180, -90, -180)
    assert geodesic_km("52.1", "5.1", 52, 5) == geodesic_km(52.1, 5.1, 52, 5)  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------- GeoIndex


def test_nearest_known_stores() -> None:
    index = GeoIndex(
        ["UTR", "BRU", "AMS"],
        [UTRECHT[0], BRUSSELS[0], AMSTERDAM[0]],
        [UTRECHT[1], BRUSSELS[1], AMSTERDAM[1]],
    )
    assert len(index) == 3
    assert list(index.nearest(*AMSTERDAM)) == [
        ("AMS", 0.0),
        ("UTR", 35.29030221149083),
        ("BRU", 173.60365795686457),
    ]
    assert list(index.nearest(*AMSTERDAM, radius_km=35.29030221149083)) == [
        ("AMS", 0.0),
        ("UTR", 35.29030221149083),
    ]
    assert list(index.nearest(*AMSTERDAM, radius_km=35.29)) == [("AMS", 0.0)]
    assert list(index.nearest(*AMSTERDAM, radius_km=0)) == [("AMS", 0.0)]


def test_ties_come_out_by_code() -> None:
    codes = ["S9", "S1", "S5", "S3", "S7", "S2"]
    index = GeoIndex(codes, [51.0] * 6, [5.0] * 6)
    result = list(index.nearest(52.0, 5.0))
    assert [code for code, _ in result] == ["S1", "S2", "S3", "S5", "S7", "S9"]
    assert len({d for _, d in result}) == 1
    # Mirror-image points are exactly equidistant from the equator/meridian crossing.
    mirror = GeoIndex(["B", "A", "D", "C"], [0, 0, 1, -1], [1, -1, 0, 0])
    result = list(mirror.nearest(0, 0))
    # One degree of meridian is shorter than one degree of equator on the ellipsoid.
    assert [code for code, _ in result] == ["C", "D", "A", "B"]
    assert result[0][1] == result[1][1] < result[2][1] == result[3][1] == 111.31949079327356


def test_empty_and_single_store_indexes() -> None:
    assert list(GeoIndex([], [], []).nearest(0, 0)) == []
    assert len(GeoIndex([], [], [])) == 0
    single = GeoIndex(["ONLY"], [52.0], [5.0])
    assert list(single.nearest(-52.0, -175.0)) == [("ONLY", geodesic_km(-52.0, -175.0, 52.0, 5.0))]


def test_index_validates_input() -> None:
    with pytest.raises(ValueError, match="same length"):
        GeoIndex(["A", "B"], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="unique"):
        GeoIndex(["A", "A"], [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="'B' has invalid coordinates"):
        GeoIndex(["A", "B"], [1.0, 95.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="invalid coordinates"):
        GeoIndex(["A"], [1.0], [math.nan])
    with pytest.raises(ValueError, match="invalid coordinates"):
        GeoIndex(["A"], [1.0], [-180.01])
    with pytest.raises(ValueError, match="numbers"):
        GeoIndex(["A"], ["north"], [1.0])  # type: ignore[list-item]


def test_nearest_validates_eagerly() -> None:
    index = GeoIndex(["A"], [1.0], [1.0])
    for bad in [(91.0, 0.0), (0.0, 181.0), (math.nan, 0.0)]:
        with pytest.raises(ValueError, match=r"latitude|longitude"):
            index.nearest(*bad)  # no next(): the error must not wait for the first pull
    for radius in [-1.0, math.nan, "far"]:
        with pytest.raises(ValueError, match="radius_km"):
            index.nearest(0, 0, radius_km=radius)  # type: ignore[arg-type]
    assert list(index.nearest(0, 0, radius_km=math.inf)) == list(index.nearest(0, 0))


def counting_distance(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real: Callable[[float, float, float, float], float] = stores.geo._distance

    def counted(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
        calls[0] += 1
        return real(lat1, lon1, lat2, lon2)

    monkeypatch.setattr(stores.geo, "_distance", counted)
    return calls


@pytest.fixture(scope="module")
def chain_10k() -> tuple[GeoIndex, list[tuple[str, float, float]]]:
    rng = random.Random(7)
    rows = [(f"S{i:05d}", rng.uniform(50.7, 53.4), rng.uniform(3.4, 7.1)) for i in range(10_000)]
    return build(rows), rows


def test_large_chain_is_not_scanned(
    chain_10k: tuple[GeoIndex, list[tuple[str, float, float]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, rows = chain_10k
    calls = counting_distance(monkeypatch)
    result = list(islice(index.nearest(*UTRECHT), 10))
    assert calls[0] <= 64
    stream = index.nearest(*UTRECHT)
    assert calls[0] <= 64  # creating the stream computes nothing
    pulled = list(islice(stream, 200))
    assert calls[0] <= 64 + 600
    monkeypatch.undo()
    expected = brute_force(rows, *UTRECHT)
    assert result == expected[:10]
    assert pulled == expected[:200]


def test_large_chain_radius(chain_10k: tuple[GeoIndex, list[tuple[str, float, float]]]) -> None:
    index, rows = chain_10k
    expected = [r for r in brute_force(rows, *AMSTERDAM) if r[1] <= 7.5]
    assert list(index.nearest(*AMSTERDAM, radius_km=7.5)) == expected
    assert 0 < len(expected) < 100


def test_full_stream_equals_brute_force_ranking(
    chain_10k: tuple[GeoIndex, list[tuple[str, float, float]]],
) -> None:
    _, rows = chain_10k
    small = rows[:3000]
    assert list(build(small).nearest(40.0, -3.7)) == brute_force(small, 40.0, -3.7)


# Hypothesis: random chains mixing the Netherlands, the whole globe, the antimeridian and both poles, with
# duplicate coordinates, compared with a brute-force geodesic ranking.
nl_points = st.tuples(st.floats(50.7, 53.6), st.floats(3.3, 7.3))
globe_points = st.tuples(latitudes, longitudes)
antimeridian_points = st.tuples(
    st.floats(-60, 60),
    st.one_of(st.floats(179.0, 180.0), st.floats(-180.0, -179.0), st.sampled_from([180.0, -180.0])),
)
polar_points = st.tuples(
    st.one_of(st.floats(88.5, 90.0), st.floats(-90.0, -88.5), st.sampled_from([90.0, -90.0])), longitudes
)
any_point = st.one_of(nl_points, globe_points, antimeridian_points, polar_points)


@st.composite
def chains(draw: st.DrawFn) -> list[tuple[str, float, float]]:
    points = draw(st.lists(any_point, min_size=0, max_size=60))
    duplicates = draw(st.lists(st.integers(0, 10_000), max_size=15)) if points else []
    points = points + [points[i % len(points)] for i in duplicates]
    codes = draw(st.permutations([f"C{i:03d}" for i in range(len(points))]))
    return [(code, lat, lon) for code, (lat, lon) in zip(codes, points, strict=True)]


@given(
    rows=chains(),
    query=any_point,
    k=st.integers(1, 90),
    radius=st.one_of(st.none(), st.floats(0, 25_000)),
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_nearest_matches_brute_force(
    rows: list[tuple[str, float, float]], query: tuple[float, float], k: int, radius: float | None
) -> None:
    index = build(rows)
    expected = brute_force(rows, *query)
    assert list(islice(index.nearest(*query), k)) == expected[:k]
    if radius is not None:
        within = [r for r in expected if r[1] <= radius]
        got = list(index.nearest(*query, radius_km=radius))
        assert got == within
        assert all(d <= radius for _, d in got)


@given(rows=chains(), query=any_point)
@settings(max_examples=100, deadline=None)
def test_radius_at_an_exact_store_distance_includes_it(
    rows: list[tuple[str, float, float]], query: tuple[float, float]
) -> None:
    assume(rows)
    expected = brute_force(rows, *query)
    radius = expected[len(expected) // 2][1]
    assert list(build(rows).nearest(*query, radius_km=radius)) == [r for r in expected if r[1] <= radius]
