"""Real servers for the delivery paths: an SMTP server (aiosmtpd) and an SMS gateway (http.server),
both on 127.0.0.1 with a free port, recording what they receive and answering as a test plans."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.reports.conftest import World, today, world

__all__ = ["World", "today", "world"]

GATEWAY_TOKEN = "gateway-token-for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- SMTP ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Message] = dataclasses.field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = dataclasses.field(default_factory=list)
    # Replies to give to DATA, in order ("451 ..." or "554 ..."); when empty the message is accepted.
    data_replies: list[str] = dataclasses.field(default_factory=list)
    # Recipients refused at RCPT with this reply.
    refused: dict[str, str] = dataclasses.field(default_factory=dict)
    data_attempts: int = 0

    def by_recipient(self, address: str) -> list[Message]:
        return [message for message in self.messages if address in message["To"]]


class _Recorder:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.server.refused:
            return self.server.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.server.data_attempts += 1
        if self.server.data_replies:
            return self.server.data_replies.pop(0)
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.server.messages.append(message_from_bytes(content, policy=default_policy))
        self.server.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(host="127.0.0.1", port=free_port())
    controller = Controller(_Recorder(server), hostname=server.host, port=server.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield server
    finally:
        controller.stop()


# --- SMS gateway -----------------------------------------------------------------------------------------


@dataclasses.dataclass
class SmsGateway:
    url: str
    requests: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # HTTP statuses to answer, in order; 200 once the plan is used up.
    plan: list[int] = dataclasses.field(default_factory=list)
    # Seconds to wait before answering (a slow gateway, or a wider window for races).
    delay: float = 0.0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [request["json"] for request in self.requests]

    def next_status(self, request: dict[str, Any]) -> int:
        with self.lock:
            self.requests.append(request)
            return self.plan.pop(0) if self.plan else 200


class _GatewayHandler(BaseHTTPRequestHandler):
    server: _GatewayServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        gateway = self.server.gateway
        status = gateway.next_status(
            {"path": self.path, "headers": dict(self.headers.items()), "json": json.loads(raw or b"{}")}
        )
        if gateway.delay:
            time.sleep(gateway.delay)
        answer = json.dumps({"ok": status < 300}).encode()
        try:
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout test)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    gateway: SmsGateway


@pytest.fixture
def sms_gateway(settings: Any) -> Iterator[SmsGateway]:
    server = _GatewayServer(("127.0.0.1", 0), _GatewayHandler)
    host, port = server.server_address[:2]
    gateway = SmsGateway(url=f"http://{host!s}:{port}/v1/messages")
    server.gateway = gateway
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_TOKEN = GATEWAY_TOKEN
    settings.SMS_GATEWAY_TIMEOUT = 5
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _quiet_sms(settings: Any, tmp_path: Any) -> None:
    """Tests that do not plan SMS delivery write it to a file instead of the terminal."""
    settings.SMS_BACKEND = "file"
    settings.DATA_DIR = tmp_path


@pytest.fixture(autouse=True)
def indonesian_by_default(indonesian_default: None) -> None:
    """Messages are written in the product's default language, Indonesian (the suite's settings use
    English source strings for everything else)."""
