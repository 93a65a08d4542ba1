"""Request bodies: how large one may be, how long it may stall, and spooling one before any work starts.

uvicorn bounds the wait between two requests on a connection (`timeout_keep_alive`), not the wait for the
rest of a body: a client that sends half a body and goes quiet would hold its request open for ever, and
whatever that request had opened with it. `BodyLimits` bounds both the size and the stall of every body.
"""

from __future__ import annotations

import contextlib
import tempfile
from typing import IO

import anyio
import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retail.errors import PayloadTooLarge, RetailError, retail_error_response

# A spooled body stays in memory up to this size, then moves to a temporary file.
SPOOL_IN_MEMORY_BYTES = 8 << 20
# Received chunks are written to the spool in pieces of about this size, each from a worker thread, so a
# slow disk never blocks the event loop that serves the other requests.
SPOOL_WRITE_BYTES = 1 << 20


class BodyStalled(RetailError):
    """408: no part of the body arrived for the stall timeout. Nothing of the request was applied."""

    status_code = 408
    code = "body_timeout"

    def __init__(self, timeout_s: float) -> None:
        message = f"no part of the request body arrived for {timeout_s:g} s"
        super().__init__(
            f"{message}; nothing of it was applied, send it again",
            extra={"errors": [{"field": "body", "message": message}]},
            # RFC 9110: the connection cannot carry another request while the rest of this body may still
            # arrive on it.
            headers={"Connection": "close"},
        )


class ClientGone(RetailError):
    """The client closed the connection before its body was complete. Nobody reads this answer; it is
    there for the access log and the metrics, instead of a 500 for what is no fault of the service."""

    status_code = 400
    code = "client_disconnected"

    def __init__(self) -> None:
        message = "the client closed the connection before the body was complete"
        super().__init__(
            f"{message}; nothing of it was applied", extra={"errors": [{"field": "body", "message": message}]}
        )


class _BodyFailed(Exception):
    pass


class BodyLimits:
    """Refuse a request body over `max_bytes` with 413 (declared or counted as it arrives; `streamed`
    uploads are exempt), and one that stalls, no byte arriving for `stall_timeout_s`, with 408.

    The app's own answer to such a request (FastAPI turns a failed body read into a 400, a handler reading
    the stream gets an exception) is dropped, and the problem above goes out instead. A client that
    disconnects mid-body is answered `ClientGone` the same way."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        stall_timeout_s: float,
        streamed: frozenset[tuple[str, str, str]] = frozenset(),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.stall_timeout_s = stall_timeout_s
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"content-length" not in headers and b"transfer-encoding" not in headers:
            # No body to bound (HTTP/1.1: a request has one only with either header), as the shopper's
            # reads: their messages go through unwrapped.
            await self.app(scope, receive, send)
            return
        media_type = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1").lower()
        limit = None if (scope["method"], scope["path"], media_type) in self.streamed else self.max_bytes
        declared = headers.get(b"content-length")
        if limit is not None and declared is not None and (not declared.isdigit() or int(declared) > limit):
            await retail_error_response(PayloadTooLarge(limit))(scope, receive, send)
            return
        received = 0
        complete = False
        responding = False
        failure: RetailError | None = None

        async def guarded_receive() -> Message:
            nonlocal received, complete, failure
            if complete or responding:
                return await receive()
            try:
                with anyio.fail_after(self.stall_timeout_s):
                    message = await receive()
            except TimeoutError:
                failure = BodyStalled(self.stall_timeout_s)
                raise _BodyFailed from None
            if message["type"] == "http.disconnect":
                # Starlette raises `ClientDisconnect` in the app for this message.
                complete, failure = True, ClientGone()
            elif message["type"] == "http.request":
                received += len(message.get("body", b""))
                if limit is not None and received > limit:
                    failure = PayloadTooLarge(limit)
                    raise _BodyFailed
                complete = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal responding
            if failure is None:
                responding = True
                await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except (_BodyFailed, ClientDisconnect):
            if failure is None:
                raise
        if failure is not None:
            await retail_error_response(failure)(scope, receive, send)


async def spool_body(request: Request) -> IO[bytes]:
    """The whole body, read into a temporary file (in memory while small) and rewound; the caller closes
    it. Meant to be awaited before a transaction opens, so that a slow or stalled upload holds no lock and
    no database connection while it arrives (`BodyLimits` bounds the stall)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115 (the caller's)
    try:
        pending = bytearray()
        async for chunk in request.stream():
            pending += chunk
            if len(pending) >= SPOOL_WRITE_BYTES:
                await anyio.to_thread.run_sync(spool.write, bytes(pending))
                pending.clear()
        if pending:
            await anyio.to_thread.run_sync(spool.write, bytes(pending))
        spool.seek(0)
    except BaseException:
        with contextlib.suppress(Exception):
            spool.close()
        raise
    return spool
