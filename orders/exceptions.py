"""Errors of click-and-collect orders, each with its HTTP status and stable code."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from inventory.exceptions import no_product
from orders.models import OrderStatus, TransferStatus
from retail.clock import UtcDateTime, as_aware_utc
from retail.errors import InvalidInput, NotFound, Problem, RetailError, ValidationProblem
from stores.exceptions import no_store

# ------------------------------------------------------------------ the problems' own members, typed


class InvalidTransitionProblem(Problem):
    code: Literal["invalid_transition"]
    # `order_status`, not `status`: that member of a problem is the HTTP status code (RFC 9457).
    order_status: OrderStatus = Field(description="the order's status, which does not allow this")


class TransferTransitionProblem(Problem):
    code: Literal["invalid_transition"]
    transfer_status: TransferStatus = Field(description="the transfer's status, which does not allow this")
    order_status: OrderStatus | None = Field(
        default=None, description="the order's status, when it is what refuses (cancelled before shipping)"
    )


class WrongStoreProblem(Problem):
    code: Literal["wrong_store"]
    store_code: str = Field(description="the store the order is to be collected at")


class NotReadyProblem(Problem):
    code: Literal["not_ready"]


class AlreadyCollectedProblem(Problem):
    code: Literal["already_collected"]
    collected_at: UtcDateTime | None = Field(description="when the order was handed over")


class CancelledProblem(Problem):
    code: Literal["cancelled"]


class ExpiredProblem(Problem):
    code: Literal["expired"]


class ReturnWindowClosedProblem(Problem):
    code: Literal["return_window_closed"]
    collected_at: UtcDateTime = Field(description="when the order was handed over")
    return_days: int = Field(description="the store's `return_days`")
    closed_at: UtcDateTime = Field(description="when the store stopped taking the order's units back")


class UnsupportedMediaTypeProblem(Problem):
    code: Literal["unsupported_media_type"]
    accepted: list[str] = Field(description="the media types this endpoint takes")


# ---------------------------------------------------------------------------------------- the errors


class OrderNotFound(NotFound):
    """Also the answer to a wrong or missing order token, so that an order's existence never leaks."""

    code = "order_not_found"

    def __init__(self) -> None:
        super().__init__("no such order")


class IdempotencyKeyMissing(RetailError):
    status_code = 400
    code = "idempotency_key_missing"
    problem = ValidationProblem

    def __init__(self, act: str = "order twice") -> None:
        super().__init__(
            f"send an Idempotency-Key header (e.g. a UUID) so a retried request cannot {act}",
            extra={"errors": [{"field": "header.Idempotency-Key", "message": "required"}]},
        )


class IdempotencyKeyReused(InvalidInput):
    def __init__(self, what: str = "order") -> None:
        super().__init__(
            f"this Idempotency-Key was used for a different {what}",
            field="header.Idempotency-Key",
            code="idempotency_key_reused",
        )


class UnknownStore(InvalidInput):
    def __init__(self, store_code: str) -> None:
        super().__init__(no_store(store_code), field="body.store_code", code="unknown_store")


class NoClickAndCollect(InvalidInput):
    def __init__(self, store_code: str) -> None:
        super().__init__(
            f"store {store_code!r} does not offer click and collect",
            field="body.store_code",
            code="no_click_and_collect",
        )


class ClickAndCollectPaused(InvalidInput):
    def __init__(self, store_code: str) -> None:
        super().__init__(
            f"store {store_code!r} has click and collect paused for now",
            field="body.store_code",
            code="click_and_collect_paused",
        )


class UnknownSku(InvalidInput):
    def __init__(self, sku: str, *, line: int) -> None:
        super().__init__(no_product(sku), field=f"body.lines.{line}.sku", code="unknown_sku")


class InvalidLines(RetailError):
    """422: lines of a body that do not fit the order (a sku it does not have, one given twice, more
    units than there are), each named in `errors` (`body.lines.1.picked`)."""

    status_code = 422
    code = "validation_error"
    problem = ValidationProblem

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        field, message = errors[0]
        super().__init__(
            f"{field}: {message}",
            extra={"errors": [{"field": field, "message": message} for field, message in errors]},
        )


