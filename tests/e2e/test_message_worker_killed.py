"""A worker killed (SIGKILL) in the middle of sending a message: the message is not lost, and the copy
sent again after its lease runs out carries the same `Message-ID`, so the repeat is recognisable.

The test's SMTP server holds the message in DATA (it has the whole message, the worker waits for the
answer) while the whole worker process group is killed: the send is provably in flight. The worker's
row stays queued under its lease; once the lease is over (the test moves it to now rather than wait two
minutes), the sweep of beat sends the message again through a new worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from retail.clock import utcnow
from retail.settings import Settings
from tests.e2e.processes import running_service, wait_until
from tests.factories import committed_store, reserved_order
from tests.orders.smtp import SmtpServer


@pytest.fixture
def message_store(pg_engine: Engine, pg_settings: Settings) -> Iterator[Settings]:
    """Store KM with 5 of A and an order of 1 A reserved there, committed: its `reserved` message due."""
    with committed_store(pg_engine, "KM", {"A": 5}):
        reserved_order(pg_engine, "KM", {"A": 1}, key="killed-sender")
        yield pg_settings


def _row(engine: Engine) -> tuple[str, int, str]:
    with engine.connect() as connection:
        status, attempts, message_id = connection.execute(
            text("SELECT status, attempts, message_id FROM shopper_message WHERE type = 'reserved'")
        ).one()
    return str(status), int(attempts), str(message_id)


def test_a_worker_killed_mid_send_sends_the_message_again_with_the_same_message_id(
    message_store: Settings, pg_engine: Engine, tmp_path: Path
) -> None:
    with SmtpServer() as smtp:
        smtp.mailbox.hold = threading.Event()
        with running_service(
            message_store,
            tmp_path,
            serve=False,
            worker_concurrency=1,
            beat=True,
            extra_settings={"smtp_url": smtp.url},
        ) as service:
            assert smtp.mailbox.holding.wait(60), "the worker never reached the mail server"
            service.kill_workers()
            smtp.mailbox.hold.set()  # the server answers a worker that is gone
            (first,) = smtp.mailbox.messages()
            status, attempts, message_id = _row(pg_engine)
            assert (status, attempts) == ("queued", 0)  # the send was never recorded

            with pg_engine.begin() as connection:  # the lease runs out
                connection.execute(
                    text("UPDATE shopper_message SET next_attempt_at = :now WHERE type = 'reserved'"),
                    {"now": utcnow()},
                )
            service.start_workers()
            wait_until(lambda: _row(pg_engine)[0] == "sent", timeout=90, what="the message sent again")
            time.sleep(35)  # past another sweep of beat: nothing sends it a third time
            copies = smtp.mailbox.messages()
    assert len(copies) == 2
    assert {str(copy["Message-ID"]).strip() for copy in copies} == {message_id}
    assert str(first["Message-ID"]).strip() == message_id
    assert _row(pg_engine) == ("sent", 1, message_id)
