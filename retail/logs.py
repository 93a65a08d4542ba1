"""Structured logs: one JSON object per line, each carrying the id of the request (or task) it belongs to.

The request id lives in a context variable set by `retail.observability.RequestContext` for the duration
of a request; FastAPI copies the context into the thread that runs a sync handler, so every line logged
while serving the request, by any package, names it without passing it around.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# Set while a Celery task runs (retail.celery_app), beside the id of the request that sent it, if any.
task_id_var: ContextVar[str | None] = ContextVar("task_id", default=None)

# What a client (or a proxy in front of us) may pass as X-Request-ID: short, printable and free of
# anything that could forge a log line or a header. Anything else is replaced by a fresh id.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime", "taskName"}
)


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """`value` if it is acceptable as a request id, else None."""
    if value is not None and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", "request_id", ...extra fields, "exc_info"}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        task_id = task_id_var.get()
        if task_id is not None:
            entry["task_id"] = task_id
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str | int = "INFO") -> None:
    """Send every logger's records, as JSON lines, to stderr. Safe to call more than once."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Uvicorn's own loggers carry their own handlers and formats; route them through the root instead.
    # Its access log is replaced by the one line per request that RequestContext writes.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "celery.task"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
