"""The store staff surface (`/staff/v1`): thin handlers over orders.staff."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request

from orders import lifecycle, responses, returns, scan, staff, transfers
from orders.counter_schemas import ReadyIn, ReturnIn
from orders.exceptions import (
    AlreadyCollected,
    IdempotencyKeyMissing,
    InvalidCode,
    InvalidFrame,
    InvalidLines,
    InvalidTransition,
    NotReady,
    OrderCancelled,
    OrderExpired,
    ReturnLinesRefused,
    ReturnWindowClosed,
    TransferNotFound,
    TransferOutOfOrder,
    UnsupportedFrameType,
    WrongStore,
)
from orders.models import OrderStatus, TransferStatus
from orders.schemas import (
    STAFF_RETURNED_ORDER_EXAMPLE,
    CodeIn,
    ConfirmIn,
    CounterStore,
    HandOver,
    ScanResult,
    StaffIdentity,
    StaffOrder,
    StaffOrderPage,
)
from orders.transfer_schemas import StaffTransfer, StaffTransferPage, TransferDirection
from retail import ratelimit
from retail.auth import Principal, StaffKey, StaffReadKey
from retail.db import ReadSessionDep, SessionDep
from retail.errors import PayloadTooLarge, problem_responses
from retail.pagination import decode_position, encode_cursor
from retail.ratelimit import RateLimited
from retail.routing import OneHopRoute
from retail.settings import get_settings

router = APIRouter(
    prefix="/staff/v1", tags=["staff"], responses=problem_responses(401, 403, 404), route_class=OneHopRoute
)

OrderIdPath = Annotated[str, Path(max_length=64)]

# Why verify and confirm refuse a code; 403 is also a key of the wrong role.
HAND_OVER_REFUSALS = problem_responses(
    WrongStore, 403, NotReady, AlreadyCollected, OrderCancelled, OrderExpired, InvalidCode, RateLimited
)
CONFIRM_REFUSALS = problem_responses(
    WrongStore,
    403,
    NotReady,
    AlreadyCollected,
    OrderCancelled,
    OrderExpired,
    InvalidCode,
    InvalidLines,
    RateLimited,
)
StoreCodePath = Annotated[str, Path(max_length=32)]


@router.get("/me", name="staff_me", response_model=StaffIdentity)
def me(principal: StaffReadKey) -> StaffIdentity:
    """Whose key this is: what the pickup desk page signs in with, to know its store."""
    return StaffIdentity(role=principal.role, store_code=principal.store_code)


@router.get("/stores/{code}", name="staff_store", response_model=CounterStore)
def counter_store(code: StoreCodePath, session: ReadSessionDep, principal: StaffReadKey) -> CounterStore:
    """The store a desk stands at: its name and time zone (another store's code: 403 `wrong_store`)."""
    store = staff.counter_store(session, principal=principal, store_code=code)
    return CounterStore(code=store.code, name=store.name, timezone=store.timezone)


@router.get("/stores/{code}/orders", name="staff_store_orders", response_model=StaffOrderPage)
def store_orders(
    code: StoreCodePath,
    session: ReadSessionDep,
    principal: StaffReadKey,
    status: Annotated[
        list[OrderStatus],
        Query(description="repeatable; default: reserved and ready_for_pickup (the orders to hand over)"),
    ] = [OrderStatus.reserved, OrderStatus.ready_for_pickup],  # noqa: B006 (never mutated)
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> StaffOrderPage:
    """The pick list: the store's orders in the given states, late orders first, then oldest first."""
    statuses = sorted(set(status or [OrderStatus.reserved, OrderStatus.ready_for_pickup]))
    scope = {"route": "staff_store_orders", "store": code, "status": [s.value for s in statuses]}
    orders, more = staff.pick_list(
        session,
        principal=principal,
        store_code=code,
        statuses=statuses,
        limit=limit,
        after=decode_position(cursor, int, datetime, int, scope=scope),
    )
    return StaffOrderPage(
        items=[responses.staff_order(record) for record in lifecycle.order_records(session, orders=orders)],
        next_cursor=encode_cursor([more[0], more[1].isoformat(), more[2]], scope=scope) if more else None,
    )


@router.get("/stores/{code}/transfers", name="staff_store_transfers", response_model=StaffTransferPage)
def store_transfers(
    code: StoreCodePath,
    session: ReadSessionDep,
    principal: StaffReadKey,
    direction: Annotated[
        TransferDirection, Query(description="`outgoing`: to pick and ship; `incoming`: to receive")
    ] = TransferDirection.outgoing,
    status: Annotated[TransferStatus | None, Query(description="only transfers in this status")] = None,
) -> StaffTransferPage:
    """The store's transfers, oldest first (at most 200): each with its lines and its order."""
    return StaffTransferPage(
        items=transfers.store_transfers(
            session, principal=principal, store_code=code, direction=direction, status=status
        )
    )


TransferIdPath = Annotated[str, Path(max_length=64)]
TRANSFER_REFUSALS = problem_responses(TransferOutOfOrder, TransferNotFound)


@router.post(
    "/transfers/{transfer_id}/ship",
    name="staff_transfer_ship",
    response_model=StaffTransfer,
    responses=TRANSFER_REFUSALS,
)
def ship_transfer(transfer_id: TransferIdPath, session: SessionDep, principal: StaffKey) -> StaffTransfer:
    """The source ships: its units leave its `on_hand` and `reserved` (movements `transfer_out`) and count
    in the pickup store's `in_transit`; the pickup store's desk hears `transfer.incoming`. Shipped before:
    the same transfer; received, or its order cancelled: 409 `invalid_transition`; a key of another store
    than the source: 403 `wrong_store`."""
    return transfers.ship(session, principal=principal, transfer_id=transfer_id)


@router.post(
    "/transfers/{transfer_id}/receive",
    name="staff_transfer_receive",
    response_model=StaffTransfer,
    responses=TRANSFER_REFUSALS,
)
def receive_transfer(transfer_id: TransferIdPath, session: SessionDep, principal: StaffKey) -> StaffTransfer:
    """The pickup store receives: the units enter its `on_hand` (movements `transfer_in`), reserved for the
    order (unreserved if it was cancelled meanwhile). Received before: the same transfer; not shipped yet:
    409 `invalid_transition`; a key of another store than the pickup store: 403 `wrong_store`."""
    return transfers.receive(session, principal=principal, transfer_id=transfer_id)


@router.post(
    "/orders/{order_id}/ready",
    name="staff_order_ready",
    response_model=StaffOrder,
    responses=problem_responses(InvalidTransition, InvalidLines),
)
def order_ready(
    order_id: OrderIdPath,
    session: SessionDep,
    principal: StaffKey,
    body: Annotated[ReadyIn, Body(default_factory=ReadyIn)],
) -> StaffOrder:
    """The order is picked: `reserved` -> `ready_for_pickup`.

    No body, or a line left out of `lines`, means picked in full. A line picked short: its missing units
    leave `reserved` and `on_hand` at once (a `short_pick` stock movement, in the availability feed), the
    order gains `shortages` (with the nearest other stores that hold the missing units) and its `total`
    counts the picked units. Every line picked 0: the order is `rejected` with `problem.code`
    `short_pick` and alternatives for the whole basket (its `total` 0.00: nothing was picked). A sku
    not in the order, given twice, or picked more than ordered: 422 naming the line.
    """
    picked = [(line.sku, line.picked) for line in body.lines]
    order = staff.mark_ready(session, principal=principal, order_id=order_id, picked=picked)
    return responses.staff_order(lifecycle.order_record(session, order=order))


# Documented as the required header it is; the parameter is optional only so that a request without it
# gets the contract's 400 `idempotency_key_missing`, as placing an order does.
_RETURN_KEY_HEADER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": (
        "a fresh random value (e.g. a UUID) per return: a retry with the same key and body answers the "
        "same return, never a second one; the same key with another body is 422 `idempotency_key_reused`"
    ),
    "schema": {"type": "string", "maxLength": 200},
    "example": "6b1f0c9e-2d4a-4f7b-8e3c-5a9d1e7f2b40",
}


