"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Sink:
    """Accepts mail; addresses at bounce.example are refused with 550, at busy.example with 451."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@bounce.example"):
            return "550 5.1.1 mailbox unavailable"
        if address.endswith("@busy.example"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    def parsed(self, index: int = -1):
        """A received message as an email.message.EmailMessage."""
        return message_from_bytes(self.messages[index][2], policy=policy.default)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(sink: Sink | None = None, **kwargs) -> Iterator[tuple[Sink, int]]:
    """(sink, port) of an aiosmtpd server on 127.0.0.1 for the with-block."""
    sink = sink or Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()
