"""Helpers for the Moka tests: a sandbox served on a real port (also as the `moka` fixture; this
module is a pytest plugin), the OAuth dance a merchant does in the browser, and a webhook receiver
that verifies signatures."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask, Response, request

from clients.moka import InMemoryTokenStore, MokaClient, RetryPolicy
from domain.moka_webhooks import verify_webhook_signature
from sandbox.moka import MokaSandbox, Settings, WebhookPolicy, create_app
from sandbox.serving import RunningServer, serve_in_thread

CLIENT_ID = "sandbox-moka-client"
CLIENT_SECRET = "sandbox-moka-secret"
WEBHOOK_SECRET = "sandbox-webhook-secret"
REDIRECT_URI = "http://127.0.0.1:9/moka/callback"
SMALL_OUTLET = {
    "products": 40,
    "customers": 12,
    "days": 4,
    "transactions_per_day": 25,
    "start_date": "2024-05-01",
}
# The kind reading of every unknown the sandbox defaults pessimistically on (reference §15): tests
# that matter run under both `Settings()` and this.
OPTIMISTIC = Settings(
    refunds_bump_sale_updated_at=True,
    next_url_keeps_filters=True,
    invoices_report_paging_hints=True,
    customers_max_per_page=1000,
)
READINGS = {"pessimistic": Settings(), "optimistic": OPTIMISTIC}
FAST_WEBHOOKS = WebhookPolicy(retry_delays=(0.05, 0.1, 0.1), timeout=2.0, reorder_hold=0.3)


@dataclass
class Moka:
    sandbox: MokaSandbox
    server: RunningServer

    @property
    def url(self) -> str:
        return self.server.url

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.url}/_sandbox{path}", timeout=10, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def seed(self, seed: int = 1, **options: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.control(
            "POST", "/seed", json={"seed": seed, **SMALL_OUTLET, **options}
        )
        return result


@pytest.fixture(scope="module")
def served_moka() -> Iterator[Moka]:
    # One server per module: stopping one costs half a second.
    with running_moka() as running:
        yield running


@pytest.fixture
def moka(served_moka: Moka) -> Moka:
    """The module's Moka sandbox, reset for each test."""
    served_moka.sandbox.reset()
    return served_moka


@contextmanager
def running_moka(
    settings: Settings | None = None, policy: WebhookPolicy | None = None
) -> Iterator[Moka]:
    sandbox = MokaSandbox(settings=settings, webhook_policy=policy or FAST_WEBHOOKS, seed=1)
    server = serve_in_thread(create_app(sandbox))
    try:
        yield Moka(sandbox, server)
    finally:
        server.stop()


def authorize(
    moka_url: str,
    email: str,
    password: str,
    *,
    state: str | None = "xyz",
    scope: str | None = None,
    redirect_uri: str = REDIRECT_URI,
) -> dict[str, list[str]]:
    """Open the authorize page, post its form with Allow, return the redirect's query."""
    params = {"client_id": CLIENT_ID, "redirect_uri": redirect_uri, "response_type": "code"}
    if state:
        params["state"] = state
    if scope:
        params["scope"] = scope
    page = requests.get(f"{moka_url}/oauth/authorize", params=params, timeout=10)
    assert page.status_code == 200
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    assert 'name="email"' in page.text and 'name="password"' in page.text and "Allow" in page.text
    answer = requests.post(
        f"{moka_url}/oauth/authorize",
        timeout=10,
        allow_redirects=False,
        data={**form, "email": email, "password": password, "decision": "allow"},
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(redirect_uri)
    return parse_qs(urlsplit(location).query)


def moka_client(moka_url: str, store: Any = None, **options: Any) -> MokaClient:
    options.setdefault("retry", RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05))
    return MokaClient(moka_url, CLIENT_ID, CLIENT_SECRET, store or InMemoryTokenStore(), **options)


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]
    signature_ok: bool

    @property
    def key(self) -> str:
        return self.headers.get("X-Go-Idempotency-Key", "")


HOLD_LIMIT = 30.0


def _set_event() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


@dataclass
class Receiver:
    """A webhook endpoint that records every delivery and answers `statuses` in turn (then 200).

    While `answering` is clear, a delivery waits (up to `HOLD_LIMIT` seconds) before it is
    recorded and answered: a receiver slower than anything the test does meanwhile."""

    secret: str = WEBHOOK_SECRET
    statuses: list[int] = field(default_factory=list)
    answering: threading.Event = field(default_factory=_set_event)
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("receiver")

        @app.post("/hooks")
        def hooks() -> Response:
            raw = request.get_data()
            ok = verify_webhook_signature(raw, request.headers.get("X-Go-Signature"), self.secret)
            self.answering.wait(HOLD_LIMIT)
            with self.lock:
                self.deliveries.append(Delivery(raw, dict(request.headers), ok))
                status = self.statuses.pop(0) if self.statuses else 200
            return Response("", status)

        return app

    def reset(self) -> None:
        with self.lock:
            self.deliveries.clear()
            self.statuses.clear()
            self.answering.set()

    def names(self) -> list[str]:
        return [json.loads(d.body)["header"]["event_name"] for d in self.deliveries]


@contextmanager
def receiving(receiver: Receiver) -> Iterator[str]:
    server = serve_in_thread(receiver.app())
    try:
        yield f"{server.url}/hooks"
    finally:
        server.stop()
