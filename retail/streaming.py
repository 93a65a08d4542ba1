"""Reading a request body as a stream from a worker thread, so a large upload is processed (and written to
the database) as it arrives, with flat memory, by code that is synchronous like the rest of the service."""

from __future__ import annotations

import io
from collections.abc import Iterator

import anyio.from_thread
from starlette.requests import Request


def body_chunks(request: Request) -> Iterator[bytes]:
    """The body's chunks, pulled from the event loop by a thread started with `run_in_threadpool`."""
    stream = request.stream()
    while True:
        try:
            chunk = anyio.from_thread.run(stream.__anext__)
        except StopAsyncIteration:
            return
        if chunk:
            yield chunk


class ChunkReader(io.RawIOBase):
    """A binary file over an iterator of chunks, for `io.TextIOWrapper` and the csv module."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
