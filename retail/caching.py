"""HTTP caching of read answers as mobile apps expect it: an `ETag` of the answer's bytes, a
`Cache-Control: max-age`, and `304 Not Modified` when the app already holds those bytes (`If-None-Match`).

The answer is serialised here, by pydantic-core from the response model, once: FastAPI would validate the
returned model again and then serialise it, which costs more than building it (the README's benchmarks,
`bench/http_endpoints.py`). No shopper answer depends on a request header, so none carries `Vary`.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response
from pydantic import BaseModel

# Answers that change with the clock (a store's `open_now`, today's hours): a short life, so that a cached
# answer is never more than this many seconds behind the store's door.
TIME_DEPENDENT_MAX_AGE_S = 30
# Answers that change only when the catalogue or the network does.
CATALOGUE_MAX_AGE_S = 60


def cached_json(
    request: Request, answer: BaseModel, *, max_age_s: int, exclude_unset: bool = False
) -> Response:
    """`answer` as JSON with its ETag and max-age, or 304 without a body when `If-None-Match` names it."""
    body = answer.model_dump_json(by_alias=True).encode()
    # A strong tag: equal tags mean equal bytes. 128 bits of BLAKE2b: no collision between two answers.
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age_s}"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    # RFC 9110 13.1.2: a list of tags compared weakly (a W/ prefix does not matter), or "*".
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False
