"""Files the service serves itself (the pickup desk's scripts, the documentation's bundles), with headers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope


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
