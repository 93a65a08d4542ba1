"""Errors of click-and-collect orders, each with its HTTP status and stable code."""

from __future__ import annotations

from retail.errors import InvalidInput, NotFound, RetailError


class OrderNotFound(NotFound):
    """Also the answer to a wrong or missing order token, so that an order's existence never leaks."""

    code = "order_not_found"

    def __init__(self) -> None:
        super().__init__("no such order")


class IdempotencyKeyMissing(RetailError):
    status_code = 400
    code = "idempotency_key_missing"

    def __init__(self) -> None:
        super().__init__(
            "send an Idempotency-Key header (e.g. a UUID) so a retried request cannot order twice",
            extra={"errors": [{"field": "header.Idempotency-Key", "message": "required"}]},
        )


class IdempotencyKeyReused(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was used for a different order",
            field="header.Idempotency-Key",
            code="idempotency_key_reused",
        )


class InvalidTransition(RetailError):
    status_code = 409
    code = "invalid_transition"

    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"an order that is {status} cannot be {action}", extra={"status": status})
