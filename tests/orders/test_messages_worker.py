"""Messages sent by a real Celery worker over Redis to a real SMTP server: each once; and with the mail
server down for a while, nothing is lost and nothing goes twice once it is back."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import Engine

from orders.messages import outbox
from orders.messages import tasks as messages_tasks
from orders.messages.models import MessageStatus
from retail.celery_app import celery_app
from retail.settings import get_settings
from tests.factories import committed_store
from tests.orders.messages_scenario import Scenario, every_message_type, messages
from tests.orders.smtp import SmtpServer

DUE_NOW = 13  # the messages of `every_message_type` due at once (its reminders wait for their time)


@pytest.fixture
def scenario(pg_engine: Engine) -> Iterator[Scenario]:
    with committed_store(pg_engine, "MW", {"A": 5, "B": 5, "C": 1}):
        celery_app.control.purge()
        yield every_message_type(pg_engine, "MW")


def _wait(condition: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_worker_sends_each_message_once(
    pg_engine: Engine, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        SmtpServer() as smtp,
        start_worker(
            celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
        ),
    ):
        monkeypatch.setattr(get_settings(), "smtp_url", smtp.url)
        # Two derivations and two sweeps at once, as beat ticks delivered twice would be.
        for _ in range(2):
            messages_tasks.derive_messages.delay()
            messages_tasks.sweep_messages.delay()
        _wait(lambda: len(smtp.mailbox.messages()) >= DUE_NOW)
        messages_tasks.sweep_messages.delay()
        time.sleep(2)  # a further sweep finds nothing left to send
        ids = smtp.mailbox.ids()
    assert len(ids) == DUE_NOW
    assert len(set(ids)) == DUE_NOW
    assert Counter(row.status for row in messages(pg_engine)) == {
        MessageStatus.sent: DUE_NOW,
        MessageStatus.queued: 2,
    }


def test_the_mail_server_down_for_a_while_loses_nothing_and_sends_nothing_twice(
    pg_engine: Engine, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp = SmtpServer()  # its port is chosen, nothing listens there yet: connections are refused
    monkeypatch.setattr(get_settings(), "smtp_url", smtp.url)
    with start_worker(
        celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
    ):
        messages_tasks.derive_messages.delay()

        def all_tried() -> bool:
            rows = [row for row in messages(pg_engine) if row.status == MessageStatus.queued]
            return sum(row.attempts == 1 for row in rows) == DUE_NOW

        _wait(all_tried)
        rows = messages(pg_engine)
        failed = [row for row in rows if row.attempts == 1]
        assert all("ConnectionRefusedError" in (row.last_error or "") for row in failed)
        assert all(row.sent_at is None for row in rows)
        messages_tasks.sweep_messages.delay()  # within the backoff: nothing is due, nothing is tried
        time.sleep(1)
        assert sum(row.attempts for row in messages(pg_engine)) == DUE_NOW

        with smtp:
            # The backoff after a first failure is 10 s; the sweep of beat then sends them.
            time.sleep(outbox.backoff(1).total_seconds())
            messages_tasks.sweep_messages.delay()
            _wait(lambda: len(smtp.mailbox.messages()) >= DUE_NOW)
            messages_tasks.sweep_messages.delay()
            messages_tasks.derive_messages.delay()
            time.sleep(2)
            ids = smtp.mailbox.ids()
    assert len(ids) == DUE_NOW
    assert len(set(ids)) == DUE_NOW
    sent = [row for row in messages(pg_engine) if row.status == MessageStatus.sent]
    assert len(sent) == DUE_NOW
    assert {row.attempts for row in sent} == {2}
    assert {row.last_error for row in sent} == {None}
