"""Routes whose sync endpoint costs one hop to a worker thread, not four.

FastAPI runs a sync endpoint in a worker thread, and on threads of their own also every sync dependency,
the entry and the exit of a sync generator dependency (the request's session: two hops), and the check of
the returned model against the response model (one more). Each hop hands the request from the event loop
to a thread and back, and on a shopper read that cost more than the read (the README's benchmarks,
`bench/http_endpoints.py`). The session dependencies are async and do no I/O to enter (`retail.db`), and
a `OneHopRoute` does the rest in the endpoint's own thread, right after the endpoint:

- it serialises a returned model of the route's `response_model` as FastAPI would (by alias, with the
  route's include, exclude and `exclude_*` settings), without validating again what was validated when it
  was built, into the route's status code and the headers the endpoint set on its `Response` parameter;
- it ends the transaction of each request session the endpoint was given (`retail.db.end_transaction`:
  commit, or roll back when the endpoint raised), after the serialisation, as the dependency would, so a
  failed commit is still an error answer rather than a 200.

Anything else an endpoint returns (a `Response`, a dict, an ORM object) goes to FastAPI as before, and a
route whose dependencies declare a `Response` of their own (FastAPI merges those headers only into the
answers it builds) keeps FastAPI's serialisation. Async endpoints are left as they are.

A route class may also say how many of its endpoints run at once in a process (`threads`): its sync
endpoints then run in worker threads under a limit of their own rather than anyio's shared one, so that a
burst of requests does not spread over threads that take the interpreter's lock from each other at every
round trip (`retail.replica.LookupRoute`, `mobile_api.orders.ShopperOrderRoute`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import anyio.to_thread
from fastapi import Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlmodel import Session
from starlette.responses import JSONResponse

from retail.db import end_transaction

# Status codes whose answers have no body (RFC 9110): FastAPI's own path strips the body of these.
_BODILESS = {204, 304}


class OneHopRoute(APIRoute):
    """An `APIRoute` whose sync endpoint serialises its answer and ends its transaction in its own thread."""

    # How many endpoints of routes of this class may run at once in a process, each in a worker thread,
    # under a limit of their own; None: under FastAPI's (anyio's) shared limit of 40.
    threads: int | None = None

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = self._in_one_hop(endpoint)
            if self.threads is not None:
                endpoint = _on_threads_of(type(self), self.threads, endpoint)
        super().__init__(path, endpoint, **kwargs)
        self._serialises = not any(d.response_param_name for d in _dependencies(self.dependant))

    def _in_one_hop(self, endpoint: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(endpoint)
        def run(**values: Any) -> Any:
            # A session given twice (to a dependency and the endpoint) is one object: end it once.
            sessions = {id(v): v for v in values.values() if isinstance(v, Session)}.values()
            try:
                answer = self._answer(endpoint(**values), values)
            except BaseException:
                for session in sessions:
                    end_transaction(session, failed=True)
                raise
            for session in sessions:
                end_transaction(session, failed=False)
            return answer

        return run

    def _answer(self, answer: Any, values: dict[str, Any]) -> Any:
        if not (self._serialises and type(answer) is self.response_model and isinstance(answer, BaseModel)):
            return answer
        given = values.get(self.dependant.response_param_name) if self.dependant.response_param_name else None
        status = (given.status_code if given is not None else None) or self.status_code or 200
        if status in _BODILESS or not _json_class(self.response_class):
            return answer
        body = answer.model_dump_json(
            include=self.response_model_include,
            exclude=self.response_model_exclude,
            by_alias=self.response_model_by_alias,
            exclude_unset=self.response_model_exclude_unset,
            exclude_defaults=self.response_model_exclude_defaults,
            exclude_none=self.response_model_exclude_none,
        )
        response = Response(content=body, status_code=status, media_type="application/json")
        if given is not None:
            response.headers.raw.extend(given.headers.raw)
        return response


# Per event loop (a test run makes many), per route class: its limit.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[type, anyio.CapacityLimiter]] = (
    weakref.WeakKeyDictionary()
)


def _on_threads_of(route_class: type, threads: int, run: Callable[..., Any]) -> Callable[..., Any]:
    """`run` (a sync endpoint) as an async one that runs it in a worker thread, at most `threads` of
    `route_class`'s at once."""

    @functools.wraps(run)
    async def hop(**values: Any) -> Any:
        by_class = _limiters.setdefault(asyncio.get_running_loop(), {})
        limiter = by_class.get(route_class)
        if limiter is None:
            limiter = by_class[route_class] = anyio.CapacityLimiter(threads)
        return await anyio.to_thread.run_sync(functools.partial(run, **values), limiter=limiter)

    return hop


def _json_class(response_class: Any) -> bool:
    # The default (FastAPI's DefaultPlaceholder of JSONResponse) or JSONResponse named outright.
    return getattr(response_class, "value", response_class) is JSONResponse


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)
