"""`/docs` and `/redoc` are served whole by the service: pages, bundles and a policy that allows nothing
else. That they render with no internet is checked in a browser, tests/e2e/test_api_docs.py."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from retail import docs

BUNDLES = {
    "swagger-ui-bundle.js": "javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "javascript",
    "favicon.png": "image/png",
}


def test_the_package_ships_the_bundles_where_they_are_read() -> None:
    # The folder is read directly: a new fastapi-offline layout must fail here, not blank the pages.
    assert sorted(p.name for p in docs.ASSETS_DIR.iterdir() if p.is_file()) == sorted(BUNDLES)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_pages_load_only_this_services_own_files(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    sources = re.findall(r'(?:src|href|spec-url)="([^"]+)"', page.text)
    assert sources
    assert [s for s in sources if not s.startswith(("/docs/assets/", "/openapi.json"))] == []
    assert "http://" not in page.text
    assert "https://" not in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert client.head(path).status_code == 200


def test_the_policy_allows_this_origin_and_the_pages_own_start_up_script_only(client: TestClient) -> None:
    page = client.get("/docs")
    [inline] = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    directives = dict(d.split(" ", 1) for d in page.headers["content-security-policy"].split("; "))
    assert directives == {
        "default-src": "'none'",
        "script-src": f"'self' 'sha256-{digest}'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "worker-src": "'self' blob:",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
    }
    # ReDoc's page has no inline script at all.
    redoc_policy = client.get("/redoc").headers["content-security-policy"]
    assert "script-src 'self';" in redoc_policy


def test_the_bundles_are_served_from_the_package(client: TestClient) -> None:
    for name, media_type in BUNDLES.items():
        asset = client.get(f"/docs/assets/{name}")
        assert asset.status_code == 200
        assert media_type in asset.headers["content-type"]
        assert asset.content == (docs.ASSETS_DIR / name).read_bytes()
        assert asset.headers["cache-control"] == "no-cache"
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert (
            client.get(f"/docs/assets/{name}", headers={"If-None-Match": asset.headers["etag"]}).status_code
            == 304
        )
    assert client.get("/docs/assets/nothing.js").status_code == 404
    # No OAuth flows, so FastAPI's OAuth redirect page is not served either.
    assert client.get("/docs/oauth2-redirect").status_code == 404


def test_the_pages_are_not_part_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert [p for p in paths if p.startswith(("/docs", "/redoc"))] == []
