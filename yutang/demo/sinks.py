"""Local sinks the demo's messaging adapters send to: an HTTP SMS provider / webhook receiver and an SMTP server.

Both listen on loopback ports picked at start, for as long as the demo process runs; they keep what they receive.
"""

import asyncio
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SMS_API_KEY = "demo-sms-" + "k" * 16
# Numbers ending in these digits are on the fake provider's blacklist, so the demo shows a failed delivery too.
BLACKLISTED_ENDINGS = ("13",)


@dataclass
class Sinks:
    """Where the sinks listen and what they received (counts by kind: sms, webhook, email)."""

    http_url: str = ""
    smtp_port: int = 0
    received: Counter = field(default_factory=Counter)

    @property
    def sms_url(self) -> str:
        return f"{self.http_url}/sms/send"

    @property
    def webhook_url(self) -> str:
        return f"{self.http_url}/hook"


def _http_app(sinks: Sinks) -> Starlette:
    async def sms(request: Request):
        if request.headers.get("authorization") != f"Bearer {SMS_API_KEY}":
            return JSONResponse({"code": "UNAUTHORIZED", "message": "bad api key"}, status_code=401)
        body = await request.json()
        if str(body.get("to", "")).endswith(BLACKLISTED_ENDINGS):
            return JSONResponse({"code": "BLACKLISTED", "message": "the number refused messages"})
        sinks.received["sms"] += 1
        return JSONResponse({"code": "OK", "message_id": "sms-" + secrets.token_hex(6)})

    async def hook(request: Request):
        await request.body()
        sinks.received["webhook"] += 1
        return Response("ok")

    return Starlette(routes=[Route("/sms/send", sms, methods=["POST"]), Route("/hook", hook, methods=["POST"])])


class _SmtpSession:
    """Just enough SMTP (RFC 5321) for smtplib: greet, take the envelope and the data, accept it."""

    def __init__(self, sinks: Sinks):
        self.sinks = sinks

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 yutang-demo ESMTP\r\n")
        try:
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-yutang-demo\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 end with <CRLF>.<CRLF>\r\n")
                    await writer.drain()
                    while await reader.readline() not in (b".\r\n", b".\n", b""):
                        pass
                    self.sinks.received["email"] += 1
                    writer.write(b"250 accepted\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    writer.write(b"250 OK\r\n")
                else:
                    writer.write(b"502 not implemented\r\n")
                await writer.drain()
        finally:
            writer.close()


@contextmanager
def running() -> Iterator[Sinks]:
    """Start both sinks on loopback ports for the with-block."""
    sinks = Sinks()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers in one segment: no delayed-ACK stall
    sock.bind(("127.0.0.1", 0))  # bound here, so no one takes the port before uvicorn listens
    server = uvicorn.Server(uvicorn.Config(_http_app(sinks), log_level="warning", lifespan="off"))
    http_thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="yutang-demo-http-sink",
                                   daemon=True)
    http_thread.start()
    loop = asyncio.new_event_loop()
    smtp_thread = threading.Thread(target=loop.run_forever, name="yutang-demo-smtp-sink", daemon=True)
    smtp_thread.start()
    # Started on the sink's own loop: the calling thread may be running an event loop of its own.
    smtp = asyncio.run_coroutine_threadsafe(asyncio.start_server(_SmtpSession(sinks), "127.0.0.1", 0),
                                            loop).result(timeout=20)
    deadline = time.monotonic() + 20
    while not server.started:
        if not http_thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the demo's HTTP sink did not start")
        time.sleep(0.02)
    sinks.http_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sinks.smtp_port = smtp.sockets[0].getsockname()[1]
    try:
        yield sinks
    finally:
        server.should_exit = True
        http_thread.join(timeout=10)
        sock.close()
        loop.call_soon_threadsafe(smtp.close)
        loop.call_soon_threadsafe(loop.stop)
        smtp_thread.join(timeout=10)
        loop.close()
