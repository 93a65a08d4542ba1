"""The desk's event stream in one process: the generator behind `GET /staff/v1/stores/{code}/events` (the
position first, then each committed event once, in order, woken by the counter watch), and the route
(where it starts, `Last-Event-ID`, keep-alive comments, refusals). Across processes, reconnects and
shutdown: tests/e2e/test_desk_events.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from sse_starlette import ServerSentEvent

from orders import desk_events, desk_stream
from orders.desk_schemas import DeskEventType
from retail import dialect
from retail.clock import utcnow
from retail.settings import get_settings
from stores.models import Store
from tests.factories import committed_store

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)


@pytest.fixture
def committed_shop(engine: Engine) -> Iterator[int]:
    """S1 with THEE counted, committed for real; answers its store id. Every table emptied afterwards."""
    with committed_store(engine, "S1", {"THEE": 50}):
        with Session(engine) as session:
            store_id = session.exec(select(Store.id).where(Store.code == "S1")).one()
        assert store_id is not None
        yield store_id


def _commit_events(engine: Engine, store_id: int, *order_ids: str) -> None:
    with Session(engine) as session:
        desk_events.emit(
            session,
            store_id=store_id,
            events=[desk_events.NewDeskEvent(DeskEventType.order_reserved, o, utcnow()) for o in order_ids],
        )
        session.commit()


def _data(event: ServerSentEvent) -> tuple[str | None, Any]:
    import json

    return event.id, None if event.data is None else json.loads(event.data)["order_id"]


async def _read(
    engine: Engine, store_id: int, *, after: int, lasts_s: float, meanwhile: Callable[[], None] | None = None
) -> list[ServerSentEvent]:
    watch = desk_stream.CounterWatch(
        lambda ids: _counters(engine, ids), poll_s=0.05
    )  # a watch of the test's own database, quick
    got: list[ServerSentEvent] = []

    async def consume() -> None:
        async for event in desk_stream.store_events(
            dialect.read_only(engine), store_id=store_id, after=after, lasts_s=lasts_s, watch=watch
        ):
            got.append(event)

    task = asyncio.create_task(consume())
    if meanwhile is not None:
        await asyncio.sleep(0.3)  # the stream is waiting by now
        await asyncio.to_thread(meanwhile)
    await task
    assert watch._waiters == {}  # the stream unwatched when it ended
    return got


def _counters(engine: Engine, store_ids: Any) -> dict[int, int]:
    with engine.connect() as connection:
        return desk_events.last_seqs(connection, store_ids=store_ids)


@BOTH_DATABASES
def test_the_stream_starts_with_its_position_then_sends_each_committed_event_once(
    engine: Engine, committed_shop: int
) -> None:
    _commit_events(engine, committed_shop, "ord_1", "ord_2")
    got = asyncio.run(
        _read(
            engine,
            committed_shop,
            after=1,
            lasts_s=1.5,
            meanwhile=lambda: _commit_events(engine, committed_shop, "ord_3"),
        )
    )
    assert [_data(e) for e in got] == [("1", None), ("2", "ord_2"), ("3", "ord_3")]
    assert got[0].encode() == b"id: 1\n\n"
    assert got[1].encode().startswith(b'id: 2\ndata: {"type":"order.reserved","order_id":"ord_2","at":"')


@BOTH_DATABASES
def test_a_woken_stream_sends_what_came_within_a_fraction_of_a_second(
    engine: Engine, committed_shop: int
) -> None:
    sent_at: list[float] = []

    def commit() -> None:
        sent_at.append(time.monotonic())
        _commit_events(engine, committed_shop, "ord_late")

    started = time.monotonic()
    got = asyncio.run(_read(engine, committed_shop, after=0, lasts_s=2.0, meanwhile=commit))
    assert [_data(e) for e in got] == [("0", None), ("1", "ord_late")]
    # The whole stream lasted its 2 s, and the event was not left for the fall-back read (30 s).
    assert 2.0 <= time.monotonic() - started < 5


def test_many_events_come_in_pages_in_order(engine: Engine, committed_shop: int) -> None:
    _commit_events(engine, committed_shop, *(f"ord_{n}" for n in range(desk_stream.PAGE * 2 + 5)))
    got = asyncio.run(_read(engine, committed_shop, after=0, lasts_s=0.5))
    assert [int(e.id or -1) for e in got] == list(range(desk_stream.PAGE * 2 + 6))


# ------------------------------------------------------------------------------------------- the route


def _lines(body: str) -> list[str]:
    return [line for line in body.split("\n") if line]


def test_the_route_streams_the_stores_events_from_where_the_desk_left_off(
    committed_client: TestClient,
    committed_key: Callable[..., dict[str, str]],
    engine: Engine,
    committed_shop: int,
) -> None:
    staff = committed_key("staff", "S1")
    _commit_events(engine, committed_shop, "ord_1", "ord_2", "ord_3")
    resumed = committed_client.get("/staff/v1/stores/S1/events", headers={**staff, "Last-Event-ID": "1"})
    assert resumed.status_code == 200
    assert resumed.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert resumed.headers["cache-control"] == "no-store"
    assert resumed.headers["x-accel-buffering"] == "no"
    lines = _lines(resumed.text)
    assert lines[0] == "id: 1"
    assert [line for line in lines if line.startswith("id:")] == ["id: 1", "id: 2", "id: 3"]
    assert [
        line[len('data: {"type":"order.reserved","order_id":"') :][:5]
        for line in lines
        if line.startswith("data:")
    ] == [
        "ord_2",
        "ord_3",
    ]
    # Without an id the stream starts after the last event; the query parameter serves a client that
    # cannot set the header; an id beyond the last starts after the last.
    assert _lines(committed_client.get("/staff/v1/stores/S1/events", headers=staff).text) == ["id: 3"]
    by_query = committed_client.get("/staff/v1/stores/S1/events?last_event_id=2", headers=staff)
    assert [line for line in _lines(by_query.text) if line.startswith("id:")] == ["id: 2", "id: 3"]
    beyond = committed_client.get("/staff/v1/stores/S1/events", headers={**staff, "Last-Event-ID": "99"})
    assert _lines(beyond.text) == ["id: 3"]
    admin = committed_client.get("/staff/v1/stores/S1/events?last_event_id=3", headers=committed_key("admin"))
    assert _lines(admin.text) == ["id: 3"]


def test_keep_alive_comments_fill_the_quiet(
    committed_client: TestClient,
    committed_key: Callable[..., dict[str, str]],
    committed_shop: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "desk_keepalive_s", 0.2)
    monkeypatch.setattr(get_settings(), "desk_stream_max_s", 1.1)
    quiet = committed_client.get("/staff/v1/stores/S1/events", headers=committed_key("staff", "S1"))
    lines = _lines(quiet.text)
    assert lines[0] == "id: 0"
    assert 3 <= lines.count(": keep-alive") <= 6, lines
    assert set(lines[1:]) == {": keep-alive"}


@pytest.mark.parametrize("header", ["abc", "-1", "1.0", "\uff11", "9" * 20, "1" * 21, " "])
def test_a_last_event_id_that_is_none_of_ours_is_a_422_naming_the_header(
    committed_client: TestClient,
    committed_key: Callable[..., dict[str, str]],
    committed_shop: int,
    header: str,
) -> None:
    staff = committed_key("staff", "S1")
    refused = committed_client.get(
        "/staff/v1/stores/S1/events",
        headers={**staff, "Last-Event-ID": header.encode()},
    )
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["header.Last-Event-ID"]
    bad_query = committed_client.get("/staff/v1/stores/S1/events?last_event_id=-1", headers=staff)
    assert [e["field"] for e in bad_query.json()["errors"]] == ["query.last_event_id"]


def test_the_stream_is_the_stores_own(
    committed_client: TestClient, committed_key: Callable[..., dict[str, str]], committed_shop: int
) -> None:
    other = committed_client.get("/staff/v1/stores/S1/events", headers=committed_key("staff", "S2"))
    assert other.status_code == 403
    assert other.json()["code"] == "wrong_store"
    assert committed_client.get("/staff/v1/stores/S1/events").status_code == 401
    assert (
        committed_client.get("/staff/v1/stores/S1/events", headers=committed_key("webshop")).status_code
        == 403
    )
    assert (
        committed_client.get("/staff/v1/stores/NOPE/events", headers=committed_key("admin")).status_code
        == 404
    )
