"""Debian's Chromium for the browser tests: Playwright drives it and never downloads a browser of its own."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Route

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> None:
    """Skip the calling test module where Chromium is missing; in CI (.ci/run installs it) fail instead."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        raise RuntimeError("the browser tests need Debian's chromium at /usr/bin/chromium")
    pytest.skip(
        "install Debian's chromium (apt-get install chromium) for the browser tests", allow_module_level=True
    )


def offline(context: BrowserContext, base: str) -> list[str]:
    """Cut the context off from everything but the service at `base`, as a machine without internet is.

    Answers the list of the other addresses the pages asked for (each request was aborted), so a test can
    assert that none was even tried."""
    served = urlsplit(base).netloc
    elsewhere: list[str] = []

    def only_the_service(route: Route) -> None:
        if urlsplit(route.request.url).netloc == served:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_service)
    return elsewhere
