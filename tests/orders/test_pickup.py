"""Pickup tokens, short codes and QR images (pure: no database, no HTTP)."""

from __future__ import annotations

import hashlib
import hmac
import io
import string
import struct
import xml.etree.ElementTree as ET

import numpy as np
import png  # type: ignore[import-untyped]
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from orders import pickup
from orders.pickup import (
    ALPHABET,
    MAC_LENGTH,
    NONCE_LENGTH,
    ParsedShortCode,
    ParsedToken,
    Pickup,
    derive_pickup,
    format_short_code,
    issue_pickup,
    issue_unique_pickups,
    parse_code,
    qr_png,
    qr_svg,
    qr_version,
    short_code_hash,
    token_is_authentic,
    verify_token,
)

KEY = "test-secret-key-not-for-production"
ORDER_ID = "d1iR-1HAXMm_JqyGiGBQjg"
STORE = "NL-AMS-001"
NONCE = "CNYPHWAJMS10WE82"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

order_ids = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
store_codes = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}", fullmatch=True)


def _verify(token: str, *, order_id: str = ORDER_ID, store_code: str = STORE, nonce: str = NONCE) -> bool:
    return verify_token(token, order_id=order_id, store_code=store_code, nonce=nonce, secret_key=KEY)


# --- exact values: changing any of these invalidates every code already handed out -------------------------


def test_derived_codes_are_exact_and_stable() -> None:
    issued = derive_pickup(order_id=ORDER_ID, store_code=STORE, nonce=NONCE, secret_key=KEY)

    assert issued.nonce == NONCE
    assert issued.token == f"WPK1.{ORDER_ID}.{STORE}.{NONCE}.0P6ZWX2XMTZFK0S974C4S080V2"
    assert issued.short_code == "J4FN-S770"
    assert issued.short_code_hash == "38a721a604c93ed42b442b1ab9303ff267371cccf7c47f3411051ff5a8d2d4bf"
    assert derive_pickup(order_id=ORDER_ID, store_code=STORE, nonce=NONCE, secret_key=KEY) == issued


def test_mac_is_128_bits_of_hmac_sha256_under_a_derived_subkey() -> None:
    # An independent computation of the documented format, so the pinned values above are not only
    # "whatever the code did".
    body = f"WPK1.{ORDER_ID}.{STORE}.{NONCE}"
    subkey = hmac.new(KEY.encode(), b"winkelpunt/pickup/v1/token", hashlib.sha256).digest()
    mac = int.from_bytes(hmac.new(subkey, body.encode(), hashlib.sha256).digest()[:16], "big")
    expected = "".join(ALPHABET[(mac >> (5 * i)) & 31] for i in reversed(range(MAC_LENGTH)))

    issued = derive_pickup(order_id=ORDER_ID, store_code=STORE, nonce=NONCE, secret_key=KEY)

    assert issued.token == f"{body}.{expected}"


def test_short_code_hash_is_hmac_under_its_own_subkey_over_store_and_canonical_code() -> None:
    subkey = hmac.new(KEY.encode(), b"winkelpunt/pickup/v1/short-code-hash", hashlib.sha256).digest()
    expected = hmac.new(subkey, f"{STORE}.J4FNS770".encode(), hashlib.sha256).hexdigest()

    assert short_code_hash(STORE, "J4FN-S770", secret_key=KEY) == expected
    # Any spelling staff might type hashes to the same value.
    assert short_code_hash(STORE, " j4fn s770 ", secret_key=KEY) == expected


def test_format_short_code_groups_by_four() -> None:
    assert format_short_code("K7QM4T9X") == "K7QM-4T9X"
    assert format_short_code("K7QM4T") == "K7QM-4T"
    assert format_short_code("K7QM4T9XAB12") == "K7QM-4T9X-AB12"


# --- the token: bound to order, store and issue; not forgeable ---------------------------------------------


