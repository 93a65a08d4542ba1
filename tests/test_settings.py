"""The embedded default's secret: generated once, kept beside the database (owner-only), the same in every
process that opens that database, and never needed on PostgreSQL, where RETAIL_SECRET_KEY is required."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from retail.settings import Settings


def _embedded(db: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{db}", redis_url=None, secret_key=None)


def test_the_embedded_secret_is_generated_once_beside_the_database_and_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "data" / "winkelpunt.db"
    secret_file = tmp_path / "data" / "winkelpunt.db.secret"
    first = _embedded(db).secret
    assert len(first) >= 32
    assert secret_file.read_text().strip() == first
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    # Another process's settings (here: another object) read the same secret rather than make one.
    assert _embedded(db).secret == first
    assert sorted(p.name for p in secret_file.parent.iterdir()) == ["winkelpunt.db.secret"]
    # A configured secret wins and touches no file.
    assert Settings(database_url=f"sqlite:///{db}", secret_key="c" * 20).secret == "c" * 20


def test_processes_starting_at_once_on_a_fresh_database_agree_on_one_secret(tmp_path: Path) -> None:
    db = tmp_path / "winkelpunt.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAIL_")}
    env["RETAIL_DATABASE_URL"] = f"sqlite:///{db}"
    code = "from retail.settings import get_settings; print(get_settings().secret)"
    starting = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    secrets = {process.communicate(timeout=120)[0].strip() for process in starting}
    assert len(secrets) == 1
    assert secrets == {(tmp_path / "winkelpunt.db.secret").read_text().strip()}
    # No candidate file of a process that lost the race is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["winkelpunt.db.secret"]


def test_a_secret_file_readable_by_others_is_made_owner_only(tmp_path: Path) -> None:
    secret_file = tmp_path / "w.db.secret"
    secret_file.write_text("restored-from-a-backup-0123456789\n")
    secret_file.chmod(0o644)
    assert _embedded(tmp_path / "w.db").secret == "restored-from-a-backup-0123456789"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600


def test_a_secret_file_without_a_secret_is_refused(tmp_path: Path) -> None:
    (tmp_path / "w.db.secret").write_text("short\n")
    with pytest.raises(ValueError, match=r"w\.db\.secret does not hold a secret key"):
        _ = _embedded(tmp_path / "w.db").secret


def test_an_in_memory_database_keeps_its_secret_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(database_url="sqlite://", secret_key=None)
    assert settings.secret == settings.secret
    assert Settings(database_url="sqlite:///:memory:", secret_key=None).secret != settings.secret
    assert list(tmp_path.iterdir()) == []


def test_postgres_still_requires_a_configured_secret() -> None:
    with pytest.raises(ValueError, match="RETAIL_SECRET_KEY must be set"):
        Settings(database_url="postgresql://postgres@127.0.0.1/x", secret_key=None)
    with pytest.raises(ValueError, match="at least 16 characters"):
        Settings(database_url="postgresql://postgres@127.0.0.1/x", secret_key="short")


def test_a_replica_is_postgresql_beside_a_postgresql_primary() -> None:
    primary = "postgresql://app@db:5432/winkelpunt"
    settings = Settings(
        database_url=primary,
        database_replica_url="postgres://app@standby:5432/winkelpunt",
        secret_key="s" * 16,
    )
    assert settings.sqlalchemy_replica_url == "postgresql+psycopg://app@standby:5432/winkelpunt"
    assert Settings(database_url=primary, secret_key="s" * 16).sqlalchemy_replica_url is None
    refused = "RETAIL_DATABASE_REPLICA_URL must be a postgresql:// URL"
    with pytest.raises(ValueError, match=refused):
        Settings(database_url="sqlite:///w.db", database_replica_url=primary, secret_key="s" * 16)
    with pytest.raises(ValueError, match=refused):
        Settings(database_url=primary, database_replica_url="sqlite:///w.db", secret_key="s" * 16)
