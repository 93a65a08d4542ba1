"""Pickup codes: the QR token a shopper shows at the counter and the short code staff can type instead.

Pure functions: no database, no HTTP. The orders service stores one value per order, the `nonce`, plus the
keyed `short_code_hash` for staff lookups; the token and the short code themselves are never stored. They
are derived again from (secret key, order_id, store_code, nonce) whenever the shopper's endpoints show
them: `GET /orders/{order_id}` answers `pickup.code` and `pickup-code.png`/`.svg` render the token on every
request, so a design that kept only their hashes could not show them a second time. This is the same
choice as the shopper's `order_token` (an HMAC of `order_id`).

Threat model
------------
* Token (the QR content): `WPK1.<order_id>.<store_code>.<nonce>.<mac>`. The `mac` is 128 bits of
  HMAC-SHA256 under a key derived from `RETAIL_SECRET_KEY`, over everything before it. Without the key,
  producing a token that verifies means guessing 128 bits (the requirement is at least 120): at a billion
  guesses a second that is ~10^22 years, so the token needs no throttling and no lookup to be rejected.
  The server checks the mac before touching the database (`token_is_authentic`), so a forged or altered
  token costs one HMAC; a token with a valid mac names its order and store, which is how the API tells
  `wrong_store` (authentic, another store's order) from `invalid_code` (forged). The `nonce` (80 random
  bits, stored with the order, not a secret) makes each issue distinct, lets the service revoke a token
  by issuing a new one (the stored nonce no longer matches), and picks a fresh short code on a collision.
  Everything in the token is ASCII from small alphabets, so it never needs escaping; the Crockford base32
  parts are in the QR alphanumeric set and keep the symbol small.
* Short code: 8 characters of Crockford base32 (no I, L, O, U; typed O/I/L are read as 0/1/1), so 40
  bits. That is far too few to stand alone: it is only accepted (1) on staff endpoints, behind a staff key
  scoped to one store, (2) looked up within that store only, never chain-wide (a chain-wide lookup over a
  million open orders would hit one in ~2^20 guesses), and (3) with guessing throttled by the API. With
  N open orders at the store each guess succeeds with probability N / 2^40: 200 orders and 10,000 guesses
  is ~2e-6. The code is derived from the key, so it is as unpredictable as a `secrets` draw to anyone
  without the key.
* Storage: `short_code_hash` is HMAC-SHA256 under the key, over the store code and the code. A leaked
  table alone cannot be brute-forced offline (40 bits would fall in minutes to a plain SHA-256), and the
  same code at two stores hashes differently. Whoever holds the key can forge everything anyway, exactly
  as with the order token, so the key is the one secret to protect.
* Each purpose (token mac, short code, short code hash) uses its own subkey derived from the secret key,
  so no value computed here can be replayed as another one, nor as the order token's HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import qrcode
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathFillImage

from stores.codes import STORE_CODE, STORE_CODE_PATTERN

TOKEN_PREFIX: Final = "WPK1"
# Crockford base32: digits and letters without I, L, O, U (I/L/O read as 1/1/0, U avoids accidental words).
ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NONCE_LENGTH: Final = 16  # 80 bits: unique per issue; not a secret
MAC_LENGTH: Final = 26  # 128 bits (the first character carries 3 of them)
SHORT_CODE_LENGTH: Final = 8  # 40 bits
SHORT_CODE_MIN_LENGTH: Final = 6
SHORT_CODE_MAX_LENGTH: Final = 12  # 60 bits: what one HMAC prefix below is sliced into comfortably
# Anything longer than a token can be (4 + 64 + 32 + 16 + 26 + 4 separators) is rejected unread.
MAX_CODE_LENGTH: Final = 256

# The charsets of the order id and of a store code (`stores.codes`): neither contains ".", so a token
# splits unambiguously and the mac's input cannot be shifted between fields.
_ORDER_ID = r"[A-Za-z0-9_-]{1,64}"
_B32 = "[0-9A-HJKMNP-TV-Z]"
_ORDER_ID_RE: Final = re.compile(_ORDER_ID)
_NONCE_RE: Final = re.compile(f"{_B32}{{{NONCE_LENGTH}}}")
_TOKEN_RE: Final = re.compile(
    rf"{TOKEN_PREFIX}\.(?P<order_id>{_ORDER_ID})\.(?P<store_code>{STORE_CODE_PATTERN})"
    rf"\.(?P<nonce>{_B32}{{{NONCE_LENGTH}}})\.(?P<mac>{_B32}{{{MAC_LENGTH}}})"
)
# What people put between characters when they type or paste a code: ASCII and Unicode dashes; all
# whitespace is removed separately.
_SEPARATORS: Final = dict.fromkeys(map(ord, "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"))
_CONFUSABLES: Final = str.maketrans("OIL", "011")

# QR parameters for a code shown on a phone screen. Level Q (25% recovery) survives glare, a cracked
# screen or a notification banner over a corner, and still keeps realistic tokens (75-110 characters) at
# version 5-8, i.e. 37-49 modules. 10 px per module gives a 450-570 px PNG that the app can scale down
# crisply; 4 modules of quiet zone is the minimum ISO/IEC 18004 asks for, and scanners need it on a
# busy app background.
QR_ERROR_CORRECTION: Final = ERROR_CORRECT_Q
QR_BOX_SIZE: Final = 10
QR_BORDER: Final = 4


@dataclass(frozen=True)
class Pickup:
    """One issue of an order's pickup codes. Store `nonce` and `short_code_hash`; show the rest."""

    nonce: str
    # The secrets stay out of repr, so logging a Pickup does not log a usable code.
    token: str = field(repr=False)
    short_code: str = field(repr=False)  # display form, e.g. "K7QM-4T9X"
    short_code_hash: str = field(repr=False)


