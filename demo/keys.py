"""The demo's API keys: an admin, a staff key for one store and a webshop key, derived from the service's
secret key rather than drawn at random, so every start makes the same keys live again and the ones printed
the first time keep working (the embedded default keeps its secret beside its database). Only their hashes
are stored, as for every key."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Final

from sqlmodel import Session

from retail.auth import SECRET_PREFIX, Role, ensure_api_key, revoke_api_keys

DEMO_KEY_LABEL: Final = "demo"


def _derived(secret: str, purpose: str) -> str:
    mac = hmac.new(secret.encode(), f"demo-api-key|{purpose}".encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def ensure_demo_keys(session: Session, *, secret: str, staff_store: str) -> dict[str, str]:
    """The demo's admin, staff and webshop keys, by name ("staff (NL-AMS-001)"); any other demo key is
    revoked."""
    wanted = {
        "admin": (Role.admin, None),
        f"staff ({staff_store})": (Role.staff, staff_store),
        "webshop": (Role.webshop, None),
    }
    keys = {name: _derived(secret, f"{role.value}|{store or ''}") for name, (role, store) in wanted.items()}
    revoke_api_keys(session, label=DEMO_KEY_LABEL)
    for name, (role, store) in wanted.items():
        ensure_api_key(session, secret=keys[name], role=role, store_code=store, label=DEMO_KEY_LABEL)
    return keys
