"""Reads that scale out: lookups served by a PostgreSQL streaming replica, when one is configured.

`RETAIL_DATABASE_REPLICA_URL` names the replica. `LookupSessionDep` is the session of the routes whose
answers may lag the primary by the replica's replay delay, the shopper's reads of stores, products,
availability and prices; their routers use `LookupRoute`. Everything else reads the primary: orders (a
shopper reads the order she has just placed, which the replica may not have replayed yet), staff, the
webshop's sync and feed, and every write.

A replica out of reach costs the lookups nothing but its help: they read the primary. A connect that
fails falls back at once; a connection the replica drops in the middle of a read (stopped, restarted) or
a read it cancels for replay (a recovery conflict) makes the route answer again, from the primary. Both
mark the replica down for `RETRY_AFTER_S`, during which lookups go straight to the primary, so an absent
replica is not tried once per request, and nothing pings it per request either. `/readyz` probes it
(`probe`), reports what it found, and a probe that reaches it brings the lookups back to it at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from retail import dialect
from retail.db import as_request_session, get_lookup_engine, make_engine, release
from retail.routing import OneHopRoute
from retail.settings import Settings, get_settings

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5.0
# libpq's connect_timeout, in whole seconds: how long a lookup or a probe may wait for a replica that does
# not answer at all (a host gone, packets dropped) before reading the primary.
CONNECT_TIMEOUT_S = 2
# What the lookup session of this request attempt reads from, for `LookupRoute`.
_ON_REPLICA = "retail.replica.on_replica"
_FALLBACK = "retail.replica.fallback"
# FastAPI closes the function-scoped dependencies of a request (a test's own session) in this exit stack.
_FUNCTION_STACK = "fastapi_function_astack"
# The lookup sessions handed out to the route's current attempt, which closes them.
_SESSIONS = "retail.replica.sessions"

_engines: dict[str, Engine] = {}


class ReplicaState:
    """Whether lookups may try the replica (per process), and why not when they may not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_until = 0.0
        self.reason: str | None = None

    def usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def down(self, exc: BaseException) -> None:
        with self._lock:
            was_up = self.reason is None
            self._down_until = time.monotonic() + RETRY_AFTER_S
            self.reason = f"unreachable: {type(exc).__name__}"
        # Once per outage, not once per retry or probe while it lasts.
        if was_up:
            logger.warning("replica unavailable, lookups read the primary: %s", exc)

    def up(self) -> None:
        with self._lock:
            self._down_until = 0.0
            self.reason = None


state = ReplicaState()


def get_replica_engine(settings: Settings | None = None) -> Engine | None:
    """The replica's engine, read-only; None when no replica is configured."""
    url = (settings or get_settings()).sqlalchemy_replica_url
    if url is None:
        return None
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = make_engine(url, connect_timeout_s=CONNECT_TIMEOUT_S, lookups=True)
    return engine


def _replica_session(engine: Engine) -> Session | None:
    """A session on the replica with its connection checked out, or None when the connect failed."""
    session = Session(engine, expire_on_commit=False)
    try:
        # The pool's checkout, which connects (or pings a connection idle for a while): an absent
        # replica fails here, before the route has read anything.
        session.connection()
    except DBAPIError as exc:
        session.close()
        state.down(exc)
        return None
    return session


async def get_lookup_session(request: Request) -> Session:
    """FastAPI dependency: a read session on the replica when there is one to be had, else on the
    primary (`retail.db.get_lookup_engine`). For the routes of a `LookupRoute` router only: the route
    closes the sessions it handed out (`retail.db.release`) once it has its answer. A plain dependency,
    not a generator: FastAPI's machinery around a generator's entry and exit cost more than everything
    else the framework adds to a route that does nothing (README, "Measured choices")."""
    engine = get_replica_engine()
    # Checking the replica out connects to it, which takes a worker thread; without one the lookup
    # reads the primary and costs no hop (a session connects on its first statement).
    session = None
    if engine is not None and not request.scope.get(_FALLBACK) and state.usable():
        session = await run_in_threadpool(_replica_session, engine)
        if session is not None:
            request.scope[_ON_REPLICA] = True
    if session is None:
        session = Session(get_lookup_engine(), expire_on_commit=False)
    handed_out = request.scope.get(_SESSIONS)
    if handed_out is None:
        session.close()
        raise RuntimeError(f"{request.url.path}: LookupSessionDep outside a LookupRoute, which closes it")
    handed_out.append(session)
    return as_request_session(session)


LookupSessionDep = Annotated[Session, Depends(get_lookup_session)]


def _replica_failed(exc: DBAPIError) -> bool:
    """The replica dropped the connection, or cancelled the read to replay changes under it."""
    return bool(exc.connection_invalidated) or dialect.is_recovery_conflict(exc)


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


async def _attempt(handler: Handler, request: Request) -> Response:
    # Each attempt closes its own session before the next one starts: the failed attempt's, on a dead
    # connection, must be rolled back, not committed with the answer of the second.
    outer = request.scope.get(_FUNCTION_STACK)
    request.scope[_SESSIONS] = []
    failed = True
    try:
        async with AsyncExitStack() as stack:
            request.scope[_FUNCTION_STACK] = stack
            response = await handler(request)
        failed = False
        return response
    finally:
        request.scope[_FUNCTION_STACK] = outer
        for session in request.scope.pop(_SESSIONS):
            await release(session, failed=failed)


class LookupRoute(OneHopRoute):
    """A route whose `LookupSessionDep` may read the replica: when the replica fails it in mid-read, the
    route runs again, reading the primary. Its requests have no body to read twice (GETs).

    Its endpoints run at most two at a time per process, in worker threads, under a limit of their own.
    Under anyio's shared limit of 40, eight shopper reads at once ran on eight threads that took the
    interpreter's lock from each other at every database round trip: 39 context switches a
    nearest-stores request, against 12 two at a time and 5 one at a time; but one at a time left the
    process waiting through each read's database time, which held back the reads that have more of it
    (search, availability, prices). A lookup holds no lock and keeps no transaction beyond its one hop,
    so none waits for another that waits for a thread (README, Benchmarks)."""

    threads = 2

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await _attempt(handler, request)
            except DBAPIError as exc:
                if not request.scope.pop(_ON_REPLICA, False) or not _replica_failed(exc):
                    raise
                state.down(exc)
                request.scope[_FALLBACK] = True
                return await _attempt(handler, request)

        return answer


def probe() -> str | None:
    """What `/readyz` says of the replica: None when there is none, `ok`, or `fallback: <why>` while the
    lookups read the primary. A probe that reaches it ends a fallback at once."""
    engine = get_replica_engine()
    if engine is None:
        return None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        state.down(exc)
        return f"fallback: {state.reason}"
    state.up()
    return "ok"
