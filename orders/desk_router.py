"""The live desk's part of the staff surface (`/staff/v1`): the store's arrivals and its event stream. Thin
handlers over orders.arrivals and orders.desk_stream."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from sse_starlette import EventSourceResponse

from orders import arrivals, desk_events, desk_stream, staff
from orders.desk_schemas import ArrivalPage, DeskEventOut
from retail.auth import StaffReadKey
from retail.db import ReadSessionDep, get_read_engine
from retail.errors import InvalidInput, problem_responses
from retail.routing import OneHopRoute

router = APIRouter(
    prefix="/staff/v1", tags=["staff"], responses=problem_responses(401, 403, 404), route_class=OneHopRoute
)

StoreCodePath = Annotated[str, Path(max_length=32)]
MAX_EVENT_ID = 2**63 - 1

_STREAM_EXAMPLE = (
    "id: 41\n"
    "\n"
    ": keep-alive\n"
    "\n"
    "id: 42\n"
    'data: {"type":"order.reserved","order_id":"ord_4kP9x2QmZ7bT1vR8sLw3Ne","at":"2026-11-23T14:02:12Z"}\n'
    "\n"
    "id: 43\n"
    'data: {"type":"order.arrival","order_id":"ord_4kP9x2QmZ7bT1vR8sLw3Ne","at":"2026-11-23T16:05:00Z"}\n'
    "\n"
)
_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "`text/event-stream`: first `id: N` alone (where the stream starts), then each event as "
            "`id: <number>` and `data: " + DeskEventOut.__name__ + "` (JSON: `type`, `order_id`, `at`), "
            "and a `: keep-alive` comment at least every 15 s"
        ),
        "content": {"text/event-stream": {"schema": {"type": "string"}, "example": _STREAM_EXAMPLE}},
    }
}


@router.get(
    "/stores/{code}/arrivals",
    name="staff_store_arrivals",
    response_model=ArrivalPage,
)
def store_arrivals(code: StoreCodePath, session: ReadSessionDep, principal: StaffReadKey) -> ArrivalPage:
    """Orders of the store whose shopper is on the way or has arrived (reserved or ready): arrived first,
    earliest arrival first, then on the way by `eta`; with `waiting_minutes` (since arrival; null while on
    the way) and `handover_overdue` (waiting longer than the store's `handover_minutes`)."""
    return arrivals.arrivals_page(session, principal=principal, store_code=code)


@router.get(
    "/stores/{code}/events",
    name="staff_store_events",
    response_class=EventSourceResponse,
    responses={**_STREAM, **problem_responses(422)},
)
def store_events(
    code: StoreCodePath,
    session: ReadSessionDep,
    principal: StaffReadKey,
    last_event_id_header: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=20,
            description="the `id:` of the last event the desk received: the stream resumes after it",
        ),
    ] = None,
    last_event_id: Annotated[
        int | None,
        Query(ge=0, le=MAX_EVENT_ID, description="the same, for a client that cannot set the header"),
    ] = None,
) -> EventSourceResponse:
    """The desk's live stream of its store's events (Server-Sent Events): `order.reserved` (a new order to
    pick), `order.cancelled` (a reserved or ready order cancelled by its shopper), `order.arrival` (a
    shopper checked in). Each has an `id:`; after a dropped connection, `Last-Event-ID` (or
    `last_event_id`) resumes after it with nothing lost or sent twice, for a day. Without either, the
    stream starts with the next event. The server ends a stream after a few minutes
    (`RETAIL_DESK_STREAM_MAX_S`); reconnect with `Last-Event-ID`."""
    store = staff.counter_store(session, principal=principal, store_code=code)
    assert store.id is not None
    requested = last_event_id if last_event_id_header is None else _event_id(last_event_id_header)
    # Never past the store's last event: a desk that remembers more (a database restored from a backup)
    # would wait for numbers that come again.
    latest = desk_events.last_seq(session, store_id=store.id)
    after = latest if requested is None else min(requested, latest)
    return desk_stream.response(get_read_engine(), store_id=store.id, after=after)


def _event_id(header: str) -> int:
    if not header.isascii() or not header.isdigit() or int(header) > MAX_EVENT_ID:
        raise InvalidInput("the id of an event of this stream: a whole number", field="header.Last-Event-ID")
    return int(header)