@router.post(
    "/orders/{order_id}/returns",
    name="staff_order_return",
    response_model=StaffOrder,
    responses={
        200: {"content": {"application/json": {"example": STAFF_RETURNED_ORDER_EXAMPLE}}},
        **problem_responses(
            IdempotencyKeyMissing, WrongStore, InvalidTransition, ReturnWindowClosed, ReturnLinesRefused, 422
        ),
    },
    openapi_extra={"parameters": [_RETURN_KEY_HEADER]},
)
def order_return(
    order_id: OrderIdPath,
    body: ReturnIn,
    session: SessionDep,
    principal: StaffKey,
    idempotency_key: Annotated[str | None, Header(max_length=200, include_in_schema=False)] = None,
) -> StaffOrder:
    """Take units of a collected order back at the counter, within the store's `return_days` of its
    collection: `restock` puts them back into the store's stock (a `return` movement), else they are
    written off. Answers the order with its `returns`."""
    if idempotency_key is None:
        raise IdempotencyKeyMissing("return twice")
    order = returns.take_return(
        session, principal=principal, order_id=order_id, return_in=body, idempotency_key=idempotency_key
    )
    return responses.staff_order(lifecycle.order_record(session, order=order))


@router.post(
    "/pickups/verify",
    name="staff_pickup_verify",
    response_model=HandOver,
    responses=HAND_OVER_REFUSALS,
)
def verify(body: CodeIn, session: ReadSessionDep, principal: StaffReadKey) -> HandOver:
    """The order a code belongs to, for the clerk to check (`pickup_person`: who else may collect it);
    changes nothing."""
    _throttle(principal)
    order = staff.find_by_code(session, principal=principal, code=body.code, store_code=body.store_code)
    return responses.hand_over(lifecycle.order_record(session, order=order))