@dataclass(frozen=True)
class ParsedToken:
    """A QR token, well-formed but not yet authenticated: check it with `token_is_authentic`."""

    order_id: str
    store_code: str
    nonce: str
    mac: str = field(repr=False)


@dataclass(frozen=True)
class ParsedShortCode:
    code: str = field(repr=False)  # canonical: upper case, no separators, confusables mapped


ParsedCode = ParsedToken | ParsedShortCode


def new_nonce() -> str:
    return _encode(secrets.randbits(5 * NONCE_LENGTH), NONCE_LENGTH)


def issue_pickup(
    *, order_id: str, store_code: str, secret_key: str, short_code_length: int = SHORT_CODE_LENGTH
) -> Pickup:
    """Fresh codes for an order whose stock was just reserved (or to revoke the previous ones)."""
    return derive_pickup(
        order_id=order_id,
        store_code=store_code,
        nonce=new_nonce(),
        secret_key=secret_key,
        short_code_length=short_code_length,
    )


def issue_unique_pickups(
    *,
    order_ids: Sequence[str],
    store_code: str,
    secret_key: str,
    taken: Callable[[list[str]], set[str]],
    rounds: int = 5,
    short_code_length: int = SHORT_CODE_LENGTH,
) -> list[Pickup]:
    """Issue codes for orders of one store, their short codes unique among each other and not among the
    `short_code_hash`es that `taken` says open orders of the store use (asked once a round, for all).

    A collision is ~N / 2^40 for N open orders, so a second round is already rare; the unique index on
    (store, short_code_hash) stays the real guarantee against two concurrent issues.
    """
    issued: list[Pickup | None] = [None] * len(order_ids)
    for _ in range(rounds):
        todo = [i for i, p in enumerate(issued) if p is None]
        if not todo:
            break
        for i in todo:
            issued[i] = issue_pickup(
                order_id=order_ids[i],
                store_code=store_code,
                secret_key=secret_key,
                short_code_length=short_code_length,
            )
        fresh = [p for p in issued if p is not None]
        in_use = taken([p.short_code_hash for p in fresh])
        for i, p in enumerate(issued):
            if p is not None and p.short_code_hash in in_use:
                issued[i] = None
            elif p is not None:
                in_use.add(p.short_code_hash)  # a later order of this batch may not have it too
    unique = [p for p in issued if p is not None]
    if len(unique) < len(order_ids):
        raise RuntimeError(f"no free short codes in {rounds} rounds")
    return unique


def derive_pickup(
    *,
    order_id: str,
    store_code: str,
    nonce: str,
    secret_key: str,
    short_code_length: int = SHORT_CODE_LENGTH,
) -> Pickup:
    """The codes of an issue, computed again from the stored nonce (e.g. to render the QR code)."""
    _check_fields(order_id, store_code, nonce)
    if not SHORT_CODE_MIN_LENGTH <= short_code_length <= SHORT_CODE_MAX_LENGTH:
        bounds = f"{SHORT_CODE_MIN_LENGTH}-{SHORT_CODE_MAX_LENGTH}"
        raise ValueError(f"short_code_length must be {bounds}, not {short_code_length}")
    body = f"{TOKEN_PREFIX}.{order_id}.{store_code}.{nonce}"
    token = f"{body}.{_mac(body, secret_key)}"
    digest = _hmac(secret_key, "short-code", body)
    # 5 bits per character from the top of the digest: an exact fit for a 32-letter alphabet, so uniform.
    bits = 5 * short_code_length
    code = _encode(int.from_bytes(digest, "big") >> (8 * len(digest) - bits), short_code_length)
    return Pickup(
        nonce=nonce,
        token=token,
        short_code=format_short_code(code),
        short_code_hash=short_code_hash(store_code, code, secret_key=secret_key),
    )


