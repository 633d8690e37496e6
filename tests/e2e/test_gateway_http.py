"""The gateway on a real port: the Moka sandbox delivers signed webhooks to it (duplicated and
reordered on request) and each lands once in the setting's log; a streamed body without a
length is cut at the limit; the API works end to end over HTTP."""

from __future__ import annotations

import json
import time

import pytest
import requests

from domain.log import PaymentReceived
from gateway.app import create_app
from infra import bootstrap
from infra.api_tokens import issue_token
from infra.bootstrap import Container
from sandbox.serving import serve_in_thread
from tests.gateway_support import WEBHOOK_SECRET, customer, envelope, signed
from tests.moka_support import running_moka


@pytest.fixture
def stack(gateway_config):
    container = Container(gateway_config)
    bootstrap.install(container)
    server = serve_in_thread(create_app(container=container, test_config={"TESTING": True}))
    yield container, server.url
    server.stop()
    bootstrap.install(None)
    container.close()


@pytest.fixture
def moka():
    with running_moka() as running:
        yield running


def connect_outlet(container, seeded):
    """A company, its Moka connection and a setting of the seeded outlet."""
    company_id = container.log.register_company(
        name="PT Prima", jurnal_client_id="c", jurnal_client_secret="s", package="Enterprise"
    )
    outlet = str(seeded["outlet_ids"][0])
    connection_id = container.log.connect_moka(
        company_id=company_id,
        email=seeded["email"],
        business_id=seeded["business_id"],
        outlets={outlet: "Outlet"},
        access_token=seeded["access_token"],
        refresh_token=seeded["refresh_token"],
    )
    return container.log.create_setting(
        company_id=company_id,
        moka_connection_id=connection_id,
        outlet_id=outlet,
        name="Outlet",
        start_date="2024-05-01",
        default_customer="Pelanggan Umum",
        sales_account="4-40000",
        purchase_account="5-50000",
    )


def sell(moka, outlet_id):
    _, outlet = moka.sandbox.outlet(outlet_id)
    item = next(i for i in outlet.items.values() if not i["is_deleted"])
    payment = {"checkouts": [{"item_id": item["id"], "quantity": 1}]}
    return moka.control("POST", "/payments", json={"outlet_id": outlet_id, "payment": payment})[
        "id"
    ]


def test_duplicated_and_reordered_moka_deliveries_land_once_each(stack, moka):
    container, url = stack
    seeded = moka.seed(2)
    setting_id = connect_outlet(container, seeded)
    moka.control(
        "POST", "/faults", json={"duplicate_webhook_rate": 1.0, "reorder_webhook_rate": 1.0}
    )
    moka.control(
        "POST", "/subscriptions", json={"url": f"{url}/webhooks/moka", "secret": WEBHOOK_SECRET}
    )
    outlet_id = seeded["outlet_ids"][0]
    sold = {sell(moka, outlet_id) for _ in range(3)}
    assert moka.control("POST", "/webhooks/drain", json={"timeout": 10})["drained"] is True

    attempts = moka.control("GET", "/webhooks/deliveries")["attempts"]
    assert len(attempts) == 6 and all(a["delivered"] for a in attempts)
    payments = [e for e in container.log.read(setting_id) if isinstance(e, PaymentReceived)]
    assert {p.moka_id for p in payments} == sold and len(payments) == 3
    assert container.queue("postings").count == 1, "the wake-ups were coalesced"


def test_a_streamed_body_without_a_length_is_cut_at_the_limit(stack):
    _, url = stack
    document = json.dumps(envelope(customer())).encode()
    raw = document + b" " * (1024 * 1024 + 1 - len(document))

    def chunks(data):
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]

    hook = f"{url}/webhooks/moka"
    too_big = requests.post(hook, data=chunks(raw), headers=signed(raw), timeout=10)
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "too_large"
    fits = requests.post(hook, data=chunks(document), headers=signed(document), timeout=10)
    assert fits.status_code == 202 and fits.json()["outcome"] == "unrouted"


def test_a_one_byte_too_large_body_with_its_length_answers_413(stack):
    _, url = stack
    raw = b" " * (1024 * 1024 + 1)
    response = requests.post(f"{url}/webhooks/moka", data=raw, headers=signed(raw), timeout=10)
    assert response.status_code == 413


def test_the_api_over_http(stack):
    container, url = stack
    token = issue_token(container.log, admin=True).token
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    assert session.get(f"{url}/api/v1/companies", timeout=10).json() == {"companies": []}
    assert requests.get(f"{url}/api/v1/companies", timeout=10).status_code == 401
    assert requests.get(f"{url}/api/openapi.json", timeout=10).json()["openapi"] == "3.1.0"
    metrics = requests.get(f"{url}/metrics", timeout=10).text
    assert 'route="/api/v1/companies",method="GET",status="401"} 1' in metrics
    assert time.perf_counter() - started < 5
