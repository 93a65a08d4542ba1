"""Back in stock at my store (`/mobile/v1/stock-alerts`): a shopper asks to be told by email when a
product is available again at a store, reads the alert and cancels it with the alert's token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from inventory import service as inventory_service
from inventory.exceptions import TooManyAlerts
from inventory.schemas import AlertStatus, StockAlertCreated, StockAlertIn, StockAlertOut
from mobile_api.params import SHOPPER_RATE_LIMIT, SHOPPER_RESPONSES, TOKEN_OPTIONAL, shopper_token
from retail.db import ReadSessionDep, SessionDep
from retail.errors import problem_responses
from retail.routing import OneHopRoute

router = APIRouter(
    prefix="/mobile/v1",
    tags=["mobile"],
    route_class=OneHopRoute,
    dependencies=[SHOPPER_RATE_LIMIT],
    responses={**problem_responses(404), **SHOPPER_RESPONSES},
)

AlertIdPath = Annotated[str, Path(max_length=64, description="the alert's id, from its creation")]
AlertToken = Annotated[
    str | None, Depends(shopper_token(scheme_name="AlertToken", name="alert_token", of="the alert"))
]


def _alert_out(alert: inventory_service.AlertView) -> StockAlertOut:
    return StockAlertOut(
        alert_id=alert.alert_id,
        status=AlertStatus(alert.status),
        store_code=alert.store_code,
        sku=alert.sku,
        created_at=alert.created_at,
        sent_at=alert.sent_at,
    )


@router.post(
    "/stock-alerts",
    name="stock_alert_create",
    status_code=201,
    response_model=StockAlertCreated,
    responses=problem_responses(TooManyAlerts, 422),
)
def create_stock_alert(body: StockAlertIn, session: SessionDep) -> StockAlertCreated:
    """Email me when this product is back in stock at this store: one message, when the units available
    there rise above zero, whatever brings them back. Asking again for the same store, sku and address
    answers the same alert; an address waits for at most 20 at once."""
    alert = inventory_service.create_alert(
        session, store_code=body.store_code, sku=body.sku, email=body.email, locale=body.locale
    )
    return StockAlertCreated(
        alert_id=alert.alert_id,
        alert_token=inventory_service.alert_token(alert.alert_id),
        status=AlertStatus(alert.status),
    )


@router.get(
    "/stock-alerts/{alert_id}",
    name="stock_alert_get",
    response_model=StockAlertOut,
    openapi_extra=TOKEN_OPTIONAL,
)
def get_stock_alert(alert_id: AlertIdPath, session: ReadSessionDep, token: AlertToken) -> StockAlertOut:
    """The alert: still `waiting`, or `sent`."""
    return _alert_out(inventory_service.get_alert(session, alert_id=alert_id, token=token))


@router.delete(
    "/stock-alerts/{alert_id}",
    name="stock_alert_delete",
    response_model=StockAlertOut,
    openapi_extra=TOKEN_OPTIONAL,
)
def delete_stock_alert(alert_id: AlertIdPath, session: SessionDep, token: AlertToken) -> StockAlertOut:
    """Cancel the alert: answers it `cancelled`, for the last time; the email address is forgotten with
    it, and the alert's id answers 404 from now on."""
    cancelled = inventory_service.cancel_alert(session, alert_id=alert_id, token=token)
    return _alert_out(cancelled)
