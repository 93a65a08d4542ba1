"""Errors of the catalogue and stock, each with its HTTP status and stable code, and the row errors of the
bulk writes that name an unknown store or product."""

from __future__ import annotations

from retail.bulk import RowError
from retail.errors import InvalidInput, NotFound, RetailError, ValidationProblem
from stores.exceptions import no_store


def no_product(sku: str) -> str:
    """How every answer says that a sku names no product (a 404, a refused order line, a bulk row)."""
    return f"no product with sku {sku!r}"


class ProductNotFound(NotFound):
    code = "product_not_found"

    def __init__(self, sku: str) -> None:
        super().__init__(no_product(sku))


class InvalidCsv(RetailError):
    """A CSV body that cannot be read as a whole (header, quoting, encoding); nothing of it was applied."""

    status_code = 422
    code = "invalid_csv"
    problem = ValidationProblem

    def __init__(self, detail: str, *, line: int | None = None) -> None:
        field = "body" if line is None else f"body.line.{line}"
        super().__init__(detail, extra={"errors": [{"field": field, "message": detail}]})


def unknown_store(index: int, store_code: str) -> RowError:
    """A bulk row whose `store_code` names no store."""
    return RowError(index=index, code="unknown_store", detail=f"store_code: {no_store(store_code)}")


def unknown_sku(index: int, sku: str) -> RowError:
    """A bulk row whose `sku` names no product."""
    return RowError(index=index, code="unknown_sku", detail=f"sku: {no_product(sku)}")


class UnknownAlertStore(InvalidInput):
    def __init__(self, store_code: str) -> None:
        super().__init__(no_store(store_code), field="body.store_code", code="unknown_store")


class UnknownAlertProduct(InvalidInput):
    def __init__(self, sku: str) -> None:
        super().__init__(no_product(sku), field="body.sku", code="unknown_sku")


class AlertNotFound(NotFound):
    """No alert with this id, or not with this token: the same answer, so an alert's existence never
    leaks."""

    code = "alert_not_found"

    def __init__(self) -> None:
        super().__init__("no stock alert with this id and token")


class TooManyAlerts(RetailError):
    status_code = 429
    code = "too_many_alerts"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"this email address already waits for {limit} items; cancel one first",
            extra={"errors": [{"field": "body.email", "message": f"at most {limit} waiting alerts"}]},
        )