def parse_code(code: object) -> ParsedCode | None:
    """What staff scanned or typed: a QR token, a short code, or None when it is neither.

    Never raises, whatever it is given. Tokens are matched exactly (a scanner returns them verbatim and the
    order id is case-sensitive); short codes forgive case, spaces, dashes and O/I/L for 0/1/1.
    """
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH:
        return None
    # Scanners in keyboard mode end with Enter or Tab; people paste with spaces around.
    text = code.strip()
    if text.startswith(TOKEN_PREFIX + "."):
        match = _TOKEN_RE.fullmatch(text)
        if match is None:
            return None
        return ParsedToken(
            order_id=match["order_id"],
            store_code=match["store_code"],
            nonce=match["nonce"],
            mac=match["mac"],
        )
    short = _canonical_short_code(text)
    return None if short is None else ParsedShortCode(short)


def token_is_authentic(parsed: ParsedToken, *, secret_key: str) -> bool:
    """Whether this server issued the token (for the order and store it names): no database needed."""
    body = f"{TOKEN_PREFIX}.{parsed.order_id}.{parsed.store_code}.{parsed.nonce}"
    # Compare the encoded strings rather than decoded bytes: the mac's first character carries only 3
    # bits, and comparing text makes every character count, so no two spellings of one mac exist.
    return hmac.compare_digest(_mac(body, secret_key).encode(), parsed.mac.encode())


def verify_token(token: str, *, order_id: str, store_code: str, nonce: str, secret_key: str) -> bool:
    """Whether `token` is the current pickup token of this order at this store (constant time).

    `nonce` is the one stored with the order, so a token revoked by a later issue no longer verifies.
    """
    parsed = parse_code(token)
    if not isinstance(parsed, ParsedToken):
        return False
    authentic = token_is_authentic(parsed, secret_key=secret_key)
    # `&`, not `and`: every comparison runs whatever the first one found.
    same = (
        hmac.compare_digest(parsed.order_id.encode(), order_id.encode())
        & hmac.compare_digest(parsed.store_code.encode(), store_code.encode())
        & hmac.compare_digest(parsed.nonce.encode(), nonce.encode())
    )
    return authentic and same


def short_code_hash(store_code: str, short_code: str, *, secret_key: str) -> str:
    """Hex HMAC-SHA256 of a short code at a store: what the database stores and looks up (64 chars)."""
    if STORE_CODE.fullmatch(store_code) is None:
        raise ValueError("malformed store code")
    canonical = _canonical_short_code(short_code)
    if canonical is None:
        raise ValueError("malformed short code")
    return _hmac(secret_key, "short-code-hash", f"{store_code}.{canonical}").hex()


def format_short_code(code: str) -> str:
    """Groups of four, e.g. "K7QM-4T9X", for reading aloud and typing; `parse_code` ignores the dashes."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def qr_png(content: str) -> bytes:
    """A 1-bit greyscale PNG (black on white, no transparency, so it scans on a dark-mode app too)."""
    buffer = io.BytesIO()
    _qr(content).make_image(image_factory=PyPNGImage).save(buffer)
    return buffer.getvalue()


def qr_svg(content: str) -> bytes:
    """A standalone SVG document (image/svg+xml) with a viewBox and a white background, one path."""
    buffer = io.BytesIO()
    _qr(content).make_image(image_factory=SvgPathFillImage).save(buffer)
    return buffer.getvalue()


def qr_version(content: str) -> int:
    """The QR version (size: 17 + 4 * version modules a side) that `qr_png` and `qr_svg` use."""
    version: int = _qr(content).version
    return version


def _qr(content: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, box_size=QR_BOX_SIZE, border=QR_BORDER)
    # The default optimisation splits the data into segments per mode, so the upper-case base32 parts go in
    # alphanumeric mode (5.5 bits a character) even when the order id needs byte mode.
    qr.add_data(content)
    qr.make(fit=True)
    return qr


def _check_fields(order_id: str, store_code: str, nonce: str) -> None:
    if _ORDER_ID_RE.fullmatch(order_id) is None:
        raise ValueError("order_id must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'")
    if STORE_CODE.fullmatch(store_code) is None:
        raise ValueError("malformed store code")
    if _NONCE_RE.fullmatch(nonce) is None:
        raise ValueError("malformed nonce")


def _canonical_short_code(text: str) -> str | None:
    compact = "".join(text.split()).translate(_SEPARATORS)
    # ASCII first, so that str.upper() cannot turn some other script's letter into a valid one.
    if not compact.isascii() or not SHORT_CODE_MIN_LENGTH <= len(compact) <= SHORT_CODE_MAX_LENGTH:
        return None
    compact = compact.upper().translate(_CONFUSABLES)
    if any(char not in ALPHABET for char in compact):
        return None
    return compact


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _mac(body: str, secret_key: str) -> str:
    return _encode(int.from_bytes(_hmac(secret_key, "token", body)[:16], "big"), MAC_LENGTH)


def _hmac(secret_key: str, purpose: str, message: str) -> bytes:
    if not secret_key:
        # An empty key would make every code forgeable by anyone who reads this file.
        raise ValueError("secret_key is required")
    label = f"winkelpunt/pickup/v1/{purpose}".encode()
    subkey = hmac.new(secret_key.encode(), label, hashlib.sha256).digest()
    return hmac.new(subkey, message.encode(), hashlib.sha256).digest()
