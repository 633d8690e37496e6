"""Fixtures and helpers for the gateway tests: a container on SQLite and a real Redis, the app's
test client, tokens, signed webhook deliveries, and companies, connections and settings made
straight through the event log (tests about the Moka and Jurnal round trips use the sandboxes).

`tests/conftest.py` loads this module as a pytest plugin, so its fixtures are everywhere.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from flask import Flask
from flask.testing import FlaskClient

from domain.log import RunKind, RunMethod, RunStatus
from domain.moka_webhooks import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign_webhook_body
from gateway.app import create_app
from infra import bootstrap
from infra.api_tokens import issue_token
from infra.bootstrap import Container
from infra.config import Config
from infra.jsonlog import JsonFormatter
from sandbox.jurnal import JurnalSandbox
from sandbox.jurnal import create_app as jurnal_app
from sandbox.serving import serve_in_thread

WEBHOOK_SECRET = "gateway-test-webhook-secret"
JURNAL_SECRET = "jurnal-secret-PLAINTEXT-must-never-leak"
ACCESS_TOKEN = "moka-access-PLAINTEXT-must-never-leak"
REFRESH_TOKEN = "moka-refresh-PLAINTEXT-must-never-leak"
SECRETS = (WEBHOOK_SECRET, JURNAL_SECRET, ACCESS_TOKEN, REFRESH_TOKEN)
OUTLET = "4522"


@pytest.fixture
def gateway_config(tmp_path: Path, redis_url: str) -> Config:
    """SQLite only: the store's behaviour is the event log's tests' business; both stores would
    only double these tests' time."""
    return Config.from_env(
        {
            "SAMBUNG_DATA_DIR": str(tmp_path / "var"),
            "REDIS_URL": redis_url,
            "SAMBUNG_SECRET_KEY": "gateway-test-secret-key",
            "MOKA_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "MOKA_CLIENT_ID": "sandbox-moka-client",
            "MOKA_CLIENT_SECRET": "sandbox-moka-secret",
            "SAMBUNG_PUBLIC_URL": "http://sambung.test",
        }
    )


@pytest.fixture
def gateway_container(gateway_config: Config) -> Iterator[Container]:
    built = Container(gateway_config)
    bootstrap.install(built)
    yield built
    bootstrap.install(None)
    built.close()


