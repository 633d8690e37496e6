"""Every official Moka example body (tests/fixtures/moka_examples), served over HTTP at its
path, read through the client's public methods: the shapes working clients must parse."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask, Response, request

from clients.moka import InMemoryTokenStore, MokaAuthError, MokaClient, TokenSet
from sandbox.serving import serve_in_thread

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "moka_examples"
LATEST_FILE = "outlets_reports_get_latest_transactions.200.json"
ROUTES = {
    "/v1/profile/self": "get_v1_profile_self.200.json",
    "/v1/businesses": "get_v1_businesses.200.json",
    "/v1/businesses/9/outlets": "get_v1_businesses_outlets.200.json",
    "/v1/businesses/9/customers": "get_v1_businesses_customers.200.json",
    "/v1/outlets/2239/items": "get_v1_outlets_items.200.json",
    "/v1/outlets/2239/categories": "get_v1_outlets_categories.200.json",
    "/v1/outlets/2239/modifiers": "get_v1_outlets_modifiers.200.json",
    "/v1/outlets/2239/discounts": "get_v1_outlets_discounts.200.json",
    "/v1/outlets/2239/taxes": "get_v1_outlets_taxes.200.json",
    "/v1/outlets/2239/gratuities": "get_v1_outlets_gratuities.200.json",
    "/v3/outlets/2239/reports/get_latest_transactions": f"get_v3_{LATEST_FILE}",
    "/v4/outlets/2239/reports/get_latest_transactions": f"get_v4_{LATEST_FILE}",
    "/v3/outlets/2239/reports/invoices": "get_v3_outlets_reports_invoices.200.json",
}
UNAUTHORIZED = "error_any_endpoint.401_invalid_token.json"


def examples_app(requests_seen: list[tuple[str, dict[str, str]]]) -> Flask:
    app = Flask("moka-examples")

    @app.post("/oauth/token")
    def token() -> Response:
        body = {
            "access_token": "c" * 64,
            "token_type": "bearer",
            "expires_in": 15552000,
            "refresh_token": "d" * 64,
            "scope": "profile",
            "created_at": 1543378499,
        }
        return Response(json.dumps(body), mimetype="application/json")

    @app.get("/<path:path>")
    def example(path: str) -> Response:
        requests_seen.append((request.path, dict(request.args)))
        if request.headers.get("Authorization") != "Bearer " + "a" * 64:
            return Response(
                (EXAMPLES / UNAUTHORIZED).read_bytes(), 401, mimetype="application/json"
            )
        name = ROUTES.get(request.path)
        if name is None:
            return Response("{}", 404, mimetype="application/json")
        return Response((EXAMPLES / name).read_bytes(), mimetype="application/json")

    return app


@pytest.fixture(scope="module")
def served():
    seen: list[tuple[str, dict[str, str]]] = []
    server = serve_in_thread(examples_app(seen))
    try:
        yield server.url, seen
    finally:
        server.stop()


@pytest.fixture
def client(served):
    url, seen = served
    seen.clear()
    tokens = TokenSet("a" * 64, "b" * 64, created_at=4_000_000_000, expires_in=15552000)
    return MokaClient(url, "id", "secret", InMemoryTokenStore(tokens), clock=lambda: 4_000_000_000)


def test_every_example_file_is_routed():
    assert set(ROUTES.values()) | {UNAUTHORIZED} == {p.name for p in EXAMPLES.glob("*.json")}


def test_profile_business_and_outlets(client):
    assert client.profile()["outlet_ids"] == [3571]
    assert client.business()["id"] == 9
    assert client.outlets(9)[0]["is_paying"] is True


def test_customers_come_without_totals_and_page_until_nothing_new_comes(client, served):
    customers = list(client.iter_customers(9))
    assert [c["name"] for c in customers] == ["San"]
    # A short page proves nothing (the server may cap per_page): page 2 is asked for, and since
    # this server answers every page alike, its nothing-new ends the walk.
    assert [path for path, _ in served[1]] == ["/v1/businesses/9/customers"] * 2
    assert [query["page"] for _, query in served[1]] == ["1", "2"]


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("items", "name", "Americano"),
        ("categories", "name", "Uncategorized"),
        ("modifiers", "name", "Modifer 2"),
        ("discounts", "type", "cash"),
        ("taxes", "amount", Decimal("12.0")),
        ("gratuities", "amount", Decimal("10.0")),
    ],
)
def test_every_library_list_reads_its_own_array_key(client, kind, field, value):
    rows = list(client.iter_library(2239, kind))
    assert rows[0][field] == value


def test_item_prices_are_decimal_and_options_are_nested(client):
    [item] = list(client.iter_items(2239))
    variant = item["item_variants"][0]
    assert variant["price"] == Decimal(5000) and isinstance(variant["price"], Decimal)
    assert variant["sales_type_items"][1]["sales_type_price"] == Decimal(6000)
    assert item["active_modifiers"][0]["modifier_options"][0]["price"] == Decimal(1500)


@pytest.mark.parametrize("version", [3, 4])
def test_latest_transactions_rebase_next_url_and_stop_when_it_repeats(client, served, version):
    payments = list(client.iter_latest_transactions(2239, since=0, version=version))
    assert [p["id"] for p in payments] == ["63428a08-86a8-4f64-915a-d2fd2c6e076a"]
    sale = payments[0]
    assert sale["total_collected"] == Decimal(92000) and sale["total_rounding_amount"] == -50
    assert sale["payment_refunds"][0]["refund_amount"] == Decimal(92000)
    assert sale["checkouts"][0]["modifiers"][0]["net_sales"] == Decimal("1643.75")
    first, second = served[1]
    # The example's next_url says /v1/ and embeds a token: the client asks our base URL, in the
    # requested version, with its Bearer header instead.
    assert second[0] == f"/v{version}/outlets/2239/reports/get_latest_transactions"
    assert "access_token" not in second[1] and second[1]["until"] == "1486361995.147691"
    assert first[1]["time_filter"] == "updated_at" and first[1]["reorder_type"] == "ASC"


def test_invoices_parse_with_their_rounding_quirk(client):
    [row] = list(client.iter_invoices(2239))
    assert row["invoice_status"] == "unpaid"
    assert row["subtotal"] + row["total_tax_amount"] + row["total_rounding_amount"] == 0


def test_the_401_example_becomes_an_auth_error_after_one_refresh(served):
    url, seen = served
    seen.clear()
    stale = TokenSet("x" * 64, "b" * 64, created_at=4_000_000_000, expires_in=15552000)
    store = InMemoryTokenStore(stale)
    client = MokaClient(url, "id", "secret", store, clock=lambda: 4_000_000_000)
    with pytest.raises(MokaAuthError) as failure:
        client.profile()
    assert failure.value.message == "The access token is invalid"
    assert failure.value.error_type == "Doorkeeper::OAuth::InvalidTokenResponse"
    assert store.load().access_token == "c" * 64 and len(seen) == 2
