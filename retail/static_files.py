"""Files the service serves itself (the pickup desk's and the manager's pages, the documentation's bundles),
with the headers every one of them carries."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

# Revalidate every time (ETag and Last-Modified), so an open tab picks up a new release at its next load;
# no type sniffing, and no referrer to carry a page's address (and what it holds) to another origin.
ASSET_HEADERS: Final = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def page_headers(*, content_security_policy: str, permissions_policy: str | None = None) -> dict[str, str]:
    """The headers of one of the service's own pages: `ASSET_HEADERS`, its content security policy, no
    framing, and (`permissions_policy`) the browser features it may use."""
    headers = {**ASSET_HEADERS, "Content-Security-Policy": content_security_policy, "X-Frame-Options": "DENY"}
    if permissions_policy is not None:
        headers["Permissions-Policy"] = permissions_policy
    return headers


def own_files(directory: Path) -> StaticFiles:
    """A page's own scripts and styles in `directory`, with `ASSET_HEADERS`, to mount under its path."""
    return StaticFilesWithHeaders(directory=directory, headers=ASSET_HEADERS)


class StaticFilesWithHeaders(StaticFiles):
    """StaticFiles (GET and HEAD, ETag and Last-Modified) that adds the same headers to every file."""

    def __init__(self, *, directory: Path, headers: Mapping[str, str]) -> None:
        super().__init__(directory=directory)
        self.extra_headers = dict(headers)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(self.extra_headers)
        return response
