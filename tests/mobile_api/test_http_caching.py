"""HTTP caching of the shopper's store, hours and product answers: ETag, Cache-Control, 304."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_product, make_store

CACHED = [
    ("/mobile/v1/stores/UT-CACHE", "public, max-age=30"),
    ("/mobile/v1/stores/UT-CACHE/hours", "public, max-age=30"),
    ("/mobile/v1/products/CACHE-1", "public, max-age=60"),
]


@pytest.fixture
def shop(session: Session) -> None:
    make_store(session, "UT-CACHE")
    make_product(session, "CACHE-1", price="2.50")
    session.commit()


@pytest.mark.usefixtures("shop")
@pytest.mark.parametrize(("path", "cache_control"), CACHED)
def test_an_answer_the_app_holds_is_not_sent_again(client: TestClient, path: str, cache_control: str) -> None:
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert first.headers["cache-control"] == cache_control
    assert "vary" not in first.headers
    assert client.get(path).headers["etag"] == etag  # the same bytes, the same tag

    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(path, headers={"If-None-Match": if_none_match})
        assert again.status_code == 304, if_none_match
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == cache_control

    stale = client.get(path, headers={"If-None-Match": '"not-this-one"'})
    assert stale.status_code == 200
    assert stale.json() == first.json()


@pytest.mark.usefixtures("shop")
def test_a_changed_product_has_a_new_tag(client: TestClient, session: Session) -> None:
    before = client.get("/mobile/v1/products/CACHE-1")
    make_product(session, "CACHE-1", price="2.75")
    session.commit()
    after = client.get("/mobile/v1/products/CACHE-1", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["online_price"]["amount"] == "2.75"
    assert after.headers["etag"] != before.headers["etag"]


@pytest.mark.usefixtures("shop")
def test_a_changed_store_has_a_new_tag(client: TestClient, session: Session) -> None:
    before = client.get("/mobile/v1/stores/UT-CACHE")
    make_store(session, "UT-CACHE", name="Winkelpunt Utrecht Nieuw")
    session.commit()
    after = client.get("/mobile/v1/stores/UT-CACHE", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["name"] == "Winkelpunt Utrecht Nieuw"


def test_an_unknown_store_is_a_problem_not_a_cached_answer(client: TestClient) -> None:
    missing = client.get("/mobile/v1/stores/NOPE-1", headers={"If-None-Match": "*"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "etag" not in missing.headers