def test_token_verifies_for_its_order_store_and_nonce_only() -> None:
    issued = issue_pickup(order_id=ORDER_ID, store_code=STORE, secret_key=KEY)

    assert _verify(issued.token, nonce=issued.nonce) is True
    assert _verify(issued.token, nonce=issued.nonce, order_id="another-order") is False
    assert _verify(issued.token, nonce=issued.nonce, store_code="NL-UTR-002") is False
    assert _verify(issued.token, nonce=NONCE) is False
    assert (
        verify_token(
            issued.token, order_id=ORDER_ID, store_code=STORE, nonce=issued.nonce, secret_key=KEY + "x"
        )
        is False
    )


def test_a_new_issue_revokes_the_previous_token() -> None:
    first = issue_pickup(order_id=ORDER_ID, store_code=STORE, secret_key=KEY)
    second = issue_pickup(order_id=ORDER_ID, store_code=STORE, secret_key=KEY)

    assert _verify(first.token, nonce=second.nonce) is False
    assert _verify(second.token, nonce=second.nonce) is True


def test_every_single_character_substitution_or_deletion_is_rejected() -> None:
    token = derive_pickup(order_id=ORDER_ID, store_code=STORE, nonce=NONCE, secret_key=KEY).token
    charset = string.ascii_letters + string.digits + "._- "
    rejected = 0
    for position, original in enumerate(token):
        for replacement in charset:
            if replacement != original:
                altered = token[:position] + replacement + token[position + 1 :]
                assert not _verify(altered), altered
                rejected += 1
        assert not _verify(token[:position] + token[position + 1 :])

    assert rejected == len(token) * (len(charset) - 1)
    assert _verify(token)


def test_authenticity_is_checked_without_the_order_and_tells_wrong_store_from_forged() -> None:
    other_store = derive_pickup(order_id=ORDER_ID, store_code="BE-BRU-001", nonce=NONCE, secret_key=KEY)
    parsed = parse_code(other_store.token)
    assert isinstance(parsed, ParsedToken)
    # Authentic, and names its store: the API answers wrong_store, not invalid_code.
    assert token_is_authentic(parsed, secret_key=KEY) is True
    assert parsed.store_code == "BE-BRU-001"

    # The same token with the store swapped for the scanning store's: forged.
    forged = parse_code(other_store.token.replace(".BE-BRU-001.", f".{STORE}."))
    assert isinstance(forged, ParsedToken)
    assert token_is_authentic(forged, secret_key=KEY) is False


def test_tokens_have_128_random_looking_bits_and_1000_issues_are_distinct() -> None:
    issued = [issue_pickup(order_id=ORDER_ID, store_code=STORE, secret_key=KEY) for _ in range(1000)]

    assert len({p.token for p in issued}) == 1000
    assert len({p.nonce for p in issued}) == 1000
    assert len({p.short_code for p in issued}) == 1000
    assert len({p.short_code_hash for p in issued}) == 1000
    for p in issued:
        parsed = parse_code(p.token)
        assert isinstance(parsed, ParsedToken)
        assert len(parsed.mac) == MAC_LENGTH
        assert len(parsed.nonce) == NONCE_LENGTH
        assert set(parsed.mac + parsed.nonce) <= set(ALPHABET)
    # 26 base32 characters, the first carrying 3 bits: 128 bits of mac (the requirement is 120).
    assert 5 * (MAC_LENGTH - 1) + 3 == 128
    # The mac's bits are used: each of its 25 full-width positions takes most of the 32 letters.
    macs = [p.token.rsplit(".", 1)[1] for p in issued]
    for position in range(1, MAC_LENGTH):
        assert len({mac[position] for mac in macs}) >= 28


def test_short_codes_are_eight_characters_of_the_unambiguous_alphabet() -> None:
    codes = [issue_pickup(order_id=ORDER_ID, store_code=STORE, secret_key=KEY).short_code for _ in range(500)]

    for code in codes:
        assert len(code) == 9
        assert code[4] == "-"
        compact = code.replace("-", "")
        assert len(compact) == 8
        assert set(compact) <= set(ALPHABET)
    assert not set("ILOU") & set("".join(codes))
    # Every letter of the alphabet turns up in 4,000 characters drawn from 32.
    assert set("".join(codes).replace("-", "")) == set(ALPHABET)


