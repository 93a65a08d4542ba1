"""The store manager's page (`/manager/`): the service report (`/admin/v1/reports/service`) as charts per
store, drawn in the browser by plotly.js.

Like the pickup desk's page (orders/desk/desk.py), the files ship inside the package and nothing is fetched
from elsewhere: plotly.js is the copy the `plotly` Python package ships (`plotly/package_data`), served
from here. The page holds the key in `sessionStorage` only; the headers keep it from leaking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import plotly
from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from retail.static_files import ASSET_HEADERS, own_files, page_headers

STATIC_DIR: Final = Path(__file__).with_name("static")
ASSETS_PATH: Final = "/manager/assets"
PLOTLY_JS: Final = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

# Only this service's own scripts run. plotly.js writes its own <style> element for its toolbar and
# tooltips, hence 'unsafe-inline' for styles (no script runs from a style); its charts are SVG and canvas.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
_PAGE_HEADERS: Final = page_headers(
    content_security_policy=CONTENT_SECURITY_POLICY,
    permissions_policy="camera=(), microphone=(), geolocation=()",
)

router = APIRouter(include_in_schema=False)


@router.api_route("/manager/", methods=["GET", "HEAD"], name="manager_page")
def manager_page() -> FileResponse:
    """The service report as charts, for store and chain managers."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=_PAGE_HEADERS)


@router.api_route(f"{ASSETS_PATH}/plotly.min.js", methods=["GET", "HEAD"], name="manager_plotly")
def plotly_js() -> FileResponse:
    """plotly.js as the installed `plotly` package ships it (ETag and Last-Modified: a tab revalidates)."""
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=ASSET_HEADERS)


def assets() -> StaticFiles:
    """The page's own script and style, to mount at `ASSETS_PATH`."""
    return own_files(STATIC_DIR)