class InvalidTransition(RetailError):
    status_code = 409
    code = "invalid_transition"
    problem = InvalidTransitionProblem

    def __init__(self, status: OrderStatus, action: str) -> None:
        super().__init__(
            f"an order that is {status.value} cannot be {action}", extra={"order_status": status.value}
        )


class TransferOutOfOrder(RetailError):
    """A transfer step out of order: receive before ship, ship after receive, or ship for an order that
    no longer holds its units."""

    status_code = 409
    code = "invalid_transition"
    problem = TransferTransitionProblem

    def __init__(
        self, status: TransferStatus, action: str, *, order_status: OrderStatus | None = None
    ) -> None:
        why = f"a transfer that is {status.value} cannot be {action}"
        extra: dict[str, str] = {"transfer_status": status.value}
        if order_status is not None:
            why = f"{why}: its order is {order_status.value}"
            extra["order_status"] = order_status.value
        super().__init__(why, extra=extra)


class TransferNotFound(NotFound):
    code = "transfer_not_found"

    def __init__(self) -> None:
        super().__init__("no such transfer")


class InvalidCode(RetailError):
    status_code = 422
    code = "invalid_code"
    problem = ValidationProblem

    def __init__(self) -> None:
        super().__init__(
            "this is not a pickup code of an open order",
            extra={"errors": [{"field": "body.code", "message": "unknown, malformed or forged"}]},
        )


class WrongStore(RetailError):
    status_code = 403
    code = "wrong_store"
    problem = WrongStoreProblem

    def __init__(self, store_code: str) -> None:
        super().__init__(
            f"this order is to be collected at store {store_code}", extra={"store_code": store_code}
        )


class NotReady(RetailError):
    status_code = 409
    code = "not_ready"
    problem = NotReadyProblem

    def __init__(self) -> None:
        super().__init__("this order has not been picked yet; mark it ready first")


class AlreadyCollected(RetailError):
    status_code = 409
    code = "already_collected"
    problem = AlreadyCollectedProblem

    def __init__(self, collected_at: datetime | None) -> None:
        when = "before" if collected_at is None else f"at {as_aware_utc(collected_at).isoformat()}"
        super().__init__(f"this order was already collected {when}", extra={"collected_at": collected_at})


class OrderCancelled(RetailError):
    status_code = 409
    code = "cancelled"
    problem = CancelledProblem

    def __init__(self) -> None:
        super().__init__("this order was cancelled")


class OrderExpired(RetailError):
    status_code = 410
    code = "expired"
    problem = ExpiredProblem

    def __init__(self) -> None:
        super().__init__(
            "this order was not collected in time and has expired; its stock is back on the shelf"
        )


class NoPickupCode(RetailError):
    status_code = 409
    code = "no_pickup_code"

    def __init__(self) -> None:
        super().__init__("this order has no pickup code: its stock is not (or no longer) reserved")


class InvalidFrame(InvalidInput):
    """A camera frame posted to be scanned that is not a readable image of a sane size."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="body", code="invalid_image")


class UnsupportedFrameType(RetailError):
    status_code = 415
    code = "unsupported_media_type"
    problem = UnsupportedMediaTypeProblem

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(f"send the frame as one of {', '.join(allowed)}", extra={"accepted": allowed})


class ReturnWindowClosed(RetailError):
    status_code = 409
    code = "return_window_closed"
    problem = ReturnWindowClosedProblem

    def __init__(self, *, collected_at: datetime, return_days: int, closed_at: datetime) -> None:
        detail = (
            "this store takes no returns"
            if return_days == 0
            else f"returns of this order closed at {as_aware_utc(closed_at).isoformat()}, "
            f"{return_days} days after its collection"
        )
        super().__init__(
            detail,
            extra={"collected_at": collected_at, "return_days": return_days, "closed_at": closed_at},
        )


class ReturnLinesRefused(RetailError):
    """Lines of a return the order cannot give: a sku not in it, or more units than were collected and
    not yet returned. Every bad line is named; the code is the first one's (`not_in_order`,
    `more_than_collected`)."""

    status_code = 422
    code = "validation_error"
    problem = ValidationProblem

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        code, field, message = problems[0]
        super().__init__(
            f"{field}: {message}",
            code=code,
            extra={"errors": [{"field": f, "message": m} for _, f, m in problems]},
        )
