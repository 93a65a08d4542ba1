"""Holding off Python's cyclic garbage collector while a block builds many short-lived objects.

`collector_paused()` is process-wide and counted across threads: the collector stays off while any
thread is inside a paused block, and is left as it was found once none is. It is for work that makes no
reference cycles and frees what it made by reference counts, such as one page of the availability feed
(`inventory/feed.py`).

Why the feed needs it: a page is thousands of pydantic items of three tracked objects each, and the rows
and dicts they are made of. Collected as it grew, a page set off a young collection every 700 objects,
which aged them into the old generation, so every second page or so set off a full collection, which
walks every object of the process (about 134,000: 70-100 ms): half of a full walk's CPU (README,
Benchmarks: `bench/feed.py`). Held off, the page's items meet one young collection afterwards and are
freed by their reference counts once the answer is written, before they grow old. Nothing is lost: a page
makes no garbage cycles, and any other thread's garbage waits for the next collection a page's time at
most (tens of milliseconds).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class CollectorPause:
    """The counted pause; the process has one, `collector_paused` (tests make their own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._inside == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if self._inside == 0 and self._was_enabled:
                    gc.enable()


collector_paused = CollectorPause()
