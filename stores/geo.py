"""Exact geodesic nearest-store search.

`geodesic_km` is the one distance function of the application: the WGS-84 geodesic, bit-for-bit what
`geopy.distance.geodesic(...).km` returns (same geographiclib `Geodesic` construction, same input
normalisation), without geopy's per-call object overhead.

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
from geographiclib.geodesic import Geodesic
from scipy.spatial import cKDTree

__all__ = ["GeoIndex", "geodesic_km"]

_A_KM = 6378.137
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
# geopy builds exactly this object (a in km, f) for its default 'WGS-84' ellipsoid, so results are identical.
_GEOD = Geodesic(_A_KM, _F)
_DISTANCE = Geodesic.DISTANCE
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
    # geopy maps -0.0 to 0.0 before calling geographiclib; do the same to stay bit-identical.
    return number + 0.0


def _check_point(lat: object, lon: object) -> tuple[float, float]:
    return _coordinate(lat, "latitude", 90.0), _coordinate(lon, "longitude", 180.0)


def _distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    s12: float = _GEOD.Inverse(lat1, lon1, lat2, lon2, _DISTANCE)["s12"]
    return s12


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """WGS-84 geodesic in km; identical to ``geopy.distance.geodesic((lat1, lon1), (lat2, lon2)).km``.

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
        # Plain lists: scalar indexing into numpy arrays is several times slower in the per-candidate loop.
        self._lats: list[float] = lat_arr.tolist()
        self._lons: list[float] = lon_arr.tolist()
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
            returned = 0
            for i in idx_list:
                if i >= n:  # cKDTree's filler for "nothing within distance_upper_bound"
                    break
                returned += 1
                if i in seen:
                    continue
                seen.add(i)
                s = _distance(lat, lon, lats[i], lons[i])
                if s <= radius:
                    heapq.heappush(pending, (s, codes[i]))
            exhausted = returned < k or k >= n
            bound = math.inf if exhausted else dist_list[k - 1] - _SLACK_KM
            while pending and pending[0][0] < bound:
                s, code = heapq.heappop(pending)
                yield code, s
            if exhausted:
                return
            k = min(2 * k, n)
