"""The desk's live stream: a store's events (`orders.desk_events`) as Server-Sent Events, in any API process.

A stream holds no database connection while it waits. Each API process has one watcher thread
(`CounterWatch`) that, while any stream is open, reads the counters of the stores being streamed every
`POLL_S` (one primary-key read of a few rows, however many streams are open) and wakes the streams of a
store whose counter moved; a woken stream reads its new events in a short read-only transaction of its
own and goes back to waiting. The events come from the database, so an event written through one process
reaches the streams of every other one within `POLL_S` plus a read (the README's "The live desk" gives the
measured figure). A stream also reads by itself every `FALLBACK_S`, should the watcher fail.

The response is `sse_starlette.EventSourceResponse`: it sends the keep-alive comments, ends the stream when
the client goes away, and on server shutdown (uvicorn's exit signal), so a server with open streams stops
at once. A stream also ends by itself after `RETAIL_DESK_STREAM_MAX_S`: the client reconnects with
`Last-Event-ID` and loses nothing, and a revoked key is refused then.

What the client reads: first a line `id: N` alone, the position the stream starts after (so a client that
drops before any event still resumes exactly), then one block per event, `id: <seq>` and
`data: {"type", "order_id", "at"}`, and `: keep-alive` comments in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import anyio
from sqlalchemy import Engine
from sse_starlette import EventSourceResponse, ServerSentEvent

from orders import desk_events
from retail.settings import get_settings

logger = logging.getLogger(__name__)

POLL_S = 0.5
FALLBACK_S = 30.0
PAGE = 200
SEPARATOR = "\n"
SEND_TIMEOUT_S = 30.0


@dataclass(eq=False)
class Waiter:
    """One open stream's doorbell, rung from the watcher thread on the stream's own event loop."""

    store_id: int
    loop: asyncio.AbstractEventLoop
    rung: asyncio.Event = field(default_factory=asyncio.Event)

    def ring(self) -> None:
        # A closed loop's stream is gone.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.rung.set)


class CounterWatch:
    """Watches the event counters of the stores with an open stream in this process, from one thread
    that sleeps while no stream is open. `read` answers the counters of the stores given."""

    def __init__(self, read: Callable[[Sequence[int]], dict[int, int]], *, poll_s: float = POLL_S) -> None:
        self._read = read
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._waiters: dict[int, set[Waiter]] = {}
        self._seen: dict[int, int] = {}
        self._watched = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, store_id: int) -> Waiter:
        """A doorbell for a stream of `store_id`, on the running event loop."""
        waiter = Waiter(store_id, asyncio.get_running_loop())
        with self._lock:
            self._waiters.setdefault(store_id, set()).add(waiter)
            self._watched.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="desk-events", daemon=True)
                self._thread.start()
        return waiter

    def unwatch(self, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(waiter.store_id, set())
            waiters.discard(waiter)
            if not waiters:
                self._waiters.pop(waiter.store_id, None)
                self._seen.pop(waiter.store_id, None)
            if not self._waiters:
                self._watched.clear()

    def _run(self) -> None:
        while True:
            self._watched.wait()
            with self._lock:
                stores = sorted(self._waiters)
            try:
                counters = self._read(stores) if stores else {}
            except Exception:  # the database away for a moment: the streams read by themselves meanwhile
                logger.warning("could not read the desk event counters", exc_info=True)
                counters = {}
            with self._lock:
                moved = [store for store, seq in counters.items() if self._seen.get(store) != seq]
                self._seen.update(counters)
                ring = [waiter for store in moved for waiter in self._waiters.get(store, ())]
            for waiter in ring:
                waiter.ring()
            time.sleep(self._poll_s)


def _counters_reader(engine: Engine) -> Callable[[Sequence[int]], dict[int, int]]:
    def read(store_ids: Sequence[int]) -> dict[int, int]:
        with engine.connect() as connection:
            return desk_events.last_seqs(connection, store_ids=store_ids)

    return read


_watches: dict[str, CounterWatch] = {}
_watches_lock = threading.Lock()


def watch_for(engine: Engine) -> CounterWatch:
    """This process's watcher of the database behind `engine` (a read-only engine)."""
    key = str(engine.url)
    with _watches_lock:
        if key not in _watches:
            _watches[key] = CounterWatch(_counters_reader(engine))
        return _watches[key]


def _read_after(engine: Engine, store_id: int, after: int) -> list[desk_events.NumberedEvent]:
    with engine.connect() as connection:
        return desk_events.events_after(connection, store_id=store_id, after=after, limit=PAGE)


async def store_events(
    engine: Engine, *, store_id: int, after: int, lasts_s: float, watch: CounterWatch | None = None
) -> AsyncIterator[ServerSentEvent]:
    """The store's events after number `after`, as they come, for `lasts_s` seconds; read on `engine`."""
    deadline = time.monotonic() + lasts_s
    watch = watch or watch_for(engine)
    yield ServerSentEvent(id=str(after), sep=SEPARATOR)
    waiter = watch.watch(store_id)
    try:
        while True:
            # Cleared before the read: a counter that moves after it rings again.
            waiter.rung.clear()
            try:
                events = await anyio.to_thread.run_sync(_read_after, engine, store_id, after)
            except Exception:  # the database away: end the stream; the client resumes from `after`
                logger.warning("could not read the desk events of store %s", store_id, exc_info=True)
                return
            for numbered in events:
                yield ServerSentEvent(
                    data=numbered.event.model_dump_json(), id=str(numbered.seq), sep=SEPARATOR
                )
                after = numbered.seq
            if len(events) == PAGE:
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with anyio.move_on_after(min(left, FALLBACK_S)):
                await waiter.rung.wait()
    finally:
        watch.unwatch(waiter)


def keep_alive() -> ServerSentEvent:
    return ServerSentEvent(comment="keep-alive", sep=SEPARATOR)


def response(engine: Engine, *, store_id: int, after: int) -> EventSourceResponse:
    """The stream of a store's events after `after`, with the keep-alive comments of the settings."""
    settings = get_settings()
    return EventSourceResponse(
        store_events(engine, store_id=store_id, after=after, lasts_s=settings.desk_stream_max_s),
        ping=settings.desk_keepalive_s,
        ping_message_factory=keep_alive,
        sep=SEPARATOR,
        # A desk that stops reading (a phone gone to sleep with the connection up) is let go rather than
        # holding its stream open on a full socket.
        send_timeout=SEND_TIMEOUT_S,
    )
