"""The kernel's mail transport (`retail.mail`): the server URL, the settings that refuse a bad one, and the
MIME shape of a message (text and HTML alternatives, the HTML's images inline)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from retail import mail
from retail.settings import Settings


def test_the_server_url_names_host_port_tls_and_login() -> None:
    assert mail.parse_smtp_url("smtp://mailpit:1025") == mail.SmtpServer("mailpit", 1025, False, None, None)
    assert mail.parse_smtp_url("smtps://shop%40x.nl:p%3Ass@mail.x.nl:465") == mail.SmtpServer(
        "mail.x.nl", 465, True, "shop@x.nl", "p:ss"
    )
    assert mail.parse_smtp_url("smtps://mail.x.nl").port == 465
    assert mail.parse_smtp_url("smtp://mail.x.nl").port == 25
    with pytest.raises(ValueError, match="RETAIL_SMTP_URL"):
        mail.parse_smtp_url("http://mail.x.nl")


def test_the_settings_refuse_a_url_that_is_not_smtp() -> None:
    with pytest.raises(ValidationError, match="RETAIL_SMTP_URL"):
        Settings(smtp_url="mail.x.nl:25")
    assert Settings(smtp_url="smtp://mail.x.nl:25").smtp_url == "smtp://mail.x.nl:25"


def test_a_message_is_text_and_html_alternatives_with_its_images_inline() -> None:
    message = mail.build(
        mail.Mail(
            to="sanne@example.nl",
            subject="Je bestelling ligt klaar",
            text="Hallo",
            html='<p>Hallo</p><img src="cid:qr@w">',
            message_id="<e1.ready@winkelpunt.invalid>",
            language="nl",
            images=(mail.InlineImage(cid="qr@w", data=b"\x89PNG"),),
        )
    )
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    image = next(part for part in message.walk() if part.get_content_type() == "image/png")
    assert image["Content-ID"] == "<qr@w>"
    assert message["Message-ID"] == "<e1.ready@winkelpunt.invalid>"
    assert message["Content-Language"] == "nl"
