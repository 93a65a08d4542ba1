"""The pickup desk's server side: the page and its files, `/staff/v1/me`, and reading a QR code from a
camera frame (`/staff/v1/pickups/scan`). The page itself is driven in a browser in tests/e2e."""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from orders import pickup, scan
from orders.desk.desk import STATIC_DIR
from orders.exceptions import InvalidFrame
from tests.factories import BASKET, order_body, post_order

KeyFactory = Callable[..., dict[str, str]]


def _reserved_order(client: TestClient) -> dict[str, Any]:
    accepted = post_order(client, order_body("S1", BASKET)).json()
    headers = {"Authorization": f"Bearer {accepted['order_token']}"}
    order = client.get(accepted["status_url"], headers=headers).json()
    assert order["status"] == "reserved"
    return {**order, "headers": headers}


def _frame(png: bytes, *, size: tuple[int, int] = (640, 480), qr_side: int = 300, fmt: str = "JPEG") -> bytes:
    """The QR code as a camera would see it: smaller, on a wider white frame, re-encoded."""
    qr = Image.open(io.BytesIO(png)).convert("L").resize((qr_side, qr_side), Image.Resampling.BILINEAR)
    frame = Image.new("L", size, 255)
    frame.paste(qr, ((size[0] - qr_side) // 2, (size[1] - qr_side) // 2))
    out = io.BytesIO()
    frame.save(out, format=fmt, quality=80)
    return out.getvalue()


def test_the_page_is_served_with_its_files_and_a_strict_policy(client: TestClient) -> None:
    page = client.get("/staff/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    # Everything the page loads is this service's own: no other origin, no inline script.
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(sources) == ["/staff/assets/desk.css", "/staff/assets/desk.js"]
    assert "<script>" not in page.text
    for source, media_type in (
        ("/staff/assets/desk.js", "javascript"),
        ("/staff/assets/desk.css", "text/css"),
    ):
        asset = client.get(source)
        assert asset.status_code == 200
        assert media_type in asset.headers["content-type"]
        assert asset.headers["cache-control"] == "no-cache"
        assert "http://" not in asset.text
        assert "https://" not in asset.text

    redirect = client.get("/staff", follow_redirects=False)
    assert redirect.status_code in (307, 308)
    assert redirect.headers["location"].endswith("/staff/")
    assert client.get("/staff/assets/nothing.js").status_code == 404
    # The page is not part of the API document.
    assert "/staff/" not in client.get("/openapi.json").json()["paths"]


MODULES = sorted(path.name for path in STATIC_DIR.glob("*.js"))
IMPORT = re.compile(r'^import .* from "(?P<source>[^"]+)";$', re.MULTILINE)


def test_every_module_the_page_imports_is_one_of_its_own_served_files(client: TestClient) -> None:
    assert {"desk.js", "events.js", "sse.js", "returns.js", "arrivals.js", "picking.js"} <= set(MODULES)
    reached = {"desk.js"}
    waiting = ["desk.js"]
    while waiting:
        source = (STATIC_DIR / waiting.pop()).read_text()
        for imported in IMPORT.findall(source):
            # Relative, within the page's own folder: nothing from elsewhere, no build step to resolve it.
            assert re.fullmatch(r"\./[a-z_]+\.js", imported), imported
            name = imported.removeprefix("./")
            if name not in reached:
                reached.add(name)
                waiting.append(name)
    assert reached == set(MODULES)  # and no file lies about unused
    for name in MODULES:
        asset = client.get(f"/staff/assets/{name}")
        assert asset.status_code == 200
        assert "javascript" in asset.headers["content-type"]
        assert "http://" not in asset.text
        assert "https://" not in asset.text
        # EventSource cannot send the Authorization header: the secret would have to go in the URL.
        assert "EventSource(" not in asset.text
        assert len(asset.text.splitlines()) < 400


def _texts(language: str) -> set[str]:
    source = (STATIC_DIR / "text.js").read_text()
    start = source.index(f"  {language}: {{\n")
    end = source.index("\n  },\n", start)
    return set(re.findall(r"^    (\w+):", source[start:end], re.MULTILINE))


def test_every_text_the_page_shows_is_there_in_dutch_and_english() -> None:
    english, dutch = _texts("en"), _texts("nl")
    assert english == dutch
    used = set()
    for name in MODULES:
        used |= set(re.findall(r'\bt\("(\w+)"', (STATIC_DIR / name).read_text()))
    used |= set(re.findall(r'data-t="(\w+)"', (STATIC_DIR / "index.html").read_text()))
    # Keys built from a value: each value of the contract's enums, each reason the returns screen offers.
    used |= {f"verification_{v}" for v in ("qr", "short_code", "id_checked", "pickup_person_named")}
    used |= {f"reason_{v}" for v in ("not_wanted", "wrong_item", "damaged", "other")}
    assert used - english == set()


@pytest.mark.parametrize("path", ["/staff/", "/staff/assets/desk.js", "/staff/assets/desk.css"])
def test_head_answers_like_get_without_a_body(client: TestClient, path: str) -> None:
    # Uptime checks and link checkers ask with HEAD; a 405 there reads as "the desk is down".
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    per_request = {"x-request-id", "date"}
    assert {k: v for k, v in head.headers.items() if k not in per_request} == {
        k: v for k, v in got.headers.items() if k not in per_request
    }
    assert int(head.headers["content-length"]) == len(got.content) > 0


def test_the_page_does_not_shadow_the_staff_api(client: TestClient) -> None:
    wrong_method = client.get("/staff/v1/pickups/verify")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


def test_me_names_the_role_and_store_of_the_key(client: TestClient, make_key: KeyFactory) -> None:
    staff = client.get("/staff/v1/me", headers=make_key("staff", store_code="S1"))
    assert staff.status_code == 200
    assert staff.json() == {"role": "staff", "store_code": "S1"}
    assert client.get("/staff/v1/me", headers=make_key("admin")).json() == {
        "role": "admin",
        "store_code": None,
    }
    unknown = client.get("/staff/v1/me", headers={"Authorization": "Bearer wp_nope"})
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "unauthorized"
    webshop = client.get("/staff/v1/me", headers=make_key("webshop"))
    assert webshop.status_code == 403


def test_the_desk_learns_its_stores_name_and_time_zone(
    client: TestClient, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    own = client.get("/staff/v1/stores/S1", headers=staff)
    assert own.status_code == 200
    assert own.json() == {"code": "S1", "name": "Winkelpunt S1", "timezone": "Europe/Amsterdam"}
    elsewhere = client.get("/staff/v1/stores/S2", headers=staff)
    assert elsewhere.status_code == 403
    assert elsewhere.json()["code"] == "wrong_store"
    # Another store's key learns nothing, not even whether a code exists.
    assert client.get("/staff/v1/stores/NOPE", headers=staff).json()["code"] == "wrong_store"
    admin = make_key("admin")
    assert client.get("/staff/v1/stores/S2", headers=admin).json()["code"] == "S2"
    unknown = client.get("/staff/v1/stores/NOPE", headers=admin)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "store_not_found"
    assert client.get("/staff/v1/stores/S1", headers=make_key("webshop")).status_code == 403


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_scan_reads_the_pickup_token_from_a_camera_frame(
    client: TestClient, open_stores: None, make_key: KeyFactory, fmt: str
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _reserved_order(client)
    png = client.get(order["pickup"]["qr_png_url"], headers=order["headers"]).content
    client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=staff)

    frame = _frame(png, fmt=fmt)
    scanned = client.post(
        "/staff/v1/pickups/scan",
        content=frame,
        headers={**staff, "Content-Type": f"image/{fmt.lower()}"},
    )
    assert scanned.status_code == 200, scanned.text
    token = scanned.json()["code"]
    assert token.startswith("WPK1.")
    # What the page does next with it.
    verified = client.post("/staff/v1/pickups/verify", json={"code": token}, headers=staff)
    assert verified.status_code == 200
    assert verified.json()["order_id"] == order["order_id"]
    assert verified.json()["status"] == "ready_for_pickup"


def test_scan_of_a_frame_without_a_code_answers_null(client: TestClient, make_key: KeyFactory) -> None:
    blank = io.BytesIO()
    Image.new("L", (640, 480), 200).save(blank, format="JPEG")
    scanned = client.post(
        "/staff/v1/pickups/scan",
        content=blank.getvalue(),
        headers={**make_key("staff", store_code="S1"), "Content-Type": "image/jpeg"},
    )
    assert scanned.status_code == 200
    assert scanned.json() == {"code": None}


def test_scan_refuses_what_is_not_a_sane_image(client: TestClient, make_key: KeyFactory) -> None:
    staff = make_key("staff", store_code="S1")

    def post(content: bytes, media_type: str = "image/png") -> Any:
        return client.post(
            "/staff/v1/pickups/scan", content=content, headers={**staff, "Content-Type": media_type}
        )

    not_an_image = post(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert not_an_image.status_code == 422
    assert not_an_image.json()["code"] == "invalid_image"
    assert post(b"").json()["code"] == "invalid_image"

    gif = io.BytesIO()
    Image.new("L", (10, 10), 255).save(gif, format="GIF")
    assert post(gif.getvalue()).json()["code"] == "invalid_image"

    # Small on the wire, huge once decoded: refused from its header, before a pixel is decoded.
    huge = io.BytesIO()
    Image.new("1", (2100, 2100), 1).save(huge, format="PNG")
    assert len(huge.getvalue()) < scan.MAX_FRAME_BYTES
    too_many_pixels = post(huge.getvalue())
    assert too_many_pixels.status_code == 422
    assert too_many_pixels.json()["code"] == "invalid_image"

    too_large = post(b"\xff" * (scan.MAX_FRAME_BYTES + 1), "image/jpeg")
    assert too_large.status_code == 413
    assert too_large.json()["code"] == "payload_too_large"

    wrong_type = post(b'{"code": "x"}', "application/json")
    assert wrong_type.status_code == 415
    assert wrong_type.json()["code"] == "unsupported_media_type"

    no_key = client.post("/staff/v1/pickups/scan", content=b"x", headers={"Content-Type": "image/png"})
    assert no_key.status_code == 401


@pytest.mark.parametrize("size", [(1, 70_000), (70_000, 1), (2, 65_536)])
def test_scan_refuses_a_frame_too_long_on_one_side(
    client: TestClient, make_key: KeyFactory, size: tuple[int, int]
) -> None:
    """A strip passes the pixel count (70,000 of 4 million) but not the decoder, which takes at most 65,535
    px a side: refused from its header like any other frame of an insane size."""
    strip = io.BytesIO()
    Image.new("1", size, 1).save(strip, format="PNG")
    assert len(strip.getvalue()) < 1000
    assert size[0] * size[1] < scan.MAX_FRAME_PIXELS
    response = client.post(
        "/staff/v1/pickups/scan",
        content=strip.getvalue(),
        headers={**make_key("staff", store_code="S1"), "Content-Type": "image/png"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_image"
    assert [error["field"] for error in body["errors"]] == ["body"]
    assert f"{size[0]}x{size[1]}" in body["detail"]


def test_the_side_limit_is_exact(client: TestClient, make_key: KeyFactory) -> None:
    staff = make_key("staff", store_code="S1")

    def post_strip(length: int) -> Any:
        strip = io.BytesIO()
        Image.new("1", (1, length), 1).save(strip, format="PNG")
        return client.post(
            "/staff/v1/pickups/scan",
            content=strip.getvalue(),
            headers={**staff, "Content-Type": "image/png"},
        )

    at_limit = post_strip(scan.MAX_FRAME_SIDE)
    assert at_limit.status_code == 200, at_limit.text
    assert at_limit.json() == {"code": None}
    past_limit = post_strip(scan.MAX_FRAME_SIDE + 1)
    assert past_limit.status_code == 422
    assert past_limit.json()["code"] == "invalid_image"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_damaged_frames_are_read_or_refused_never_an_error(fmt: str) -> None:
    """Frames of a real pickup QR code with bytes overwritten and tails cut off, as a flaky upload or an
    attacker would send them: each is read (a code or None) or refused as `invalid_image`."""
    original = _frame(pickup.qr_png("WPK1.damaged-frame"), size=(320, 240), qr_side=200, fmt=fmt)
    assert scan.decode_frame(original) == "WPK1.damaged-frame"
    rng = random.Random(fmt)
    outcomes = {"read": 0, "refused": 0}
    for _ in range(300):
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        if rng.random() < 0.3:
            damaged = damaged[: rng.randrange(1, len(damaged))]
        try:
            scan.decode_frame(bytes(damaged))
            outcomes["read"] += 1
        except InvalidFrame:
            outcomes["refused"] += 1
    # Both outcomes occur, so the damage reached the decoder as well as the file parser.
    assert outcomes["read"] > 0, outcomes
    assert outcomes["refused"] > 0, outcomes


def test_scanning_is_throttled_per_key(
    client: TestClient, make_key: KeyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retail import settings as retail_settings

    monkeypatch.setattr(retail_settings.get_settings(), "scan_frames_per_minute", 2)
    staff = make_key("staff", store_code="S1")
    blank = io.BytesIO()
    Image.new("L", (64, 48), 255).save(blank, format="PNG")
    answers = [
        client.post(
            "/staff/v1/pickups/scan", content=blank.getvalue(), headers={**staff, "Content-Type": "image/png"}
        ).status_code
        for _ in range(6)
    ]
    # Two per window: however the six attempts fall across a window's edge, some are refused.
    assert answers.count(200) <= 4
    assert set(answers) == {200, 429}


def test_the_scan_endpoint_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/staff/v1/pickups/scan"]["post"]
    assert operation["operationId"] == "staff_pickup_scan"
    assert sorted(operation["requestBody"]["content"]) == ["image/jpeg", "image/png", "image/webp"]
    assert {"200", "413", "415", "422", "429"} <= set(operation["responses"])
