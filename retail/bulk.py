"""Bulk writes with per-row errors: good rows apply even when others fail.

The request envelope (`{"stores": [...]}`) is validated by FastAPI as usual, so a malformed envelope is a
422 naming the field. The rows inside are validated one by one here, so that one bad row becomes an entry
in `errors` instead of failing the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError, WithJsonSchema

from retail.errors import field_message, field_path

MAX_BULK_ROWS = 10_000

M = TypeVar("M", bound=BaseModel)


class RowError(BaseModel):
    index: int = Field(description="position of the row in the request's list, from 0")
    code: str = Field(description="stable machine code, e.g. `unknown_timezone`")
    detail: str = Field(description="what is wrong, naming the field")


class BulkResult(BaseModel):
    applied: int = 0
    errors: list[RowError] = Field(default_factory=list)


def rows_of(model: type[BaseModel]) -> Any:
    """The type of a bulk envelope's row list: accepted as loose objects, documented as `model`."""
    return WithJsonSchema(
        {
            "type": "array",
            "maxItems": MAX_BULK_ROWS,
            "items": {"$ref": f"#/components/schemas/{model.__name__}"},
        }
    )


NUL_MESSAGE = "contains a NUL character"


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string in `value` (nested dicts and lists) holding a NUL character,
    which no text column can store (PostgreSQL refuses it outright); None when there is none."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = nul_path(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for position, item in enumerate(value):
            found = nul_path(item, f"{path}.{position}" if path else str(position))
            if found is not None:
                return found
    return None


def validate_rows(
    rows: Sequence[Any],
    model: type[M],
    *,
    error_code: Callable[[str], str],
) -> tuple[list[tuple[int, M]], list[RowError]]:
    """Validate each row; `error_code` maps the first bad field's dotted path to a stable code."""
    valid: list[tuple[int, M]] = []
    errors: list[RowError] = []
    for index, row in enumerate(rows):
        nul = nul_path(row)
        if nul is not None:
            errors.append(RowError(index=index, code=error_code(nul), detail=f"{nul}: {NUL_MESSAGE}"))
            continue
        try:
            valid.append((index, model.model_validate(row)))
        except ValidationError as exc:
            details = exc.errors(include_url=False, include_input=False)
            first = details[0]
            path = field_path(first["loc"])
            message = "; ".join(
                f"{field_path(err['loc']) or 'row'}: {field_message(err)}" for err in details[:5]
            )
            errors.append(RowError(index=index, code=error_code(path), detail=message))
    return valid, errors
