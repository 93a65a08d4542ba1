"""Nearest-store search: an in-memory spatial index per process, refreshed when the network changes.

The index holds only code and position (a few dozen bytes a store, so 100,000 stores fit easily). Each
request reads the network's revision token (one primary-key lookup) and rebuilds the index only when another
process or request changed the stores. Candidates stream out of the index in exact (distance, code) order;
full store rows are fetched in growing batches only for the candidates the caller actually looks at.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from sqlmodel import Session, select

from stores.geo import GeoIndex
from stores.models import Store, StoreNetworkRevision

_MAX_CACHED = 4
_MAX_BATCH = 1024


@dataclass(frozen=True)
class NetworkIndex:
    token: str
    index: GeoIndex


_cache: OrderedDict[str, NetworkIndex] = OrderedDict()
_cache_lock = threading.Lock()


def current_token(session: Session) -> str:
    token = session.exec(select(StoreNetworkRevision.token).where(StoreNetworkRevision.id == 1)).first()
    return token or ""


def network_index(session: Session) -> NetworkIndex:
    """The index for the store network as this session sees it."""
    token = current_token(session)
    cached = _cache.get(token)
    if cached is not None:
        return cached
    with _cache_lock:
        cached = _cache.get(token)
        if cached is None:
            rows = session.exec(select(Store.code, Store.lat, Store.lon)).all()
            cached = NetworkIndex(
                token=token, index=GeoIndex([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
            )
            _cache[token] = cached
            while len(_cache) > _MAX_CACHED:
                _cache.popitem(last=False)
        return cached


def stores_by_distance(
    session: Session,
    *,
    lat: float,
    lon: float,
    radius_km: float | None = None,
    after: tuple[float, str] | None = None,
    first_batch: int = 16,
) -> Iterator[list[tuple[Store, float]]]:
    """Every store in ascending (distance, code) order, lazily, with its full row, in growing batches.

    `after` resumes behind a (distance, code) position a previous page ended on. Batches start at
    `first_batch`, so a caller that wants ten stores reads one small batch (and the index proves the order
    of no more candidates than that), and each batch lets a caller run its own per-store lookups (stock,
    say) as one query.
    """
    candidates: Iterator[tuple[str, float]] = network_index(session).index.nearest(
        lat, lon, radius_km=radius_km
    )
    if after is not None:
        candidates = (c for c in candidates if (c[1], c[0]) > after)
    batch_size = max(first_batch, 1)
    while batch := list(islice(candidates, batch_size)):
        rows = session.exec(select(Store).where(Store.code.in_([code for code, _ in batch]))).all()  # type: ignore[attr-defined]
        by_code = {row.code: row for row in rows}
        # A store deleted since the index was built is simply skipped.
        yield [(by_code[code], distance) for code, distance in batch if code in by_code]
        batch_size = min(batch_size * 4, _MAX_BATCH)
