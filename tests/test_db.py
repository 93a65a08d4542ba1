"""The pool's liveness check: a pooled PostgreSQL connection that sat idle is pinged before use, and one
found dead is replaced without the caller seeing an error."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from retail import db
from tests.conftest import terminate_backend


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _pool_a_dead_connection(engine: Engine) -> int:
    """Leave a connection in the engine's pool whose server process is gone; answers that process."""
    pid = _backend_pid(engine)
    terminate_backend(pid)
    return pid


def test_an_idle_connection_cut_by_the_server_is_replaced_unseen(
    own_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_S", 0.0)
    first = _pool_a_dead_connection(own_engine)
    # The pooled connection is dead; the ping finds out and the pool opens another.
    assert _backend_pid(own_engine) != first


def test_a_connection_used_moments_ago_is_not_pinged(
    own_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control: without the ping, the dead connection reaches the caller, who sees the disconnect...
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_S", 3600.0)
    first = _pool_a_dead_connection(own_engine)
    with pytest.raises(OperationalError) as failed:
        _backend_pid(own_engine)
    assert failed.value.connection_invalidated
    # ...and SQLAlchemy replaces the pool's connections, so the next caller is served.
    assert _backend_pid(own_engine) != first
