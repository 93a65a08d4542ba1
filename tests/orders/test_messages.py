"""Messages to the shopper against a real SMTP server (aiosmtpd on a free port): each type arrives once,
in the order's language, with the ready message's QR code decodable; with no server set they are logged;
the order object lists them."""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from sqlmodel import Session, select

from inventory import service as inventory_service
from orders import responses
from orders import service as orders_service
from orders.messages import outbox
from orders.messages.models import MessageStatus, MessageType
from orders.models import Order, OrderStatus
from retail.clock import utcnow
from retail.settings import get_settings
from tests.factories import committed_store
from tests.orders.messages_scenario import (
    EXPECTED,
    Scenario,
    every_message_type,
    make_reminders_due,
    messages,
)
from tests.orders.smtp import SmtpServer

# One rendered example of each message type, as the shopper gets it (the README points here).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "messages"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server on a free port, the settings' mail server while the test runs."""
    with SmtpServer() as server:
        monkeypatch.setattr(get_settings(), "smtp_url", server.url)
        yield server


@pytest.fixture
def scenario(pg_engine: Engine) -> Iterator[Scenario]:
    with committed_store(pg_engine, "M1", {"A": 5, "B": 5, "C": 1}):
        yield every_message_type(pg_engine, "M1")


def _deliver(engine: Engine) -> int:
    outbox.derive_due(engine)
    return outbox.send_due(engine)


def _by_type(mail: list[EmailMessage]) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {}
    for message in mail:
        found.setdefault(str(message["Message-ID"]).split(".")[-2].split("@")[0], []).append(message)
    return found


def test_each_message_type_arrives_once_in_the_orders_language(
    pg_engine: Engine, scenario: Scenario, smtp: SmtpServer
) -> None:
    assert _deliver(pg_engine) == 13
    make_reminders_due(pg_engine)
    assert _deliver(pg_engine) == 1  # the short order's reminder; the others' orders are done: dropped
    assert _deliver(pg_engine) == 0  # nothing goes twice

    received = smtp.mailbox.messages()
    assert len(received) == 14
    assert len(set(smtp.mailbox.ids())) == 14
    rows = messages(pg_engine)
    for key, (locale, types) in EXPECTED.items():
        order_id = scenario.order_ids[key]
        sent = {row.type for row in rows if row.order_id == order_id and row.status == MessageStatus.sent}
        assert sent == types, key
        for row in rows:
            if row.order_id == order_id and row.status == MessageStatus.sent:
                (message,) = [m for m in received if str(m["Message-ID"]).strip() == row.message_id]
                assert message["Content-Language"] == locale, row.message_id
                assert message["To"] == "sanne@example.nl"
                assert message.get_body(preferencelist=("plain",)) is not None
                assert message.get_body(preferencelist=("html",)) is not None
    dropped = Counter(row.type for row in rows if row.status == MessageStatus.dropped)
    # The collected order's (the expired order's hold was over before its reminder's time: none).
    assert dropped == {MessageType.reminder: 1}
    assert len(rows) == 15

    by_type = _by_type(received)
    assert by_type["back_in_stock"][0]["Subject"] == "C is weer op voorraad bij Winkelpunt M1"
    assert by_type["back_in_stock"][0]["To"] == "wachter@example.nl"
    back = by_type["back_in_stock"][0].get_body(preferencelist=("plain",))
    assert back is not None
    assert inventory_service.alert_token(scenario.alert_event_id) in back.get_content()
    assert "http" not in back.get_content()  # no link
    subjects = {key: [str(m["Subject"]) for m in found] for key, found in by_type.items()}
    assert subjects["rejected"] == ["Your order at Winkelpunt M1 cannot go ahead"]
    assert subjects["expired"] == ["Je bestelling bij Winkelpunt M1 is niet opgehaald"]
    assert subjects["delayed"] == ["Your order at Winkelpunt M1 will be ready later"]
    assert subjects["collected"] == ["Je bon van Winkelpunt M1"]
    assert subjects["partially_ready"] == ["Your order is ready at Winkelpunt M1, but not all of it"]


