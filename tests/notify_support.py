"""A real SMTP server (aiosmtpd) and a real HTTP receiver on loopback ports, for the
notification tests; each records what it received and can refuse the first few deliveries."""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask, request
from rq import SimpleWorker

from infra.bootstrap import Container
from infra.queues import QUEUE_NAMES
from sandbox.serving import serve_in_thread

SMTP_USER, SMTP_PASSWORD = "sambung", "smtp-pass word"


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    refuse_next: int = 0  # answer 451 to this many deliveries first
    refused: int = 0
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.refused += 1
                return "451 4.3.0 try again later"
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int

    @property
    def url(self) -> str:
        return f"smtp://{SMTP_USER}:{SMTP_PASSWORD.replace(' ', '%20')}@127.0.0.1:{self.port}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


@contextmanager
def running_smtp(tls_context: ssl.SSLContext | None = None) -> Iterator[SmtpServer]:
    """With `tls_context`, the server offers STARTTLS and refuses mail and AUTH before it."""
    mailbox = Mailbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (SMTP_USER, SMTP_PASSWORD)
        if ok:
            mailbox.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=tls_context is not None,
        tls_context=tls_context,
        require_starttls=tls_context is not None,
    )
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed_certificate(directory: Path, dns_names: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and `dns_names`) and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                + [x509.DNSName(name) for name in dns_names]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    stem = "smtp" if not dns_names else dns_names[0]
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Receiver:
    url: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0  # answer 503 to this many calls first
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Flask("receiver")
    state = Receiver(url="")

    @app.post("/hook")
    def hook():  # type: ignore[no-untyped-def]
        with state.lock:
            if state.fail_next > 0:
                state.fail_next -= 1
                state.failed += 1
                return {"ok": False}, 503
            state.calls.append({"body": request.get_data(), "headers": dict(request.headers)})
        return {"ok": True}

    server = serve_in_thread(app)
    state.url = f"{server.url}/hook"
    try:
        yield state
    finally:
        server.stop()


class BurstWorker(SimpleWorker):
    """A worker without the command channel (kill/stop messages), which a burst in a test
    never gets: stopping that channel's listener can hang for up to a minute in redis-py."""

    def subscribe(self) -> None:
        pass


def burst(container: Container, *names: str) -> None:
    """Run the queued jobs (of `names`, default every queue) to the end, in this process."""
    queues = [container.queue(name) for name in names or QUEUE_NAMES]
    BurstWorker(queues, connection=container.redis).work(burst=True, with_scheduler=False)


@dataclass
class Recorder:
    """A bare HTTP(S) server on one loopback address that records every request it is sent and
    answers each with `status` (and `location`, for a redirect)."""

    address: str
    port: int
    status: int = 200
    location: str | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)  # the SNI of each handshake
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def recording(address: str, port: int = 0, tls: ssl.SSLContext | None = None) -> Iterator[Recorder]:
    """Serve on `address`:`port` (0: any free port) until the block ends."""
    recorder = Recorder(address, port)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            with recorder.lock:
                recorder.calls.append({"path": self.path, "headers": dict(self.headers),
                                       "body": self.rfile.read(length)})  # fmt: skip
            self.send_response(recorder.status)
            if recorder.location:
                self.send_header("Location", recorder.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((address, port), Handler)
    if tls is not None:
        tls.sni_callback = lambda sock, name, context: recorder.server_names.append(name)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    recorder.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"recorder-{address}", daemon=True)  # fmt: skip
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
