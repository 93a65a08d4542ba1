"""The rate limiter's shared budget: each process counts locally and reports to Redis in batches."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from retail import ratelimit
from retail.redis_client import redis_client


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    monkeypatch.setattr(ratelimit, "_clock", lambda: now)


@pytest.fixture
def name() -> Iterator[str]:
    key = f"test-{uuid.uuid4().hex[:12]}"
    yield key
    ratelimit._local.pop(key, None)


def accepted(name: str, attempts: int, *, limit: int) -> int:
    passed = 0
    for _ in range(attempts):
        try:
            ratelimit.hit(name, limit=limit, window_s=60)
        except ratelimit.RateLimited:
            continue
        passed += 1
    return passed


def shared_count(name: str) -> int:
    client = redis_client()
    assert client is not None, "the tests run with Redis"
    window = int(ratelimit._clock()) // 60
    return int(client.get(f"ratelimit:{name}:{window}") or 0)


@pytest.mark.usefixtures("clock")
def test_hits_reach_redis_in_batches_of_a_twentieth_of_the_limit(name: str) -> None:
    assert accepted(name, 59, limit=100) == 59
    assert shared_count(name) == 55  # eleven reports of five; four hits still counted here only
    assert accepted(name, 1, limit=100) == 1
    assert shared_count(name) == 60


@pytest.mark.usefixtures("clock")
def test_two_processes_share_one_budget(name: str) -> None:
    limit, chunk = 100, 100 // ratelimit.REPORT_FRACTION
    first = accepted(name, 70, limit=limit)
    ratelimit._local.pop(name)  # another process: its own local tally, the same Redis
    second = accepted(name, 70, limit=limit)
    assert first == 70
    # The second process learns of the first's hits at its first report, and refuses past the limit,
    # give or take the hits it had not yet reported.
    assert limit - first <= second <= limit - first + chunk - 1
    assert accepted(name, 5, limit=limit) == 0


@pytest.mark.usefixtures("clock")
def test_a_small_limit_holds_exactly(name: str) -> None:
    assert accepted(name, 5, limit=3) == 3
    assert shared_count(name) == 3
