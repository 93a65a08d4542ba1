"""Order notifications: written with each transition (the outbox), delivered signed to a webhook with
retries and backoff, or logged when no webhook is configured."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from orders import notifications
from orders.models import Notification
from retail.clock import utcnow
from retail.settings import get_settings
from tests.factories import committed_store, reserved_order


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on this machine that fails the first `fail_first` requests."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    fail_first: ClassVar[int] = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        Receiver.received.append((dict(self.headers), body))
        failing = len(Receiver.received) <= Receiver.fail_first
        self.send_response(500 if failing else 204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def webhook_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A receiver on this machine, the settings' webhook while the test runs; answers its URL."""
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Receiver.received = []
    Receiver.fail_first = 0
    url = f"http://127.0.0.1:{server.server_port}/hooks/winkelpunt"
    monkeypatch.setattr(get_settings(), "webhook_url", url)
    yield url
    server.shutdown()


@pytest.fixture
def notifying_engine(pg_engine: Engine) -> Iterator[Engine]:
    """The test database with store N1 and one order reserved there, committed: two notifications due."""
    with committed_store(pg_engine, "N1", {"A": 5}):
        reserved_order(pg_engine, "N1", {"A": 1}, key="notify-1")
        yield pg_engine


def _outbox(engine: Engine) -> list[Notification]:
    with Session(engine) as session:
        return list(session.exec(select(Notification).order_by(col(Notification.id))).all())


def test_each_transition_is_delivered_once_signed_with_a_unique_event_id(
    notifying_engine: Engine, webhook_url: str
) -> None:
    outbox = _outbox(notifying_engine)
    assert [n.payload["status"] for n in outbox] == ["pending", "reserved"]
    assert notifications.deliver_due(notifying_engine) == 2
    assert notifications.deliver_due(notifying_engine) == 0  # nothing is sent twice

    assert len(Receiver.received) == 2
    event_ids = []
    for headers, body in Receiver.received:
        expected = hmac.new(notifications.signing_key(), body, hashlib.sha256).hexdigest()
        assert headers["X-Winkelpunt-Signature"] == f"sha256={expected}"
        event = json.loads(body)
        assert event["event_id"] == headers["X-Winkelpunt-Event"]
        assert event["type"] == "order.status_changed"
        assert event["data"]["store_code"] == "N1"
        event_ids.append(event["event_id"])
    assert len(set(event_ids)) == 2
    assert all(n.delivered_at is not None for n in _outbox(notifying_engine))


def test_a_failing_receiver_is_retried_with_backoff(notifying_engine: Engine, webhook_url: str) -> None:
    Receiver.fail_first = 2  # both notifications fail on the first round
    assert notifications.deliver_due(notifying_engine) == 0
    failed = _outbox(notifying_engine)
    assert [(n.attempts, n.last_error, n.delivered_at) for n in failed] == [(1, "HTTP 500", None)] * 2
    assert all(n.next_attempt_at > utcnow() + timedelta(seconds=5) for n in failed)
    assert notifications.deliver_due(notifying_engine) == 0  # not due yet: the backoff holds

    with Session(notifying_engine) as session:
        for row in session.exec(select(Notification)).all():
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
            session.add(row)
        session.commit()
    assert notifications.deliver_due(notifying_engine) == 2
    assert [n.attempts for n in _outbox(notifying_engine)] == [2, 2]
    assert notifications.backoff(1) == timedelta(seconds=10)
    assert notifications.backoff(3) == timedelta(seconds=40)
    assert notifications.backoff(20) == timedelta(hours=1)


def test_without_a_webhook_notifications_are_logged(
    notifying_engine: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_url", None)
    with caplog.at_level("INFO", logger="orders.notifications"):
        assert notifications.deliver_due(notifying_engine) == 2
    assert sum("order.status_changed" in record.getMessage() for record in caplog.records) == 2