def test_short_code_length_is_configurable_within_bounds() -> None:
    six = issue_pickup(order_id=ORDER_ID, store_code=STORE, secret_key=KEY, short_code_length=6)
    assert len(six.short_code.replace("-", "")) == 6
    with pytest.raises(ValueError, match="short_code_length"):
        issue_pickup(order_id=ORDER_ID, store_code=STORE, secret_key=KEY, short_code_length=5)


def test_hashes_and_tokens_contain_no_secret() -> None:
    issued = derive_pickup(order_id=ORDER_ID, store_code=STORE, nonce=NONCE, secret_key=KEY)
    compact = issued.short_code.replace("-", "")

    assert len(issued.short_code_hash) == 64
    assert set(issued.short_code_hash) <= set("0123456789abcdef")
    for secret in (KEY, compact, compact.lower(), issued.token, issued.token.rsplit(".", 1)[1]):
        assert secret not in issued.short_code_hash
    assert KEY not in issued.token
    # The hash is keyed: the same code at another store, or under another key, hashes differently, and it
    # is not a plain SHA-256 that a leaked table could be brute-forced against.
    assert short_code_hash("NL-UTR-002", compact, secret_key=KEY) != issued.short_code_hash
    assert short_code_hash(STORE, compact, secret_key=KEY + "x") != issued.short_code_hash
    assert hashlib.sha256(f"{STORE}.{compact}".encode()).hexdigest() != issued.short_code_hash
    # Nothing secret in a repr that might end up in a log line.
    assert issued.token not in repr(issued)
    assert issued.short_code not in repr(issued)


def test_issue_unique_pickups_retries_a_taken_short_code() -> None:
    asked: list[list[str]] = []

    def taken(hashes: list[str]) -> set[str]:
        asked.append(hashes)
        return set(hashes) if len(asked) < 3 else set()

    issued = issue_unique_pickups(order_ids=[ORDER_ID], store_code=STORE, secret_key=KEY, taken=taken)

    assert len(asked) == 3
    assert [p.short_code_hash for p in issued] == asked[2]
    assert len({h for hashes in asked for h in hashes}) == 3
    with pytest.raises(RuntimeError, match="no free short codes"):
        issue_unique_pickups(
            order_ids=[ORDER_ID], store_code=STORE, secret_key=KEY, taken=lambda h: set(h), rounds=4
        )


def test_issue_unique_pickups_gives_a_batch_distinct_short_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first two issues share a short code (forced: at 40 bits a real collision is too rare to wait for).
    calls: list[str] = []

    def derive(*, order_id: str, **_: object) -> Pickup:
        calls.append(order_id)
        code_hash = "same" if len(calls) <= 2 else f"hash-{len(calls)}"
        return Pickup(nonce=f"{order_id}-{len(calls)}", token="t", short_code="s", short_code_hash=code_hash)

    monkeypatch.setattr(pickup, "derive_pickup", derive)
    asked: list[list[str]] = []

    def taken(hashes: list[str]) -> set[str]:
        asked.append(hashes)
        return set()

    issued = issue_unique_pickups(order_ids=["A", "B"], store_code=STORE, secret_key=KEY, taken=taken)
    assert calls == ["A", "B", "B"]  # B's first code clashed with A's, in the same batch
    assert [p.nonce for p in issued] == ["A-1", "B-3"]
    assert [p.short_code_hash for p in issued] == ["same", "hash-3"]
    assert asked == [["same", "same"], ["same", "hash-3"]]


