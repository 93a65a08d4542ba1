"""Request context for logs and metrics, and the operator's `GET /metrics`.

`RequestContext` is the outermost middleware of the app: it gives each request an id (the client's
`X-Request-ID` when sane, else a fresh one), echoes it in the response, writes one access-log line, and
counts the request by its route template. An unexpected exception is answered here, as problem+json with the
id, because Starlette's own last-resort handler sits outside every middleware and would answer without it.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retail import metrics
from retail.db import ReadSessionDep
from retail.errors import Unauthorized, internal_error, problem_responses
from retail.logs import new_request_id, request_id_var, sane_request_id
from retail.settings import get_settings

REQUEST_ID_HEADER = "X-Request-ID"

access_logger = logging.getLogger("retail.access")


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode())
        request_id = sane_request_id(incoming.decode("latin-1") if incoming else None) or new_request_id()
        token = request_id_var.set(request_id)
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            response = internal_error(scope["method"], scope["path"], exc)
            if not response_started:
                await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            metrics.HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(scope["method"], route).observe(elapsed)
            access_logger.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else metrics.UNMATCHED_ROUTE


# ------------------------------------------------------------------------------------------- /metrics

_bearer = HTTPBearer(
    auto_error=False, scheme_name="MetricsToken", description="`RETAIL_METRICS_TOKEN`, when it is set"
)


def _metrics_access(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected = get_settings().metrics_token
    if expected is None:
        return
    given = credentials.credentials if credentials is not None else ""
    # Bytes, so a non-ASCII guess is compared (and refused) instead of raising.
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("the metrics token is required: Authorization: Bearer <token>")


class _Exposition:
    """The process's registry followed by the scrape-time metrics, for one `generate_latest`."""

    def __init__(self, collector: metrics.ScrapeCollector) -> None:
        self._collector = collector

    def collect(self) -> Iterator[Metric]:
        yield from metrics.REGISTRY.collect()
        yield from self._collector.collect()


def metrics_router(probes: Iterable[metrics.Probe]) -> APIRouter:
    probes = list(probes)
    router = APIRouter(tags=["operations"])

    @router.get(
        "/metrics",
        name="metrics",
        response_class=Response,
        dependencies=[Depends(_metrics_access)],
        # Without RETAIL_METRICS_TOKEN no credentials are needed: "none" is an alternative.
        openapi_extra={"security": [{}]},
        responses={
            200: {
                "description": "Prometheus text exposition format",
                "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            },
            **problem_responses(401),
        },
    )
    def metrics_endpoint(session: ReadSessionDep) -> Response:
        """Prometheus metrics, for operators: requests and latencies of this process, task failures and
        the reconciliation's drift across all workers, orders by status and sync lag from the database.

        Open unless `RETAIL_METRICS_TOKEN` is set; then it needs `Authorization: Bearer <that token>`
        (a Prometheus `authorization` credential), and no API key of any role opens it.
        """
        exposition = _Exposition(metrics.ScrapeCollector(probes, session))
        return Response(generate_latest(exposition), media_type=CONTENT_TYPE_LATEST)

    return router


def install(app: FastAPI, probes: Iterable[metrics.Probe]) -> None:
    app.include_router(metrics_router(probes))
    app.add_middleware(RequestContext)