@router.post(
    "/pickups/confirm",
    name="staff_pickup_confirm",
    response_model=HandOver,
    responses=CONFIRM_REFUSALS,
)
def confirm(body: ConfirmIn, session: SessionDep, principal: StaffKey) -> HandOver:
    """Hand the order over: it becomes `collected` and the units taken leave the store's stock.

    `lines` says what the collector takes (a line left out: everything picked); picked units not taken
    are refused at the counter and go back on the shelf (they leave `reserved`, stay in `on_hand`).
    Refusing everything is allowed: the order is `collected` with every line's `collected` 0.
    `verification` says how the collector was checked (left out: `qr` for a scanned code, `short_code`
    for a typed one); the `collected` history entry records it with the key's label. A sku not in the
    order, given twice, or taken more than picked: 422 naming the line.
    """
    _throttle(principal)
    order = staff.confirm(
        session,
        principal=principal,
        code=body.code,
        store_code=body.store_code,
        taken=[(line.sku, line.quantity) for line in body.lines],
        verification=body.verification,
    )
    return responses.hand_over(lifecycle.order_record(session, order=order))


async def _frame(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in scan.FRAME_MEDIA_TYPES:
        raise UnsupportedFrameType(sorted(scan.FRAME_MEDIA_TYPES))
    # Read at most one byte past the limit, whatever Content-Length says, so a huge upload is never held.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > scan.MAX_FRAME_BYTES:
            raise PayloadTooLarge(scan.MAX_FRAME_BYTES, what="the frame")
    return bytes(body)


_FRAME_BODY = {
    "required": True,
    "description": (
        "one camera frame, JPEG, PNG or WebP, at most 1 MiB and 4 megapixels; the Content-Type names it"
    ),
    "content": {
        media_type: {"schema": {"type": "string", "format": "binary"}}
        for media_type in sorted(scan.FRAME_MEDIA_TYPES)
    },
}


@router.post(
    "/pickups/scan",
    name="staff_pickup_scan",
    response_model=ScanResult,
    responses=problem_responses(PayloadTooLarge, UnsupportedFrameType, InvalidFrame, RateLimited),
    openapi_extra={"requestBody": _FRAME_BODY},
)
def scan_frame(principal: StaffKey, frame: Annotated[bytes, Depends(_frame)]) -> ScanResult:
    """Read the pickup QR code in a camera frame (JPEG, PNG or WebP, at most 1 MiB); changes nothing.

    The pickup desk page posts a few frames a second while the camera is on and sends the first code
    found to `pickups/verify`, so phones without a barcode detector of their own can scan too.
    """
    ratelimit.hit(f"scan:{principal.key_ref}", limit=get_settings().scan_frames_per_minute, window_s=60)
    return ScanResult(code=scan.decode_frame(frame))


def _throttle(principal: Principal) -> None:
    # A short code has ~40 bits: safe only while guessing is slow. A clerk scanning a queue stays far
    # below the limit; a script trying codes does not.
    ratelimit.hit(f"pickup:{principal.key_ref}", limit=get_settings().pickup_attempts_per_minute, window_s=60)