@pytest.mark.parametrize(
    ("order_id", "store_code", "secret_key", "message"),
    [
        ("", STORE, KEY, "order_id"),
        ("has.dot", STORE, KEY, "order_id"),
        ("x" * 65, STORE, KEY, "order_id"),
        ("ordér", STORE, KEY, "order_id"),
        (ORDER_ID, "NL.AMS", KEY, "store code"),
        (ORDER_ID, "-NL", KEY, "store code"),
        (ORDER_ID, STORE, "", "secret_key"),
    ],
)
def test_issue_refuses_fields_that_would_break_the_token(
    order_id: str, store_code: str, secret_key: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        issue_pickup(order_id=order_id, store_code=store_code, secret_key=secret_key)


def test_derive_refuses_a_malformed_nonce() -> None:
    with pytest.raises(ValueError, match="nonce"):
        derive_pickup(order_id=ORDER_ID, store_code=STORE, nonce="cnyphwajms10we82", secret_key=KEY)


# --- parse_code: what staff scan or type -------------------------------------------------------------------


def test_parse_token_exactly_and_tolerate_scanner_whitespace() -> None:
    token = derive_pickup(order_id=ORDER_ID, store_code=STORE, nonce=NONCE, secret_key=KEY).token

    expected = ParsedToken(order_id=ORDER_ID, store_code=STORE, nonce=NONCE, mac="0P6ZWX2XMTZFK0S974C4S080V2")
    assert parse_code(token) == expected
    assert parse_code(f"  {token}\r\n") == expected
    assert parse_code(f"{token}\t") == expected


@pytest.mark.parametrize(
    "typed",
    [
        "J4FN-S770",
        "j4fn-s770",
        "J4FNS770",
        " j4fn s770 ",
        "J-4-F-N-S-7-7-0",
        "J4FN\u2013S770",  # en dash, as a mail client might turn it
        "J4FN\u00a0S770",  # no-break space
        "j4fns770\n",
    ],
)
def test_parse_short_code_forgives_case_spaces_and_dashes(typed: str) -> None:
    assert parse_code(typed) == ParsedShortCode("J4FNS770")


def test_parse_short_code_reads_confusable_letters_as_digits() -> None:
    assert parse_code("OI2L-ABCD") == ParsedShortCode("0121ABCD")
    assert parse_code("oil0-abcd") == ParsedShortCode("0110ABCD")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "ABCDE",  # too short
        "ABCD-EFGH-JKMN-P",  # 13 characters: too long
        "G2AT-8PRU",  # U is not in the alphabet
        "G2AT-8PR!",
        "G2AT_8PR6",
        "G2AT.8PR6",
        "\uff2a\uff14\uff26\uff2e\uff33\uff17\uff17\uff10",  # full-width J4FNS770
        "ǅ2AT8PR6",
        "\u0131\u0131\u0131\u0131\u0131\u0131",  # dotless i upper-cases to I; not ASCII, so refused
        "x" * 300,
        "WPK1.",
        "WPK1.order.NL-AMS-001",
        f"WPK1.{ORDER_ID}.{STORE}.{NONCE}.0P6ZWX2XMTZFK0S974C4S080V",  # mac one short
        f"WPK1.{ORDER_ID}.{STORE}.{NONCE}.0P6ZWX2XMTZFK0S974C4S080V2X",  # mac one long
        f"WPK1.{ORDER_ID}.{STORE}.{NONCE.lower()}.0P6ZWX2XMTZFK0S974C4S080V2",
        f"wpk1.{ORDER_ID}.{STORE}.{NONCE}.0P6ZWX2XMTZFK0S974C4S080V2",
        f"WPK1.{ORDER_ID}.{STORE}.{NONCE}.0P6ZWX2XMTZFK0S974C4S080V2\x00",
        f"WPK1.{ORDER_ID}.NL.AMS.{NONCE}.0P6ZWX2XMTZFK0S974C4S080V2",
        "WPK1." + "a" * 250,
        "https://example.com/?code=J4FNS770",
    ],
)
def test_parse_rejects_malformed_input(garbage: str) -> None:
    assert parse_code(garbage) is None


@pytest.mark.parametrize("not_text", [None, 12345678, b"J4FNS770", ["J4FNS770"]])
def test_parse_rejects_non_text(not_text: object) -> None:
    assert parse_code(not_text) is None


def test_parse_bounds_the_input_before_reading_it() -> None:
    assert parse_code(" " * 1_000_000 + "J4FNS770") is None
    assert parse_code("J4FNS770" + " " * 300) is None


