"""Helpers shared by the Jurnal sandbox and client tests: a settable clock, a signed test
client for the sandbox app, and the documented example documents."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from werkzeug.test import TestResponse

from clients.jurnal.signing import authorization_header, sign
from sandbox.jurnal import API_PREFIX, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

# 2026-09-08 04:05:06 UTC, 11:05 in Jakarta.
EPOCH = 1788840306.0


@dataclass
class FakeClock:
    """A clock tests move by hand; as `sleep` it moves itself, so waiting costs no time."""

    now: float = EPOCH
    slept: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class SignedClient:
    """Speaks to a sandbox app through Flask's test client, signing like the real client.

    With `pace`, each request moves the (fake) clock on by that many seconds afterwards, as a
    client keeping to Jurnal's rate limits would spend them."""

    def __init__(
        self,
        app: Flask,
        client_id: str = DEFAULT_CLIENT_ID,
        secret: str = DEFAULT_CLIENT_SECRET,
        clock: Any = None,
        pace: float = 0.0,
    ) -> None:
        self.http = app.test_client()
        self.client_id = client_id
        self.secret = secret
        self.clock = clock
        self.pace = pace

    def open(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        target = API_PREFIX + path + (f"?{urlencode(query)}" if query else "")
        date = formatdate(self.clock() if self.clock else None, usegmt=True)
        signature = sign(self.secret, date, method, target)
        sent = {"Date": date, "Authorization": authorization_header(self.client_id, signature)}
        answer = self.http.open(
            target, method=method, json=body, headers={**sent, **(headers or {})}
        )
        if self.pace:
            self.clock.advance(self.pace)
        return answer

    def get(self, path: str, **query: Any) -> TestResponse:
        return self.open("GET", path, query=query or None)

    def post(self, path: str, body: Any) -> TestResponse:
        return self.open("POST", path, body)

    def patch(self, path: str, body: Any) -> TestResponse:
        return self.open("PATCH", path, body)

    def delete(self, path: str) -> TestResponse:
        return self.open("DELETE", path)


def documented_invoice(**changes: Any) -> dict[str, Any]:
    """The documented `POST /sales_invoices` request (§6.7), minus the warehouse and tag the
    sandbox would check."""
    invoice = {
        "transaction_date": "2017-05-20",
        "transaction_lines_attributes": [
            {
                "quantity": 1,
                "rate": 12000000,
                "discount": 10,
                "product_name": "Penjualan",
                "line_tax_name": "ppn10",
            }
        ],
        "shipping_date": "2017-05-20",
        "shipping_price": 0,
        "is_shipped": True,
        "term_name": "Cash on Delivery",
        "due_date": "2017-10-20",
        "deposit_to_name": "Kas",
        "deposit": 30000,
        "discount_unit": 10,
        "witholding_account_name": "Kas",
        "witholding_value": 10,
        "witholding_type": "percent",
        "discount_type_name": "percent",
        "person_name": "Ahmad",
        "transaction_no": "INV/01/10/2017",
        "custom_id": "invoice_currency",
        "use_tax_inclusive": False,
        "tax_after_discount": True,
    }
    invoice.update(changes)
    return invoice


def seed_documented_masters(client: SignedClient) -> None:
    """The customer, product and 10% tax the documented examples refer to."""
    assert (
        client.post(
            "/customers", {"customer": {"display_name": "Ahmad", "custom_id": "ahmad"}}
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/products",
            {"product": {"name": "Penjualan", "custom_id": "custom", "product_code": "PJ-1"}},
        ).status_code
        == 201
    )
    assert client.post("/taxes", {"tax": tax_body("ppn10", 10)}).status_code == 200


def tax_body(name: str, rate: object, **changes: Any) -> dict[str, Any]:
    """A tax with both of its accounts, by the default chart's numbers (§6.2, §6.3)."""
    return {
        "name": name,
        "rate": rate,
        "sell_tax_account_number": "2-20500",
        "buy_tax_account_number": "1-10500",
        **changes,
    }
