"""A PostgreSQL database and a Redis database number of this test run's own.

Two runs at once on one machine (two checkouts, a developer beside CI) must not drop each other's
database or flush each other's queues, so each run names its database after itself and claims a free
Redis number with `SET NX` on database 0. The claim expires on its own, so a run that was killed frees
its number a few hours later; a run that ends normally gives it back and drops its database.
"""

from __future__ import annotations

import os
import secrets

import psycopg
import redis
from sqlalchemy.engine import make_url

RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
REDIS_SERVER = "redis://127.0.0.1:6379"
# Redis has 16 numbered databases by default; 0 holds the claims, and is left to the service's own use.
REDIS_NUMBERS = range(1, 16)
_CLAIM = "winkelpunt:test-run:{number}"
CLAIM_SECONDS = 4 * 3600  # CI stops a run after 90 minutes; a killed run's number comes free after this


def database_url() -> str:
    return os.environ.get(
        "RETAIL_TEST_DATABASE_URL", f"postgresql://postgres@127.0.0.1:5432/winkelpunt_test_{RUN_ID}"
    )


def claim_redis_url() -> str:
    """`RETAIL_TEST_REDIS_URL`, or a numbered database nobody else's run holds, emptied for this run."""
    configured = os.environ.get("RETAIL_TEST_REDIS_URL")
    if configured:
        return configured
    claims = redis.Redis.from_url(f"{REDIS_SERVER}/0")
    for number in REDIS_NUMBERS:
        if claims.set(_CLAIM.format(number=number), RUN_ID, nx=True, ex=CLAIM_SECONDS):
            url = f"{REDIS_SERVER}/{number}"
            redis.Redis.from_url(url).flushdb()  # whatever a killed run left behind
            return url
    raise RuntimeError(f"Redis databases {REDIS_NUMBERS.start}-{REDIS_NUMBERS.stop - 1} are all held by runs")


def release_redis_url(url: str) -> None:
    """Give back a number `claim_redis_url` claimed (only if this run still holds it)."""
    number = int(url.rsplit("/", 1)[1])
    claims = redis.Redis.from_url(f"{REDIS_SERVER}/0")
    key = _CLAIM.format(number=number)
    if claims.get(key) == RUN_ID.encode():
        redis.Redis.from_url(url).flushdb()
        claims.delete(key)


def _admin_conninfo(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), str(parsed.database)


def create_database(url: str) -> None:
    conninfo, name = _admin_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    conninfo, name = _admin_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