def test_the_ready_message_carries_a_decodable_qr_code_and_the_short_code(
    pg_engine: Engine, scenario: Scenario, smtp: SmtpServer
) -> None:
    _deliver(pg_engine)
    (row,) = [
        row
        for row in messages(pg_engine)
        if row.order_id == scenario.order_ids["collected"] and row.type == MessageType.ready
    ]
    (ready,) = [m for m in smtp.mailbox.messages() if str(m["Message-ID"]).strip() == row.message_id]
    with Session(pg_engine) as session:
        order = session.exec(select(Order).where(Order.order_id == scenario.order_ids["collected"])).one()
        order.status = OrderStatus.ready_for_pickup  # the codes of the order as it was when the message went
        issued = orders_service.pickup_of(order)
    assert issued is not None
    html = ready.get_body(preferencelist=("html",))
    assert html is not None
    images = [part for part in ready.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = str(images[0]["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(images[0].get_content())))
    assert [result.text for result in decoded] == [issued.token]
    text = ready.get_body(preferencelist=("plain",))
    assert text is not None
    assert issued.short_code in text.get_content()
    assert "Open tot dan:" in text.get_content()


@pytest.mark.parametrize("database", ["pg_engine", "sqlite_engine"])
def test_without_a_mail_server_messages_are_logged(
    database: str,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The embedded default (SQLite, no mail server) logs each message once, as PostgreSQL does."""
    engine: Engine = request.getfixturevalue(database)
    monkeypatch.setattr(get_settings(), "smtp_url", None)
    with committed_store(engine, "M1", {"A": 5, "B": 5, "C": 1}):
        every_message_type(engine, "M1")
        with caplog.at_level("INFO", logger="retail.mail"):
            assert _deliver(engine) == 13
            assert _deliver(engine) == 0
        rows = messages(engine)
    assert sum(record.getMessage().startswith("mail <") for record in caplog.records) == 13
    assert Counter(row.status for row in rows) == {
        MessageStatus.logged: 13,
        MessageStatus.queued: 2,  # the reminders, not due yet
    }


def test_the_order_object_lists_its_messages(
    pg_engine: Engine, scenario: Scenario, smtp: SmtpServer, committed_client: TestClient
) -> None:
    _deliver(pg_engine)
    with Session(pg_engine) as session:
        order = session.exec(select(Order).where(Order.order_id == scenario.order_ids["short"])).one()
        record = orders_service.order_record(session, order=order)
    listed = responses.order_out(record).model_dump(mode="json")["messages"]
    assert [(m["type"], m["status"]) for m in listed] == [
        ("reserved", "sent"),
        ("partially_ready", "sent"),
        ("reminder", "queued"),
    ]
    assert all(m["at"] is not None for m in listed)


def test_one_rendered_example_of_each_type_is_written_to_the_artifacts(
    pg_engine: Engine, scenario: Scenario, smtp: SmtpServer
) -> None:
    _deliver(pg_engine)
    make_reminders_due(pg_engine)
    _deliver(pg_engine)
    by_type = _by_type(smtp.mailbox.messages())
    assert set(by_type) == {type_.value for type_ in MessageType}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for type_, found in sorted(by_type.items()):
        message = found[0]
        name = f"{type_}.{message['Content-Language']}"
        text, html = message.get_body(preferencelist=("plain",)), message.get_body(preferencelist=("html",))
        assert text is not None
        assert html is not None
        page = html.get_content()
        # In a browser there is no message to resolve `cid:` in: the inline image goes in as a data URI.
        for part in message.walk():
            if part.get_content_maintype() == "image":
                cid = str(part["Content-ID"]).strip("<>")
                data = base64.b64encode(part.get_content()).decode()
                page = page.replace(f"cid:{cid}", f"data:{part.get_content_type()};base64,{data}")
        (ARTIFACTS / f"{name}.txt").write_text(f"Subject: {message['Subject']}\n\n{text.get_content()}")
        (ARTIFACTS / f"{name}.html").write_text(page)
        (ARTIFACTS / f"{name}.eml").write_bytes(message.as_bytes())
        assert "cid:" not in page
    assert len(list(ARTIFACTS.glob("*.eml"))) >= len(MessageType)


def test_a_refused_recipient_fails_for_good_and_is_not_tried_again(
    pg_engine: Engine, scenario: Scenario, smtp: SmtpServer
) -> None:
    smtp.mailbox.refuse = {"sanne@example.nl"}
    assert _deliver(pg_engine) == 1  # the stock alert's, to another address
    rows = [row for row in messages(pg_engine) if row.status != MessageStatus.queued]
    assert Counter(row.status for row in rows) == {MessageStatus.failed: 12, MessageStatus.sent: 1}
    assert {row.attempts for row in rows} == {1}
    assert all("recipient refused" in (row.last_error or "") for row in rows if row.status == "failed")
    make_reminders_due(pg_engine)
    smtp.mailbox.refuse = set()
    _deliver(pg_engine)  # the reminder goes (it was never tried); the failed ones are not tried again
    assert len(smtp.mailbox.messages()) == 2
    assert sum(row.attempts for row in messages(pg_engine)) == 14


def test_a_round_past_its_time_budget_hands_the_rest_of_its_batch_back(
    pg_engine: Engine, scenario: Scenario, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "ROUND_BUDGET", timedelta(0))  # every send overruns it
    outbox.derive_due(pg_engine)
    assert outbox.send_due(pg_engine) == 1
    queued = [row for row in messages(pg_engine) if row.status == MessageStatus.queued]
    assert len(queued) == 14  # 12 handed back, due at once and never tried; the 2 reminders wait
    handed_back = [row for row in queued if row.type != MessageType.reminder]
    assert {row.attempts for row in handed_back} == {0}
    assert all(row.next_attempt_at <= utcnow() for row in handed_back)
    assert outbox.send_due(pg_engine) == 1  # the next round takes the next one
    assert len(smtp.mailbox.messages()) == 2
