"""The service's own pages (the pickup desk, the manager's charts, the API docs) and their files carry the
headers that keep a secret typed into them from leaking (retail/static_files.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("page", "asset", "camera"),
    [
        ("/staff/", "/staff/assets/desk.css", "camera=(self)"),
        ("/manager/", "/manager/assets/plotly.min.js", "camera=()"),
        ("/docs", "/docs/assets/swagger-ui.css", None),
    ],
)
def test_a_page_and_its_files_carry_their_headers(
    client: TestClient, page: str, asset: str, camera: str | None
) -> None:
    answer = client.get(page)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert (answer.headers["referrer-policy"], answer.headers["x-content-type-options"]) == (
        "no-referrer",
        "nosniff",
    )
    if camera is None:
        assert "permissions-policy" not in answer.headers
    else:
        assert answer.headers["permissions-policy"].startswith(camera + ", microphone=()")
    served = client.get(asset)
    assert served.status_code == 200, asset
    assert served.headers["cache-control"] == "no-cache"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "etag" in served.headers
