"""Fixed-window rate limits, shared through Redis when the service has one, per process otherwise."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

from fastapi import Depends, Request
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

_local: OrderedDict[str, tuple[int, int]] = OrderedDict()
_local_lock = threading.Lock()
_LOCAL_MAX_KEYS = 100_000


def hit(name: str, *, limit: int, window_s: int) -> None:
    """Count one attempt of `name` in the current window; raise `RateLimited` past `limit`."""
    now = int(_clock())
    window = now // window_s
    retry_after = window_s - now % window_s
    count = _count_in_redis(f"ratelimit:{name}:{window}", window_s) or _count_locally(name, window)
    if count > limit:
        raise RateLimited(retry_after)


def _count_in_redis(key: str, window_s: int) -> int | None:
    client = redis_client()
    if client is None:
        return None
    try:
        pipe = client.pipeline()
        pipe.incr(key)
        pipe.expire(key, window_s + 1)
        count, _ = pipe.execute()
        return int(count)
    except RedisError:
        # Redis down must not stop the counter from working at all: fall back to this process's count.
        return None


def _count_locally(name: str, window: int) -> int:
    with _local_lock:
        seen_window, count = _local.get(name, (window, 0))
        count = count + 1 if seen_window == window else 1
        _local[name] = (window, count)
        _local.move_to_end(name)
        while len(_local) > _LOCAL_MAX_KEYS:
            _local.popitem(last=False)
        return count


def per_client(name: str, limit: Callable[[], int], *, window_s: int = 60) -> Any:
    """A dependency counting each request against its client address (`name` scopes the count); past
    `limit()` per window it answers 429 with `Retry-After`. The address is the one uvicorn reports, which
    behind a proxy is the client's only when the proxy is trusted (`RETAIL_FORWARDED_ALLOW_IPS`)."""

    def dependency(request: Request) -> None:
        client = request.client.host if request.client is not None else "unknown"
        hit(f"{name}:{client}", limit=limit(), window_s=window_s)

    return Depends(dependency)
