"""A real SMTP server for the tests of the messages: aiosmtpd on a free port of this machine, keeping what
it received as parsed messages. It can be stopped and started again on the same port (the mail server
down for a while), and can hold a message in DATA until told to go on (a worker killed mid-send)."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the server was given, in order; `hold` makes each DATA wait until it is set."""

    received: list[EmailMessage] = field(default_factory=list)
    hold: threading.Event | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Recipients the server refuses for good (550).
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append(parsed)
        if self.hold is not None:
            self.holding.set()
            while not self.hold.is_set():
                # The handler runs on the server's event loop; polling keeps that loop serving others.
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.received)

    def ids(self) -> list[str]:
        # A long id is folded onto a line of its own (RFC 5322 allows it): unfolded, it keeps the space.
        return [str(message["Message-ID"]).strip() for message in self.messages()]


class SmtpServer:
    """An aiosmtpd server on `port`; `stop` and `start` again model an outage."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        if self.mailbox.hold is not None:
            self.mailbox.hold.set()
        self.stop()
