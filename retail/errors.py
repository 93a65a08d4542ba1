"""One error type, rendered as RFC 9457 problem+json with a stable machine `code`.

Domain packages subclass `RetailError` in their own `exceptions.py`; routes raise those and never build
`HTTPException` for business rules. Every other failure (validation, unknown route, wrong method, an
unexpected crash) goes through the same renderer, so clients parse one shape.
"""

from __future__ import annotations

import functools
import logging
import operator
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from retail import dialect

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


# ------------------------------------------------------------------------------ the problem models


class FieldError(BaseModel):
    field: str = Field(
        description="dotted path of the offending field, e.g. `query.lat` or `body.lines.0.sku`"
    )
    message: str = Field(description="what is wrong, in words for a person")
    type: str | None = Field(default=None, description="pydantic's error type, for programs")


class Problem(BaseModel):
    """RFC 9457 problem details, plus a stable machine `code`. Each kind of problem below adds its own
    members; a client may meet members it does not know, so more are allowed."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "no store with code 'NL-XXX-999'",
                    "code": "store_not_found",
                }
            ]
        },
    )

    type: str = Field(description="`about:blank`: `code` says what happened", examples=["about:blank"])
    title: str = Field(description="the HTTP status's phrase")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong, for a person")
    code: str = Field(description="stable machine code, e.g. `out_of_stock`, `wrong_store`")


class ValidationProblem(Problem):
    """A problem naming the fields at fault: 422 `validation_error` and the other refusals of input."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Unprocessable Content",
                    "status": 422,
                    "detail": "query.lat: Input should be less than or equal to 90",
                    "code": "validation_error",
                    "errors": [{"field": "query.lat", "message": "Input should be less than or equal to 90"}],
                }
            ]
        }
    )

    errors: list[FieldError] = Field(description="each bad field, with what is wrong with it")


