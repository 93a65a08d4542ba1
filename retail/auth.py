"""API keys: random secrets shown once, stored as SHA-256 hashes, with a role and (for staff) a store scope.

A secret carries 256 bits of randomness, so a fast hash is the right tool: there is nothing for a slow
password hash to protect against, and the lookup is a single indexed equality on the hash.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Column, String
from sqlmodel import Field, Session, SQLModel, select

from retail.clock import utcnow
from retail.db import ReadSessionDep, SessionDep
from retail.dialect import UtcTimestamp
from retail.errors import Forbidden, InvalidInput, Unauthorized

SECRET_PREFIX = "wp_"
MAX_SECRET_LENGTH = 200


class Role(enum.StrEnum):
    admin = "admin"
    staff = "staff"
    webshop = "webshop"


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    secret_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    role: Role = Field(sa_column=Column(String(16), nullable=False))
    # Staff keys are scoped by store code rather than a foreign key: retail/ sits below stores/ and must not
    # know its tables; the code is what every staff URL carries anyway.
    store_code: str | None = Field(default=None, max_length=32, index=True)
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, role and store scope."""

    key_id: int
    role: Role
    store_code: str | None
    # A stable, unique handle of the key for per-key counters (the start of its hash, not the secret).
    key_ref: str
    label: str = ""

    @property
    def by(self) -> str:
        """Who the key is, as an order's history names whoever made a change: its label, or its id when
        it has none (never empty, so that it cannot be mistaken for "no one")."""
        return self.label or f"key {self.key_id}"

    def may_act_for_store(self, store_code: str) -> bool:
        return self.role is Role.admin or (self.role is Role.staff and self.store_code == store_code)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _check_scope(role: Role, store_code: str | None) -> None:
    if role is Role.staff and not store_code:
        raise InvalidInput("a staff key needs a store", field="store_code")
    if role is not Role.staff and store_code:
        raise InvalidInput("only staff keys are scoped to a store", field="store_code")


def create_api_key(session: Session, *, role: Role, store_code: str | None = None, label: str = "") -> str:
    """Create a key and return its secret, which is not stored and cannot be shown again."""
    _check_scope(role, store_code)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(secret_hash=hash_secret(secret), role=role, store_code=store_code, label=label))
    session.flush()
    return secret


def ensure_api_key(
    session: Session, *, secret: str, role: Role, store_code: str | None = None, label: str = ""
) -> None:
    """Make `secret` a live key of this role and scope: created, or revived if it was revoked. For a
    secret derived rather than drawn at random (the demo's keys), which must go on working."""
    _check_scope(role, store_code)
    if not secret.startswith(SECRET_PREFIX) or len(secret) > MAX_SECRET_LENGTH:
        raise InvalidInput(f"a secret starts with {SECRET_PREFIX!r}", field="secret")
    digest = hash_secret(secret)
    key = session.exec(select(ApiKey).where(ApiKey.secret_hash == digest)).first()
    if key is None:
        key = ApiKey(secret_hash=digest, role=role, store_code=store_code, label=label)
    else:
        key.role, key.store_code, key.label, key.revoked_at = role, store_code, label, None
    session.add(key)
    session.flush()


def revoke_api_keys(session: Session, *, label: str) -> int:
    """Revoke every live key with this label; answers how many."""
    keys = session.exec(select(ApiKey).where(ApiKey.label == label, ApiKey.revoked_at.is_(None))).all()  # type: ignore[union-attr]
    for key in keys:
        key.revoked_at = utcnow()
        session.add(key)
    session.flush()
    return len(keys)


def authenticate(session: Session, secret: str) -> Principal | None:
    if not secret.startswith(SECRET_PREFIX) or len(secret) > MAX_SECRET_LENGTH:
        return None
    digest = hash_secret(secret)
    key = session.exec(select(ApiKey).where(ApiKey.secret_hash == digest)).first()
    # The equality already happened in the index; compare again in constant time so that no code path
    # ever decides on a secret with a short-circuiting comparison.
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.secret_hash, digest):
        return None
    assert key.id is not None
    return Principal(
        key_id=key.id,
        role=Role(key.role),
        store_code=key.store_code,
        key_ref=key.secret_hash[:16],
        label=key.label,
    )


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="`Authorization: Bearer <secret>` from `retail keys create`",
)


def _check_key(session: Session, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("an API key is required: Authorization: Bearer <secret>", code="unauthorized")
    principal = authenticate(session, credentials.credentials)
    if principal is None:
        raise Unauthorized("unknown or revoked API key", code="unauthorized")
    return principal


# The key is checked in the route's own session, a writing or a reading one (FastAPI hands both the route
# and this dependency the same one): a second session would cost a second transaction per request, and
# on SQLite a reading route would queue for the write lock only to look its key up.
def _principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return _check_key(session, credentials)


def _reading_principal(
    session: ReadSessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return _check_key(session, credentials)


def require_roles(*roles: Role, reading: bool = False) -> object:
    """A dependency: the caller's key, of one of `roles`; checked in a read session with `reading`, for
    the routes that take `ReadSessionDep`."""
    allowed = frozenset(roles)
    # A default rather than an annotation: annotations are strings here, resolved in the module's names.
    checked = Depends(_reading_principal if reading else _principal)

    def dependency(principal: Principal = checked) -> Principal:
        if principal.role not in allowed:
            wanted = " or ".join(sorted(allowed))
            article = "an" if wanted[0] in "aeiou" else "a"
            raise Forbidden(f"this endpoint needs {article} {wanted} key", code="forbidden")
        return principal

    return Depends(dependency)


AdminKey = Annotated[Principal, require_roles(Role.admin)]
StaffKey = Annotated[Principal, require_roles(Role.staff, Role.admin)]
WebshopKey = Annotated[Principal, require_roles(Role.webshop)]
# For the routes that only read (with `ReadSessionDep`).
StaffReadKey = Annotated[Principal, require_roles(Role.staff, Role.admin, reading=True)]
WebshopReadKey = Annotated[Principal, require_roles(Role.webshop, reading=True)]
