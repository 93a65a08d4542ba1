"""The availability feed holds Python's garbage collector off while it builds a page (`inventory.feed`,
`retail.collector.CollectorPause`), and the pause must leave it as it found it: on when it was on, off
when someone had turned it off, whichever thread leaves last and however the page ends."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from retail.collector import CollectorPause


@pytest.fixture
def collector_on() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_off_inside_and_back_on_after_the_last_one_leaves() -> None:
    paused = CollectorPause()
    with paused():
        assert not gc.isenabled()
        with paused():  # a second page meanwhile (another thread's, in a server)
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first is still building
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_page_that_fails_gives_the_collector_back() -> None:
    paused = CollectorPause()
    with pytest.raises(ZeroDivisionError), paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_collector_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    paused = CollectorPause()
    with paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_threads_that_overlap_leave_it_on() -> None:
    paused = CollectorPause()
    first_inside, second_done = threading.Event(), threading.Event()
    seen_inside: list[bool] = []

    def first() -> None:
        with paused():
            first_inside.set()
            second_done.wait(5)

    def second() -> None:
        first_inside.wait(5)
        with paused():
            seen_inside.append(gc.isenabled())
        seen_inside.append(gc.isenabled())  # the first thread is still inside
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen_inside == [False, False]
    assert gc.isenabled()