class RetailError(Exception):
    """A business error with its HTTP status and a stable machine code."""

    status_code: int = 400
    code: str = "bad_request"
    # The shape of this error's answer: it renders it (so every instant in it carries an offset) and
    # documents it in the OpenAPI document (`problem_responses`).
    problem: ClassVar[type[Problem]] = Problem

    def __init__(
        self,
        detail: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code
        self.extra = extra or {}
        self.headers = headers


class NotFound(RetailError):
    status_code = 404
    code = "not_found"


class Unauthorized(RetailError):
    status_code = 401
    code = "unauthorized"


class Forbidden(RetailError):
    status_code = 403
    code = "forbidden"


class InvalidInput(RetailError):
    """422 for input that is well-formed JSON but breaks a rule, naming the field in `errors`."""

    status_code = 422
    code = "validation_error"
    problem = ValidationProblem

    def __init__(self, detail: str, *, field: str, code: str | None = None) -> None:
        super().__init__(detail, code=code, extra={"errors": [{"field": field, "message": detail}]})


class PayloadTooLarge(RetailError):
    """413 for a body past its size limit, whatever the route: the API's own limit or an endpoint's."""

    status_code = 413
    code = "payload_too_large"
    problem = ValidationProblem

    def __init__(self, max_bytes: int, *, what: str = "the request body") -> None:
        super().__init__(
            f"{what} exceeds {max_bytes} bytes",
            extra={"errors": [{"field": "body", "message": f"at most {max_bytes} bytes"}]},
        )


class ServiceUnavailable(RetailError):
    status_code = 503
    code = "service_unavailable"


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    extra: Mapping[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    model: type[Problem] = Problem,
) -> JSONResponse:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    # One line per problem answered, beside the access line: the machine code says why (the request id
    # is added by the log formatter while the request is served).
    logger.log(
        logging.WARNING if status >= 500 else logging.INFO,
        "problem %s %s: %s",
        status,
        code,
        detail,
        extra={"status": status, "code": code},
    )
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if extra:
        # Extra members add to the problem; they never replace its standard ones.
        body.update({key: value for key, value in extra.items() if key not in body})
    # Rendered through the problem's model, the one its OpenAPI entry documents, so the answer has the
    # documented types: an instant read back naive from SQLite gets its offset here like everywhere.
    rendered = model.model_validate(body).model_dump(mode="json", exclude_unset=True)
    return JSONResponse(rendered, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_responses(*answers: int | type[RetailError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the errors a route answers: statuses, or the RetailError classes
    it raises, documented with their problem models (several of one status as alternatives, the more
    specific first) and the problem+json media type they really use."""
    by_status: dict[int, list[type[Problem]]] = {}
    for answer in answers:
        if isinstance(answer, int):
            status, model = answer, _STATUS_PROBLEMS.get(answer, Problem)
        else:
            status, model = answer.status_code, answer.problem
        models = by_status.setdefault(status, [])
        if model not in models:
            models.append(model)
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "model": functools.reduce(operator.or_, models) if len(models) > 1 else models[0],
            # The marker `problem_json_content` moves the model's schema under: FastAPI files an extra
            # response's model under the route's own media type.
            "content": {PROBLEM_JSON: {}},
        }
        for status, models in by_status.items()
    }


def problem_json_content(document: dict[str, Any]) -> None:
    """Move the schemas `problem_responses` declared to `application/problem+json`, where they belong."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if PROBLEM_JSON in content and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")


_STATUS_PROBLEMS: dict[int, type[Problem]] = {413: ValidationProblem, 422: ValidationProblem}


def field_path(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


# What a person is told when a value does not have the form a pattern asks for, by pattern: filled in by
# `described_pattern` where each constrained type is declared.
_PATTERN_MEANINGS: dict[str, str] = {}
_UNDESCRIBED_PATTERN = "is not in the form this field takes"


def described_pattern(pattern: str, meaning: str) -> str:
    """`pattern`, for `StringConstraints(pattern=...)` or `Query(pattern=...)`, with the words a refused
    value is answered with instead of the regular expression, e.g. "not a valid email address"."""
    _PATTERN_MEANINGS[pattern] = meaning
    return pattern


def field_message(error: Mapping[str, Any]) -> str:
    """What one pydantic error tells a person: its own message, except where that is written for
    programmers (a regular expression, pydantic's "Value error, " prefix)."""
    error_type = error.get("type")
    message = str(error.get("msg", "invalid"))
    if error_type == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern")
        return _PATTERN_MEANINGS.get(str(pattern), _UNDESCRIBED_PATTERN)
    if error_type in ("value_error", "assertion_error"):
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
    return message


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic error dicts as `{field, message, type}`; the offending input is left out because it may be
    huge or hostile and the client already has it."""
    return [
        {"field": field_path(err.get("loc", ())), "message": field_message(err), "type": err.get("type")}
        for err in errors
    ]


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


_UNPARSABLE_BODY = "There was an error parsing the body"


def retail_error_response(exc: RetailError) -> JSONResponse:
    """The problem+json answer to a business error (also for middleware, outside the exception handlers)."""
    try:
        return problem_response(
            exc.status_code, exc.code, exc.detail, extra=exc.extra, headers=exc.headers, model=exc.problem
        )
    except ValidationError as bug:
        # An error whose members do not fit its own problem model: a bug of ours, answered as one.
        return internal_error("rendering", type(exc).__name__, bug)


def internal_error(method: str, path: str, exc: BaseException) -> JSONResponse:
    """The answer to a bug: logged with its stack, a 500 problem that gives nothing away."""
    logger.exception("unhandled error on %s %s", method, path, exc_info=exc)
    return problem_response(500, "internal_error", "An unexpected error occurred; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RetailError)
    async def _retail_error(_request: Request, exc: RetailError) -> JSONResponse:
        return retail_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc.errors())
        first = errors[0] if errors else {"field": "body", "message": "invalid input"}
        detail = f"{first['field']}: {first['message']}"
        return problem_response(
            422, "validation_error", detail, extra={"errors": errors}, model=ValidationProblem
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
            # FastAPI's answer to a body its JSON parser could not even start on (invalid UTF-8, nesting
            # deeper than the parser's recursion limit); malformed JSON is a 422 naming the body, so is this.
            message = "the body cannot be read as JSON: not UTF-8, or nested too deeply"
            return problem_response(
                422,
                "validation_error",
                f"body: {message}",
                extra={"errors": [{"field": "body", "message": message, "type": "json_invalid"}]},
                model=ValidationProblem,
            )
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(OperationalError)
    async def _database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        if dialect.is_write_in_read_only(exc):
            # SQLite's answer to a write in a read session: our bug, not the database's absence.
            return internal_error(request.method, request.url.path, exc)
        # The database restarting or out of reach, or a transaction it aborted (deadlock, serialization):
        # no bug of ours, and the request may be sent again (an order with the same Idempotency-Key), so
        # a 503 that says so and a one-line warning, not a 500 with a stack trace per request.
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig or exc)
        return problem_response(
            503,
            "service_unavailable",
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(request.method, request.url.path, exc)
