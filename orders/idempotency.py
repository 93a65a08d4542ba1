"""The `Idempotency-Key` of a request that must act once (placing an order, taking a return): what is
stored of the client's key, the hash of the request it came with, and the rule when the key comes again
(the same request answers what it made before; another request is 422 `idempotency_key_reused`)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from orders.exceptions import IdempotencyKeyReused
from retail.errors import InvalidInput

IDEMPOTENCY_KEY_MAX = 200


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def key_digest(idempotency_key: str) -> str:
    """What is stored of the client's key: its SHA-256, so the column's size does not depend on the key."""
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise InvalidInput(f"1-{IDEMPOTENCY_KEY_MAX} characters", field="header.Idempotency-Key")
    return digest(idempotency_key)


def request_digest(body: Mapping[str, Any]) -> str:
    """What the key compares: the body as validated (its JSON form, keys sorted)."""
    return digest(json.dumps(body, sort_keys=True))


def check_same_request(stored: str, request_hash: str, *, what: str = "order") -> None:
    """A key used before answers what it made only for the same request; `what` it made names it."""
    if not hmac.compare_digest(stored, request_hash):
        raise IdempotencyKeyReused(what)