@given(st.text(max_size=400))
def test_parse_never_raises_on_arbitrary_text(text: str) -> None:
    parsed = parse_code(text)
    assert parsed is None or isinstance(parsed, ParsedToken | ParsedShortCode)
    if isinstance(parsed, ParsedShortCode):
        assert set(parsed.code) <= set(ALPHABET)
        assert 6 <= len(parsed.code) <= 12
    # Whatever parses must also be safe to hand to the next steps.
    if isinstance(parsed, ParsedToken):
        assert token_is_authentic(parsed, secret_key=KEY) in (True, False)
    assert verify_token(text, order_id=ORDER_ID, store_code=STORE, nonce=NONCE, secret_key=KEY) is False


@given(st.from_regex(r"\s*WPK1\.[A-Za-z0-9_.-]{0,80}\.[0-9A-Z]{10,30}\s*", fullmatch=True))
def test_parse_never_raises_on_token_like_text(text: str) -> None:
    parsed = parse_code(text)
    assert parsed is None or isinstance(parsed, ParsedToken)


@settings(max_examples=200)
@given(order_id=order_ids, store_code=store_codes)
def test_any_valid_order_and_store_round_trip(order_id: str, store_code: str) -> None:
    issued = issue_pickup(order_id=order_id, store_code=store_code, secret_key=KEY)

    parsed = parse_code(issued.token)
    assert parsed == ParsedToken(
        order_id=order_id, store_code=store_code, nonce=issued.nonce, mac=issued.token.rsplit(".", 1)[1]
    )
    assert verify_token(
        issued.token, order_id=order_id, store_code=store_code, nonce=issued.nonce, secret_key=KEY
    )
    short = parse_code(issued.short_code)
    assert isinstance(short, ParsedShortCode)
    assert short_code_hash(store_code, short.code, secret_key=KEY) == issued.short_code_hash
    assert len(issued.token) <= pickup.MAX_CODE_LENGTH


@given(st.text(alphabet=ALPHABET, min_size=6, max_size=12))
def test_formatted_short_codes_parse_back(code: str) -> None:
    assert parse_code(format_short_code(code)) == ParsedShortCode(code)
    assert parse_code(format_short_code(code).lower()) == ParsedShortCode(code)


# --- QR images ---------------------------------------------------------------------------------------------


def _token() -> str:
    return derive_pickup(order_id=ORDER_ID, store_code=STORE, nonce=NONCE, secret_key=KEY).token


def test_qr_version_stays_small_for_realistic_tokens() -> None:
    assert qr_version(_token()) == 6  # 41 modules a side at error correction level Q
    longest = derive_pickup(order_id="x" * 64, store_code="S" * 32, nonce=NONCE, secret_key=KEY).token
    assert qr_version(longest) <= 10


def test_qr_png_is_a_png_of_the_expected_size() -> None:
    data = qr_png(_token())

    assert data.startswith(PNG_MAGIC)
    length, chunk, width, height, bit_depth, colour_type = struct.unpack(">I4sIIBB", data[8:26])
    assert (length, chunk) == (13, b"IHDR")
    modules = 17 + 4 * qr_version(_token())
    assert width == height == (modules + 2 * 4) * 10
    # 1-bit greyscale: no alpha, so it stays black on white on any app background.
    assert (bit_depth, colour_type) == (1, 0)
    assert data.endswith(b"IEND\xaeB`\x82")


def test_qr_png_decodes_back_to_the_token() -> None:
    token = _token()
    width, height, rows, _ = png.Reader(bytes=qr_png(token)).read()
    pixels = np.array([list(row) for row in rows], dtype=np.uint8) * 255
    assert pixels.shape == (height, width)
    results = zxingcpp.read_barcodes(pixels)

    assert [r.text for r in results] == [token]
    assert results[0].ec_level == "Q"


def test_qr_svg_is_a_standalone_svg_with_a_viewbox_and_white_background() -> None:
    data = qr_svg(_token())

    assert data.startswith(b"<?xml")
    root = ET.parse(io.BytesIO(data)).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    size = 17 + 4 * qr_version(_token()) + 2 * 4
    assert root.get("viewBox") == f"0 0 {size} {size}"
    rect = root.find("{http://www.w3.org/2000/svg}rect")
    assert rect is not None
    assert rect.get("fill") == "white"
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    assert path.get("d")
