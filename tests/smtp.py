"""A real SMTP server for tests (aiosmtpd on a free loopback port) that catches every message
and can be told to misbehave: answer 451 for a while, refuse some recipients with 550, take its
time over each message, or keep a message and drop the connection before its 250 reply."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CatchingHandler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        # (MAIL FROM, RCPT TOs) of each accepted message, in the order of ``messages``.
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_rcpt: Callable[[str], str | None] = lambda address: None
        self.defer_until: float = 0.0
        self.defer_reply = "451 4.3.0 Try again later"
        # Seconds spent on each message before answering (a busy server).
        self.delay = 0.0
        # Keep the n-th message (1-based, counting every message kept) and cut the connection
        # instead of answering 250: the client cannot know that the message was kept.
        self.cut_after: set[int] = set()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if time.monotonic() < self.defer_until:
            return self.defer_reply
        refusal = self.refuse_rcpt(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append(parsed)
            self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
            cut = len(self.messages) in self.cut_after
        if cut and server.transport is not None:
            server.transport.close()
        return "250 Message accepted for delivery"


class SmtpSink:
    """``with SmtpSink() as smtp: ...`` — smtp.url is an EMAIL_URL for it."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = CatchingHandler()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, data_size_limit=10_000_000
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        with self.handler.lock:
            return list(self.handler.envelopes)

    def defer_for(self, seconds: float) -> None:
        self.handler.defer_until = time.monotonic() + seconds

    def refuse(self, predicate: Callable[[str], bool], reply: str) -> None:
        self.handler.refuse_rcpt = lambda address: reply if predicate(address) else None

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def smtp_settings(sink: SmtpSink) -> dict[str, Any]:
    """Django settings that send to this sink (for override_settings)."""
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": sink.port,
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10,
    }
