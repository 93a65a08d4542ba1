"""Settings from `RETAIL_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_DATA_DIR = Path("var")
# Beside the embedded database `PATH`, the secret every process of it uses when none is configured.
SECRET_FILE_SUFFIX = ".secret"
MIN_SECRET_LENGTH = 16


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATA_DIR / 'winkelpunt.db'}",
        description="sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
    )
    database_replica_url: str | None = Field(
        default=None,
        description="postgresql://USER@HOST:PORT/DB of a streaming replica of RETAIL_DATABASE_URL: the "
        "shopper's lookups of stores, products, availability and prices read there; unset: the primary",
    )
    redis_url: str | None = Field(
        default=None, description="Celery broker; unset runs tasks in-process in the API process"
    )
    secret_key: str | None = Field(default=None, description="signs pickup tokens and webhooks")
    geocoder: Literal["offline", "nominatim"] = "offline"
    geocoder_user_agent: str = "winkelpunt"
    geocoder_timeout_s: float = 3.0
    gazetteer_countries: str = "NL,BE,LU"
    max_body_bytes: int = 2 * 1024 * 1024
    body_stall_timeout_s: float = Field(
        default=30.0, gt=0, description="longest wait for the next part of a request body (408 beyond)"
    )
    webhook_url: str | None = Field(
        default=None, description="where order notifications are POSTed; unset: they are logged"
    )
    webhook_timeout_s: float = 5.0
    smtp_url: str | None = Field(
        default=None,
        description="smtp://HOST:PORT or smtps://USER:PASSWORD@HOST:PORT of the mail server that sends the "
        "messages to shoppers; unset: they are logged",
    )
    mail_from: str = Field(
        default="Winkelpunt <noreply@winkelpunt.invalid>", description="the From of messages to shoppers"
    )
    smtp_timeout_s: float = Field(default=10.0, gt=0, description="longest wait for the mail server")
    pickup_attempts_per_minute: int = Field(
        default=30,
        ge=1,
        description="verify/confirm attempts a staff key may make per minute (code guessing)",
    )
    scan_frames_per_minute: int = Field(
        default=600,
        ge=1,
        description="camera frames a staff key may post to pickups/scan per minute (decoding costs CPU)",
    )
    shopper_requests_per_minute: int = Field(
        default=1200, ge=1, description="requests one client address may make per minute to /mobile/v1"
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="proxies whose X-Forwarded-For uvicorn trusts for the client address (comma-separated "
        "addresses or networks, or *); empty: none, the client address is the connecting peer's",
    )
    desk_keepalive_s: float = Field(
        default=15.0,
        gt=0,
        le=15,
        description="seconds between the keep-alive comments of a desk's event stream (proxies close idle "
        "ones)",
    )
    desk_stream_max_s: float = Field(
        default=300.0,
        gt=0,
        description="seconds a desk's event stream lasts before the server ends it; the desk reconnects with "
        "Last-Event-ID and loses nothing, and a revoked key is refused then",
    )
    metrics_token: str | None = Field(
        default=None, description="when set, GET /metrics needs `Authorization: Bearer <this token>`"
    )
    log_level: str = "INFO"

    _embedded_secret: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        # The embedded default keeps a generated secret beside its database (see `secret`); a shared
        # PostgreSQL database has processes on several machines, so a deployment must set one explicitly.
        if self.secret_key is None:
            if not self.is_embedded:
                raise ValueError(
                    "RETAIL_SECRET_KEY must be set when RETAIL_DATABASE_URL points at PostgreSQL"
                )
        elif len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(f"RETAIL_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        # A mail server URL is checked at start, not at the first message an hour later.
        if self.smtp_url is not None and not (
            self.smtp_url.startswith(("smtp://", "smtps://")) and len(self.smtp_url.split("://", 1)[1]) > 0
        ):
            raise ValueError("RETAIL_SMTP_URL must be smtp://HOST:PORT or smtps://USER:PASSWORD@HOST:PORT")
        # A replica is PostgreSQL's streaming standby of a PostgreSQL primary; SQLite has none.
        if self.database_replica_url is not None and (
            self.is_embedded or not _is_postgresql(self.database_replica_url)
        ):
            raise ValueError(
                "RETAIL_DATABASE_REPLICA_URL must be a postgresql:// URL, beside a PostgreSQL "
                "RETAIL_DATABASE_URL"
            )
        return self

    @property
    def is_embedded(self) -> bool:
        """The embedded default: a SQLite database of this machine's own, which `retail serve` migrates
        itself, rather than a shared PostgreSQL server that a deployment migrates once."""
        return not _is_postgresql(self.database_url)

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the driver SQLAlchemy should use; plain `postgresql://` URLs select psycopg 3."""
        return _with_driver(self.database_url)

    @property
    def sqlalchemy_replica_url(self) -> str | None:
        """`sqlalchemy_url` of the replica, None without one."""
        url = self.database_replica_url
        return None if url is None else _with_driver(url)

    @property
    def sqlite_path(self) -> Path | None:
        """The embedded database's file; None on PostgreSQL and for an in-memory database."""
        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)

    @property
    def secret(self) -> str:
        """`RETAIL_SECRET_KEY`, or on the embedded default the one kept beside its database file.

        Tokens, pickup codes and webhook signatures must verify in every process (`--workers`, a
        restart, the CLI) that uses the same database, so the secret is generated once, by whichever
        process comes first, and read back by all. Read on first use, so a command that never signs
        anything (`retail --help`) leaves no file behind."""
        if self.secret_key is not None:
            return self.secret_key
        with _secret_lock:
            if self._embedded_secret is None:
                path = self.sqlite_path
                # An in-memory database lives and dies with its one process, and so may its secret.
                self._embedded_secret = (
                    secrets.token_urlsafe(32)
                    if path is None
                    else read_or_create_secret(path.with_name(path.name + SECRET_FILE_SUFFIX))
                )
            return self._embedded_secret

    @property
    def gazetteer_country_list(self) -> list[str]:
        return [c.strip().upper() for c in self.gazetteer_countries.split(",") if c.strip()]


def _is_postgresql(url: str) -> bool:
    return url.startswith(("postgresql", "postgres://"))


def _with_driver(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


_secret_lock = threading.Lock()


def read_or_create_secret(path: Path) -> str:
    """The secret in `path` (owner-only), generated and written first if there is none yet.

    Several processes may start at once on a fresh database: each writes a candidate to a private
    temporary file and links it into place, which succeeds for one of them only; all then read the one
    that won. No process ever reads a half-written file."""
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, candidate = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        # If another process was first, its secret is the one.
        with contextlib.suppress(FileExistsError):
            os.link(candidate, path)
    finally:
        os.unlink(candidate)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        # Copied or restored with looser permissions: the secret signs every pickup code, so tighten them
        # rather than refuse to start.
        os.chmod(path, 0o600)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"{path} does not hold a secret key; remove it to generate a new one")
    return secret


@lru_cache
def get_settings() -> Settings:
    return Settings()
