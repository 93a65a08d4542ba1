"""Settings from `RETAIL_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATA_DIR / 'winkelpunt.db'}",
        description="sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
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
        default="127.0.0.1",
        description="proxies whose X-Forwarded-For uvicorn trusts for the client address (comma-separated, "
        "or *)",
    )
    metrics_token: str | None = Field(
        default=None, description="when set, GET /metrics needs `Authorization: Bearer <this token>`"
    )
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        # A generated secret is fine for the single-process embedded demo, but on a shared database several
        # processes must agree on it, so a production deployment has to set one explicitly.
        if self.secret_key is None:
            if self.is_postgres:
                raise ValueError(
                    "RETAIL_SECRET_KEY must be set when RETAIL_DATABASE_URL points at PostgreSQL"
                )
            self.secret_key = secrets.token_urlsafe(32)
        elif len(self.secret_key) < 16:
            raise ValueError("RETAIL_SECRET_KEY must be at least 16 characters")
        return self

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql", "postgres://"))

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the driver SQLAlchemy should use; plain `postgresql://` URLs select psycopg 3."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def secret(self) -> str:
        assert self.secret_key is not None  # filled in by the validator
        return self.secret_key

    @property
    def gazetteer_country_list(self) -> list[str]:
        return [c.strip().upper() for c in self.gazetteer_countries.split(",") if c.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
