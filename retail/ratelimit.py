"""Fixed-window rate limits, shared through Redis when the service has one (each process reporting its
hits in batches), per process otherwise."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from redis.exceptions import RedisError

from retail.errors import Problem, RetailError
from retail.redis_client import redis_client


class RateLimitedProblem(Problem):
    code: Literal["rate_limited"]
    retry_after: int = Field(description="seconds to wait, as the `Retry-After` header says")


class RateLimited(RetailError):
    status_code = 429
    code = "rate_limited"
    problem = RateLimitedProblem

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many attempts; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
            extra={"retry_after": retry_after},
        )


# The clock of the windows (tests hold it still, so that a window cannot turn over mid-test).
_clock = time.time

# Each process counts its hits itself and reports them to the shared count in Redis once per
# 1/REPORT_FRACTION of the limit: one round trip per that many requests rather than one per request. The
# shared limit may so be passed by less than that share per process before every process refuses (limits
# under REPORT_FRACTION are reported on every hit, so they hold exactly).
REPORT_FRACTION = 20


@dataclass
class _Tally:
    window: int
    shared: int  # the shared count as last reported back (this process's reports included)
    unreported: int = 0


_local: OrderedDict[str, _Tally] = OrderedDict()
_local_lock = threading.Lock()
_LOCAL_MAX_KEYS = 100_000


@dataclass(frozen=True)
class _Hit:
    key: str
    window: int
    window_s: int
    limit: int
    retry_after: int
    to_report: int  # hits to add to the shared count now (0: none yet)


def hit(name: str, *, limit: int, window_s: int) -> None:
    """Count one attempt of `name` in the current window; raise `RateLimited` past `limit`."""
    counted = _count(name, limit=limit, window_s=window_s)
    if counted.to_report:
        _report(counted)


def _count(name: str, *, limit: int, window_s: int) -> _Hit:
    """This process's count of the hit (no I/O); raises when what is known already passes the limit."""
    now = int(_clock())
    window = now // window_s
    retry_after = window_s - now % window_s
    with _local_lock:
        tally = _local.get(name)
        if tally is None or tally.window != window:
            tally = _local[name] = _Tally(window=window, shared=0)
        _local.move_to_end(name)
        while len(_local) > _LOCAL_MAX_KEYS:
            _local.popitem(last=False)
        tally.unreported += 1
        # A lower bound of the hits in the window everywhere: past the limit, it is past for certain.
        if tally.shared + tally.unreported > limit:
            raise RateLimited(retry_after)
        to_report = 0
        if tally.unreported >= max(1, limit // REPORT_FRACTION):
            to_report, tally.unreported = tally.unreported, 0
    return _Hit(name, window, window_s, limit, retry_after, to_report)


def _report(counted: _Hit) -> None:
    """Add this process's hits to the shared count; raise when the shared count passes the limit."""
    total = _add_in_redis(f"ratelimit:{counted.key}:{counted.window}", counted.to_report, counted.window_s)
    with _local_lock:
        tally = _local.get(counted.key)
        if tally is not None and tally.window == counted.window:
            # Without Redis, this process's count is the count.
            tally.shared = total if total is not None else tally.shared + counted.to_report
            total = tally.shared
    if total is not None and total > counted.limit:
        raise RateLimited(counted.retry_after)


def _add_in_redis(key: str, hits: int, window_s: int) -> int | None:
    client = redis_client()
    if client is None:
        return None
    try:
        pipe = client.pipeline()
        pipe.incrby(key, hits)
        pipe.expire(key, window_s + 1)
        count, _ = pipe.execute()
        return int(count)
    except RedisError:
        # Redis down must not stop the counter from working at all: this process's count goes on.
        return None


def per_client(name: str, limit: Callable[[], int], *, window_s: int = 60) -> Any:
    """A dependency counting each request against its client address (`name` scopes the count); past
    `limit()` per window it answers 429 with `Retry-After`. The address is the one uvicorn reports, which
    behind a proxy is the client's only when the proxy is trusted (`RETAIL_FORWARDED_ALLOW_IPS`).

    Asynchronous, so that the count costs no hop to a worker thread: only a report to Redis (one request
    in `limit() // REPORT_FRACTION`) goes to one."""

    async def dependency(request: Request) -> None:
        client = request.client.host if request.client is not None else "unknown"
        counted = _count(f"{name}:{client}", limit=limit(), window_s=window_s)
        if counted.to_report:
            await run_in_threadpool(_report, counted)

    return Depends(dependency)
