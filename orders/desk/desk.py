"""The pickup desk page (`/staff/`): plain HTML, CSS and JavaScript, a thin client of `/staff/v1`.

The files ship inside the package (no build step, nothing fetched from the internet at run time), so any
install of the service serves the page. The page holds the staff secret in `sessionStorage` only; the
headers below keep it from leaking through a referrer, a frame or a script from elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from retail.static_files import own_files, page_headers

STATIC_DIR: Final = Path(__file__).with_name("static")
ASSETS_PATH: Final = "/staff/assets"

# Only this service's own files may run or be fetched: an injected script could read the secret from
# sessionStorage, so none can load. `blob:` is the camera frame the page draws before posting it.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
_PAGE_HEADERS: Final = page_headers(
    content_security_policy=CONTENT_SECURITY_POLICY,
    permissions_policy="camera=(self), microphone=(), geolocation=()",
)

router = APIRouter(include_in_schema=False)


# HEAD too, as a static file server answers it: uptime checks and link checkers ask with HEAD.
@router.api_route("/staff/", methods=["GET", "HEAD"], name="staff_desk")
def desk_page() -> FileResponse:
    """The pickup desk: pick list, waiting list and hand-over, for store staff."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=_PAGE_HEADERS)


def assets() -> StaticFiles:
    """The page's scripts and styles, to mount at `ASSETS_PATH`."""
    return own_files(STATIC_DIR)
