"""The API documentation pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), served whole by this service.

FastAPI's own pages fetch Swagger UI and ReDoc from a CDN, so in a store's back office or a data centre
without internet they stay blank. The `fastapi-offline` package ships both bundles (and FastAPI's
favicon) inside the wheel; they are served from its `static/` folder at `ASSETS_PATH`, and the pages are
FastAPI's own HTML pointing there. Nothing else is fetched: the Content-Security-Policy allows this
origin only, so a page that tried would be refused by the browser, not silently wait on the network.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from retail.static_files import own_files, page_headers

ASSETS_DIR: Final = Path(fastapi_offline.__file__).with_name("static")
ASSETS_PATH: Final = "/docs/assets"
SWAGGER_UI_PATH: Final = "/docs"
REDOC_PATH: Final = "/redoc"

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def content_security_policy(page: bytes) -> str:
    """This origin only. The one inline script of a page (Swagger UI's start-up) is allowed by its hash,
    so a bearer secret typed into "Authorize" cannot be read by any other script. Styles may be inline:
    both UIs set them at run time. ReDoc runs its search in a worker made from a `blob:`."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    ]
    return "; ".join(
        [
            "default-src 'none'",
            " ".join(["script-src 'self'", *hashes]),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _with_headers(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(page_headers(content_security_policy=content_security_policy(bytes(page.body))))
    return page


def install(app: FastAPI) -> None:
    """Add `/docs`, `/redoc` and their bundles; create the app with `docs_url=None, redoc_url=None`."""
    router = APIRouter(include_in_schema=False)
    openapi_url = app.openapi_url or "/openapi.json"

    @router.api_route(SWAGGER_UI_PATH, methods=["GET", "HEAD"], name="docs_swagger_ui")
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _with_headers(
            get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
                swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
                # No OAuth flows here (keys are bearer secrets), so no redirect page either.
                oauth2_redirect_url=None,
                swagger_ui_parameters=app.swagger_ui_parameters,
            )
        )

    @router.api_route(REDOC_PATH, methods=["GET", "HEAD"], name="docs_redoc")
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _with_headers(
            get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
                with_google_fonts=False,
            )
        )

    app.include_router(router)
    app.mount(
        ASSETS_PATH,
        own_files(ASSETS_DIR),
        name="docs_assets",
    )
