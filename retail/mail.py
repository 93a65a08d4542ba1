"""The mail transport of every domain: a message (plain text, HTML, inline images) sent through the SMTP
server of `RETAIL_SMTP_URL`, or logged when none is set (the embedded default).

`smtp://HOST:PORT` talks plain SMTP and upgrades to TLS when the server offers STARTTLS;
`smtps://USER:PASSWORD@HOST:PORT` talks TLS from the first byte and logs in. Nothing here knows what a
message is about: a domain renders it and keeps its own record of what was sent (orders/messages/).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from retail.settings import get_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows by `cid:{cid}`."""

    cid: str
    data: bytes
    subtype: str = "png"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    # Stable per message: a resend of the same message carries the same id, so a receiver (or a test)
    # can tell a repeat from a second message.
    message_id: str
    language: str = "en"
    images: tuple[InlineImage, ...] = field(default=())


@dataclass(frozen=True)
class Failure:
    """Why a send failed; `permanent` when trying again cannot help (the server refused the recipient)."""

    reason: str
    permanent: bool = False


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool
    user: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://host:port` or `smtps://user:pass@host:port` (ValueError otherwise)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("RETAIL_SMTP_URL must be smtp://HOST:PORT or smtps://USER:PASSWORD@HOST:PORT")
    tls = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        tls=tls,
        user=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
    )


def sender_domain() -> str:
    """The domain of `RETAIL_MAIL_FROM`, for the `Message-ID`s of the messages it sends."""
    address = get_settings().mail_from.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] if "@" in address else "winkelpunt.invalid"


def build(mail: Mail) -> EmailMessage:
    """The MIME message: multipart/alternative of text and HTML, the HTML related to its inline images."""
    message = EmailMessage()
    message["From"] = get_settings().mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    for image in mail.images:
        html_part.add_related(image.data, maintype="image", subtype=image.subtype, cid=f"<{image.cid}>")
    # After the parts: setting the content clears the Content-* headers set before it.
    message["Content-Language"] = mail.language
    return message


def send(mail: Mail) -> Failure | None:
    """Send one message; None once the server accepted it, else why not. Without `RETAIL_SMTP_URL` the
    message is logged (and counts as handled). Never raises for what the server or network does."""
    settings = get_settings()
    message = build(mail)
    if settings.smtp_url is None:
        logger.info(
            "mail %s to %s: %s\n%s", mail.message_id, mail.to, mail.subject, mail.text, extra={"mail": True}
        )
        return None
    server = parse_smtp_url(settings.smtp_url)
    try:
        with _connect(server, settings.smtp_timeout_s) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        return Failure(f"recipient refused: {exc.recipients}"[:500], permanent=True)
    except smtplib.SMTPResponseException as exc:
        # 5xx: the server will not take this message; 4xx: it may later.
        return Failure(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:500], permanent=exc.smtp_code >= 500)
    except (OSError, smtplib.SMTPException) as exc:
        return Failure(f"{type(exc).__name__}: {exc}"[:500])
    return None


def _connect(server: SmtpServer, timeout: float) -> smtplib.SMTP:
    if server.tls:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host, server.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
    if server.user is not None:
        smtp.login(server.user, server.password or "")
    return smtp