@pytest.fixture
def app(gateway_container: Container) -> Flask:
    return create_app(container=gateway_container, test_config={"TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin(gateway_container: Container) -> dict[str, str]:
    """Headers carrying an operator's token."""
    issued = issue_token(gateway_container.log, admin=True)
    return {"Authorization": f"Bearer {issued.token}"}


def token_for(container: Container, company_id: UUID) -> dict[str, str]:
    issued = issue_token(container.log, company_id=company_id)
    return {"Authorization": f"Bearer {issued.token}"}


# -- the log, directly ------------------------------------------------------------------------


@dataclass
class Tenant:
    """A company with a Moka connection, a setting of OUTLET and a token of its own."""

    company_id: UUID
    connection_id: UUID
    setting_id: UUID
    headers: dict[str, str]


def make_company(container: Container, name: str = "PT Prima FnB", **options: Any) -> UUID:
    return container.log.register_company(
        name=name,
        jurnal_client_id=f"client-{name}",
        jurnal_client_secret=JURNAL_SECRET,
        package=options.pop("package", "Enterprise"),
        **options,
    )


def make_connection(container: Container, company_id: UUID, business_id: int = 9) -> UUID:
    return container.log.connect_moka(
        company_id=company_id,
        email="owner@example.com",
        business_id=business_id,
        outlets={OUTLET: "Jakarta Selatan", "4523": "Bandung"},
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
    )


def setting_company(
    container: Container, name: str = "PT Prima FnB", **options: Any
) -> tuple[UUID, UUID, dict[str, str]]:
    """A company with a Moka connection and a token: its id, the connection's id, the token's
    headers (what `post_setting` takes)."""
    company_id = make_company(container, name, **options)
    return company_id, make_connection(container, company_id), token_for(container, company_id)


@contextmanager
def served_jurnal(*more_companies: tuple[str, str]) -> Iterator[str]:
    """A Jurnal sandbox on the English chart with the companies `make_company` registers, "PT
    Prima FnB" and each (name, package) given; yields its URL."""
    sandbox = JurnalSandbox(
        client_id="client-PT Prima FnB", client_secret=JURNAL_SECRET, chart="en"
    )
    for name, package in more_companies:
        sandbox.add_company(name, package, f"client-{name}", JURNAL_SECRET, chart="en")
    server = serve_in_thread(jurnal_app(sandbox))
    try:
        yield server.url
    finally:
        server.stop()


def setting_fields(company_id: UUID, connection_id: UUID, **changes: Any) -> dict[str, Any]:
    return {
        "company_id": str(company_id),
        "moka_connection_id": str(connection_id),
        "outlet_id": OUTLET,
        "name": "Jakarta Selatan",
        "start_date": "2024-05-01",
        "default_customer": "Pelanggan Umum",
        "sales_account": "4-40000",
        "purchase_account": "5-50000",
        **changes,
    }


def post_setting(client: FlaskClient, company: tuple[UUID, UUID, dict[str, str]], **changes: Any):
    """POST a setting for `company` (its id, its Moka connection's id, its token's headers)."""
    company_id, connection_id, headers = company
    body = setting_fields(company_id, connection_id, **changes)
    return client.post("/api/v1/settings", json=body, headers=headers)


def make_tenant(container: Container, name: str = "PT Prima FnB", **setting: Any) -> Tenant:
    company_id = make_company(container, name)
    connection_id = make_connection(container, company_id)
    values = setting_fields(company_id, connection_id, **setting)
    values["company_id"], values["moka_connection_id"] = company_id, connection_id
    setting_id = container.log.create_setting(**values)
    return Tenant(company_id, connection_id, setting_id, token_for(container, company_id))


def finish_master_data(container: Container, setting_id: UUID) -> UUID:
    run = container.log.request_run(setting_id, RunKind.MASTER_DATA, RunMethod.MANUAL)
    container.log.finish_run(
        run.run_id,
        status=RunStatus.SUCCEEDED,
        counts={"products": {"synced": 3, "total": 3}, "customers": {"synced": 2, "total": 2}},
    )
    return run.run_id


# -- webhooks ---------------------------------------------------------------------------------


def customer(customer_id: int = 1950404, updated_at: str = "2024-05-02T10:15:29.789+07:00"):
    return {
        "id": customer_id,
        "email": "sdf@mail.com",
        "name": "San",
        "phone": "6281288",
        "business_id": 9,
        "outlet_id": int(OUTLET),
        "is_deleted": False,
        "created_at": "2024-05-02T10:15:29.789+07:00",
        "updated_at": updated_at,
    }


def envelope(
    body: dict[str, Any],
    event_name: str = "moka.customer.added",
    outlet_id: Any = OUTLET,
    event_id: str = "8f14e45f-ceea-4c6b-a7e5-3b2c1f0d9a61",
    **header: Any,
) -> dict[str, Any]:
    return {
        "header": {
            "event_id": event_id,
            "event_name": event_name,
            "timestamp": "2024-05-02T10:15:30.123+07:00",
            "outlet_id": outlet_id,
            "version": 1,
            **header,
        },
        "body": body,
    }


def signed(raw: bytes, secret: str = WEBHOOK_SECRET, key: str = "key-1") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign_webhook_body(raw, secret),
        IDEMPOTENCY_HEADER: key,
    }


def deliver(client: FlaskClient, document: Any) -> Any:
    raw = json.dumps(document).encode()
    return client.post("/webhooks/moka", data=raw, headers=signed(raw))


# -- logs -------------------------------------------------------------------------------------


def json_lines(records: list[logging.LogRecord]) -> list[str]:
    """The records as the production formatter writes them."""
    formatter = JsonFormatter()
    return [formatter.format(record) for record in records]
