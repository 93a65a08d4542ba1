"""The README is read where the service runs, often without internet: it links nothing outside the
repository, and what it links inside the repository exists."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
# Markdown links and images: [text](target) and ![alt](target); autolinks: <scheme://...>.
MARKDOWN_TARGET = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)")
REFERENCE_TARGET = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
# Connection strings (`sqlite:///...`, `redis://...`) are settings, not links: only web addresses count.
URL = re.compile(r"\b(?:https?|ftp)://[^\s<>`'\")\]]+", re.IGNORECASE)
# A bare host name ("geonames.org", "www.example.com") is turned into a link by many renderers.
BARE_HOST = re.compile(
    r"(?<![\w@./-])(?:www\.[\w-]+(?:\.[\w-]+)+|[\w-]+(?:\.[\w-]+)*\.(?:org|com|net|io|dev|eu|nl|be|lu|de))\b",
    re.IGNORECASE,
)


def _external(target: str) -> bool:
    parts = urlsplit(target)
    if not parts.scheme and not target.startswith("//"):
        return False
    return parts.scheme not in {"http", "https"} or parts.netloc.split(":")[0] not in LOCAL_HOSTS


def _local_host(url: str) -> bool:
    return urlsplit(url).hostname in {"127.0.0.1", "localhost", "::1"}


def test_the_readme_links_nothing_outside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    targets = MARKDOWN_TARGET.findall(text) + REFERENCE_TARGET.findall(text)
    assert [t for t in targets if _external(t)] == []
    assert [url for url in URL.findall(text) if not _local_host(url)] == []
    assert BARE_HOST.findall(text) == []


def test_what_the_readme_links_inside_the_repository_exists() -> None:
    text = README.read_text(encoding="utf-8")
    relative = [
        t.split("#")[0]
        for t in MARKDOWN_TARGET.findall(text) + REFERENCE_TARGET.findall(text)
        if not _external(t) and not t.startswith(("#", "http"))
    ]
    assert [t for t in relative if t and not (ROOT / t).exists()] == []


def test_the_checks_see_what_they_look_for() -> None:
    # The patterns themselves, on lines the README must never hold.
    assert MARKDOWN_TARGET.findall("see [GeoNames](https://www.geonames.org/) and ![x](img/a.png)") == [
        "https://www.geonames.org/",
        "img/a.png",
    ]
    assert REFERENCE_TARGET.findall("[osm]: https://www.openstreetmap.org/copyright\n") == [
        "https://www.openstreetmap.org/copyright"
    ]
    assert URL.findall("open <https://nominatim.org/release-docs/> or http://127.0.0.1:8000/docs") == [
        "https://nominatim.org/release-docs/",
        "http://127.0.0.1:8000/docs",
    ]
    assert URL.findall("`sqlite:///var/winkelpunt.db`, `redis://127.0.0.1:6379`") == []
    assert BARE_HOST.findall("data from geonames.org, www.example.com; file desk.js; mail a@b.nl") == [
        "geonames.org",
        "www.example.com",
    ]
    assert _external("https://example.org")
    assert not _external("http://127.0.0.1:8000/staff/")
    assert not _external("docs/setup.md")
