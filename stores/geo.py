"""Exact geodesic nearest-store search.

`geodesic_km` is the one distance function of the application: the WGS-84 geodesic by GeographicLib's C
implementation (through `pyproj.Geod`), which agrees with `geopy.distance.geodesic(...).km` (GeographicLib
in Python) to the last bits of a double, and computes a batch of candidates in one call, some sixty times
faster than the Python one per point (the README's benchmarks, `bench/nearest.py`).

`GeoIndex.nearest` streams stores in exact ``(geodesic_km, code)`` order without scanning the chain.

Why it is exact
---------------
Stores are indexed by their ECEF (earth-centred, earth-fixed) position on the WGS-84 ellipsoid, in km, in a
`scipy.spatial.cKDTree`. The straight 3-D segment between two surface points is the shortest curve between
them in space, and the geodesic is one particular curve between them, so for every pair::

    chord_km <= geodesic_km

The search asks the tree for the K stores with the smallest chord to the query point (K = 16, 32, 64, ...).
Let d_K be the K-th smallest chord. A store the tree did not return has chord >= d_K, hence geodesic >= d_K.
Every returned store gets its exact geodesic, and a store is emitted only once its geodesic is strictly
below ``d_K - SLACK``: nothing unseen can then be closer, or equally close with a smaller code, so the emitted
sequence is exactly the brute-force ``sorted((geodesic_km, code))``. ``SLACK`` (1e-6 km) absorbs floating
point error, which is orders of magnitude smaller (ECEF/chord rounding ~1e-12 km, geographiclib <= 15 nm).

The bound is much tighter than a spherical great-circle margin (~1 %): chord/geodesic = 1 - O((d/R)^2), about
1 - 3e-7 at 10 km, so a query for 10 stores typically computes about 16 geodesics. The chord is well defined
across the antimeridian and at the poles. With ``radius_km`` the tree query is capped at that chord length,
and once the tree returns fewer than K stores everything within the radius has been seen.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
from pyproj import Geod
from scipy.spatial import cKDTree

__all__ = ["GeoIndex", "geodesic_km"]

_A_KM = 6378.137
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
# WGS-84, in metres as PROJ takes it (geopy's 'WGS-84' is the same a and f, in km).
_GEOD = Geod(a=_A_KM * 1000.0, f=_F)
_SLACK_KM = 1e-6
_FIRST_BATCH = 16


def _coordinate(value: object, what: str, limit: float) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise ValueError(f"{what} must be finite and within [-{limit:g}, {limit:g}], got {value!r}")
    # geopy maps -0.0 to 0.0 before calling GeographicLib; the same here keeps one sign for a zero.
    return number + 0.0


def _check_point(lat: object, lon: object) -> tuple[float, float]:
    return _coordinate(lat, "latitude", 90.0), _coordinate(lon, "longitude", 180.0)


def _distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    s12_m: float = _GEOD.inv(lon1, lat1, lon2, lat2)[2]
    return s12_m / 1000.0


def _distances(
    lat: float, lon: float, lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]
) -> list[float]:
    """The geodesic from one point to each of many, in km, in one call."""
    s12_m = _GEOD.inv(np.full_like(lons, lon), np.full_like(lats, lat), lons, lats)[2]
    distances: list[float] = (s12_m / 1000.0).tolist()
    return distances


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """WGS-84 geodesic in km; ``geopy.distance.geodesic((lat1, lon1), (lat2, lon2)).km`` to within a few
    units in the last place.

    Raises ValueError for non-finite or out-of-range coordinates.
    """
    a_lat, a_lon = _check_point(lat1, lon1)
    b_lat, b_lon = _check_point(lat2, lon2)
    return _distance(a_lat, a_lon, b_lat, b_lon)


def _ecef(lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    phi = np.radians(lats)
    lam = np.radians(lons)
    sin_phi = np.sin(phi)
    cos_phi = np.cos(phi)
    prime_vertical = _A_KM / np.sqrt(1.0 - _E2 * sin_phi * sin_phi)
    return np.column_stack(
        (
            prime_vertical * cos_phi * np.cos(lam),
            prime_vertical * cos_phi * np.sin(lam),
            prime_vertical * (1.0 - _E2) * sin_phi,
        )
    )


class GeoIndex:
    """Immutable spatial index over a chain's store locations."""

    def __init__(self, codes: Sequence[str], lats: Sequence[float], lons: Sequence[float]) -> None:
        if not len(codes) == len(lats) == len(lons):
            raise ValueError(
                f"codes, lats and lons must have the same length ({len(codes)}, {len(lats)}, {len(lons)})"
            )
        self._codes: list[str] = [str(code) for code in codes]
        if len(set(self._codes)) != len(self._codes):
            raise ValueError("store codes must be unique (ties are broken by code)")
        try:
            lat_arr = np.asarray(lats, dtype=np.float64).reshape(-1)
            lon_arr = np.asarray(lons, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError("latitudes and longitudes must be numbers") from None
        bad = ~(
            np.isfinite(lat_arr) & np.isfinite(lon_arr) & (np.abs(lat_arr) <= 90) & (np.abs(lon_arr) <= 180)
        )
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"store {self._codes[i]!r} has invalid coordinates ({lats[i]!r}, {lons[i]!r}); "
                "latitude must be within [-90, 90] and longitude within [-180, 180]"
            )
        lat_arr = lat_arr + 0.0
        lon_arr = lon_arr + 0.0
        self._lats = lat_arr
        self._lons = lon_arr
        self._tree: cKDTree | None = cKDTree(_ecef(lat_arr, lon_arr)) if self._codes else None

    def __len__(self) -> int:
        return len(self._codes)

    def nearest(
        self, lat: float, lon: float, *, radius_km: float | None = None
    ) -> Iterator[tuple[str, float]]:
        """Yield ``(code, geodesic_km)`` in ascending ``(distance, code)`` order, lazily.

        The search widens in doubling batches only as far as the caller keeps pulling. With ``radius_km`` the
        stream ends after the last store at distance <= radius_km. Arguments are validated immediately.
        """
        q_lat, q_lon = _check_point(lat, lon)
        if radius_km is None:
            radius = math.inf
        else:
            if isinstance(radius_km, bool):
                raise ValueError(f"radius_km must be a number, got {radius_km!r}")
            try:
                radius = float(radius_km)
            except (TypeError, ValueError):
                raise ValueError(f"radius_km must be a number, got {radius_km!r}") from None
            if math.isnan(radius) or radius < 0:
                raise ValueError(f"radius_km must be >= 0, got {radius_km!r}")
        return self._stream(q_lat, q_lon, radius)

    def _stream(self, lat: float, lon: float, radius: float) -> Iterator[tuple[str, float]]:
        tree = self._tree
        n = len(self._codes)
        if tree is None:
            return
        point = _ecef(np.array([lat]), np.array([lon]))[0]
        cap = radius + _SLACK_KM if math.isfinite(radius) else math.inf
        codes, lats, lons = self._codes, self._lats, self._lons
        seen: set[int] = set()
        pending: list[tuple[float, str]] = []
        k = min(_FIRST_BATCH, n)
        while True:
            dists, idxs = tree.query(point, k=k, distance_upper_bound=cap)
            dist_list: list[float] = np.atleast_1d(dists).tolist()
            idx_list: list[int] = np.atleast_1d(idxs).tolist()
            # cKDTree fills with n for "nothing within distance_upper_bound".
            returned = [i for i in idx_list if i < n]
            new = [i for i in returned if i not in seen]
            seen.update(new)
            if new:
                for i, s in zip(new, _distances(lat, lon, lats[new], lons[new]), strict=True):
                    if s <= radius:
                        heapq.heappush(pending, (s, codes[i]))
            exhausted = len(returned) < k or k >= n
            bound = math.inf if exhausted else dist_list[k - 1] - _SLACK_KM
            while pending and pending[0][0] < bound:
                s, code = heapq.heappop(pending)
                yield code, s
            if exhausted:
                return
            k = min(2 * k, n)
