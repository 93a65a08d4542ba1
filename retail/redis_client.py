"""The process's one Redis client, for what the service keeps in Redis besides Celery's broker traffic:
rate-limit counters, shared metrics, the reservation queue marks."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis

from retail.settings import get_settings


def redis_client() -> Redis | None:
    """The configured Redis, or None on the embedded default (no Redis)."""
    url = get_settings().redis_url
    return _client(url) if url else None


@lru_cache(maxsize=4)
def _client(url: str) -> Redis:
    # One client (and its connection pool) per process, not a connection per call. Short timeouts: every
    # caller has a fallback, and a request must not hang on a Redis that went away.
    return Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
