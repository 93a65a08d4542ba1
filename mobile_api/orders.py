"""Shopper order endpoints (`/mobile/v1/orders`): place an order, follow it, cancel it, check in on the way
to collect it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Response

from mobile_api.params import SHOPPER_RATE_LIMIT, SHOPPER_RESPONSES, TOKEN_OPTIONAL, shopper_token
from orders import pickup, responses
from orders import service as orders_service
from orders.desk_schemas import ArrivalIn
from orders.exceptions import IdempotencyKeyMissing, InvalidTransition, NoPickupCode
from orders.schemas import OrderAccepted, OrderIn, OrderOut
from retail.db import ReadSessionDep, SessionDep
from retail.errors import problem_responses
from retail.routing import OneHopRoute


class ShopperOrderRoute(OneHopRoute):
    """A shopper's order routes, at most three at a time per process, under a limit of their own (as the
    shopper's reads, `retail.replica.LookupRoute`): under anyio's shared limit eight placements at once
    ran on eight threads that took the interpreter's lock from each other at every database and Redis
    round trip. Each runs its transaction in its one hop, so none waits for a thread while holding a
    lock another needs. `POST /orders` cost 1.67-1.68 ms of CPU against 1.88-2.11 ms (README,
    Benchmarks); a limit of their own, so that they never wait behind the reads, nor the reads behind
    them. Three, not two as the reads: a placement waits for its commit, and two at a time left the
    process idle a sixth of the time (0.84-0.85 cores used against 0.91-0.94, 475-510 against 549-629
    orders a second, two alternating pairs, 2026-12-08)."""

    threads = 3


router = APIRouter(
    prefix="/mobile/v1",
    tags=["mobile"],
    route_class=ShopperOrderRoute,
    dependencies=[SHOPPER_RATE_LIMIT],
    responses={**problem_responses(404), **SHOPPER_RESPONSES},
)

OrderIdPath = Annotated[str, Path(max_length=64, description="the order's id, from the order's creation")]
OrderToken = Annotated[
    str | None, Depends(shopper_token(scheme_name="OrderToken", name="order_token", of="the order"))
]

# Documented as the required header it is. The parameter below is optional only so that a request without
# it gets the contract's 400 `idempotency_key_missing`, not FastAPI's 422 for a missing parameter.
IDEMPOTENCY_KEY_HEADER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": (
        "a fresh random value (e.g. a UUID) per order: a retry with the same key and body answers the "
        "same order, never a second one; the same key with another body is 422 `idempotency_key_reused`"
    ),
    "schema": {"type": "string", "maxLength": 200},
    "example": "3f8e2b2c-6c1d-4a5e-9d8e-2f1b7c4a9e10",
}


def _qr_image(media_type: str) -> dict[str, Any]:
    return {
        "description": "the QR code staff scan",
        "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
    }


@router.post(
    "/orders",
    name="order_create",
    status_code=202,
    response_model=OrderAccepted,
    responses=problem_responses(IdempotencyKeyMissing, 422),
    openapi_extra={"parameters": [IDEMPOTENCY_KEY_HEADER]},
)
def create_order(
    order_in: OrderIn,
    session: SessionDep,
    idempotency_key: Annotated[str | None, Header(max_length=200, include_in_schema=False)] = None,
) -> OrderAccepted:
    """Accept a click-and-collect order; its stock is reserved shortly after, all lines or none."""
    if idempotency_key is None:
        raise IdempotencyKeyMissing()
    accepted = orders_service.place_order(session, order_in=order_in, idempotency_key=idempotency_key)
    return OrderAccepted(
        order_id=accepted.order_id,
        order_token=accepted.token,
        status=accepted.status,
        status_url=f"/mobile/v1/orders/{accepted.order_id}",
        created_at=accepted.created_at,
    )


@router.get("/orders/{order_id}", name="order_get", response_model=OrderOut, openapi_extra=TOKEN_OPTIONAL)
def get_order(order_id: OrderIdPath, session: ReadSessionDep, token: OrderToken) -> OrderOut:
    """The order's status, lines, history and, while it waits for pickup, its pickup code."""
    order = orders_service.get_order(session, order_id=order_id, token=token)
    return responses.order_out(orders_service.order_record(session, order=order))


@router.post(
    "/orders/{order_id}/cancel",
    name="order_cancel",
    openapi_extra=TOKEN_OPTIONAL,
    response_model=OrderOut,
    responses=problem_responses(InvalidTransition),
)
def cancel_order(order_id: OrderIdPath, session: SessionDep, token: OrderToken) -> OrderOut:
    """Cancel before collection; the stock goes back on the shelf."""
    order = orders_service.cancel_order(session, order_id=order_id, token=token)
    return responses.order_out(orders_service.order_record(session, order=order))


@router.post(
    "/orders/{order_id}/arrival",
    name="order_arrival",
    openapi_extra=TOKEN_OPTIONAL,
    response_model=OrderOut,
    responses=problem_responses(InvalidTransition, 422),
)
def check_in(order_id: OrderIdPath, body: ArrivalIn, session: SessionDep, token: OrderToken) -> OrderOut:
    """The shopper is on the way (`eta_minutes`) or has arrived (`where`: counter or curbside, `bay`):
    the store's arrivals list and desk see it at once. A later check-in replaces the earlier one. Only
    while the order is reserved or ready for pickup; at most 30 check-ins per order in 10 minutes."""
    order = orders_service.check_in(session, order_id=order_id, token=token, arrival=body)
    return responses.order_out(orders_service.order_record(session, order=order))


@router.get(
    "/orders/{order_id}/pickup-code.png",
    name="order_pickup_code_png",
    openapi_extra=TOKEN_OPTIONAL,
    response_class=Response,
    responses={
        200: _qr_image("image/png"),
        **problem_responses(NoPickupCode),
    },
)
def pickup_code_png(order_id: OrderIdPath, session: ReadSessionDep, token: OrderToken) -> Response:
    """The QR code to show at the counter, while the order waits for pickup."""
    code = orders_service.pickup_token(session, order_id=order_id, token=token)
    return Response(pickup.qr_png(code), media_type="image/png")


@router.get(
    "/orders/{order_id}/pickup-code.svg",
    name="order_pickup_code_svg",
    openapi_extra=TOKEN_OPTIONAL,
    response_class=Response,
    responses={
        200: _qr_image("image/svg+xml"),
        **problem_responses(NoPickupCode),
    },
)
def pickup_code_svg(order_id: OrderIdPath, session: ReadSessionDep, token: OrderToken) -> Response:
    """The same QR code as SVG."""
    code = orders_service.pickup_token(session, order_id=order_id, token=token)
    return Response(pickup.qr_svg(code), media_type="image/svg+xml")
