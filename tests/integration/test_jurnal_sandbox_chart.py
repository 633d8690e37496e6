"""The Jurnal sandbox as a real company has it (reference jurnal-api §6.1–§6.4): an English or an
Indonesian chart with the company's own default accounts, taxes that need both accounts, units made
through their endpoint, and names unique only on a company switched to strict."""

from __future__ import annotations

import pytest

from sandbox.jurnal import JurnalSandbox, create_app
from tests.jurnal_support import FakeClock, SignedClient, documented_invoice, tax_body


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock):
    return create_app(JurnalSandbox(clock=clock))  # Jurnal's documented limits


@pytest.fixture
def jurnal(app, clock: FakeClock) -> SignedClient:
    return SignedClient(app, clock=clock)


def english(app, clock: FakeClock, **options) -> SignedClient:
    created = app.test_client().post(
        "/_sandbox/companies",
        json={"name": "Prima FnB", "package": "Enterprise", "client_id": "en",
              "client_secret": "en-secret", "chart": "en", **options},
    )  # fmt: skip
    assert created.status_code == 201, created.json
    return SignedClient(app, "en", "en-secret", clock=clock)


def test_an_english_company_has_the_documented_english_chart_and_defaults(app, clock):
    client = english(app, clock)
    accounts = {a["number"]: a["name"] for a in client.get("/accounts").json["accounts"]}
    assert accounts["1-10001"] == "Cash" and accounts["1-10002"] == "Bank Account"
    assert accounts["4-40000"] == "Service Revenue" and accounts["2-20500"] == "VAT Out"
    assert "Pendapatan" not in accounts.values() and "Kas" not in accounts.values()
    active = client.get("/companies/active").json
    defaults = active["default_accounts"]
    assert defaults["default_sale_account"]["name"] == "Service Revenue"
    assert defaults["default_sale_tax_account"]["name"] == "VAT Out"
    assert defaults["default_purchase_tax_account"]["name"] == "VAT In"
    assert active["company"]["language"]["name"] == "English"
    taxes = client.get("/taxes").json["company_taxes"]
    assert {t["sell_tax_account"]["name"] for t in taxes} <= {"VAT Out", "Local Tax Payable (PB1)"}
    units = [u["name"] for u in client.get("/product_units").json["product_units"]]
    assert "Pcs" not in units
    companies = app.test_client().get("/_sandbox/companies").json["companies"]
    assert [c["chart"] for c in companies] == ["id", "en"]


def test_an_unknown_chart_is_refused(app):
    answer = app.test_client().post(
        "/_sandbox/companies",
        json={"name": "X", "package": "Pro", "client_id": "x", "client_secret": "s",
              "chart": "fr"},
    )  # fmt: skip
    assert answer.status_code == 422 and "chart" in answer.json


def test_a_default_account_stays_the_default_when_the_company_renames_it(jurnal):
    sale = jurnal.get("/companies/active").json["default_accounts"]["default_sale_account"]
    renamed = jurnal.patch(f"/accounts/{sale['id']}", {"account": {"name": "Penjualan Kopi"}})
    assert renamed.status_code == 200
    again = jurnal.get("/companies/active").json["default_accounts"]["default_sale_account"]
    assert (again["id"], again["name"]) == (sale["id"], "Penjualan Kopi")
    product = jurnal.post("/products", {"product": {"name": "Teh"}}).json["product"]
    assert product["sell_account"]["name"] == "Penjualan Kopi"


# -- taxes ------------------------------------------------------------------------------------


def test_a_tax_is_created_only_with_both_accounts_unless_the_company_supplies_defaults(
    app, clock, jurnal
):
    refused = jurnal.post("/taxes", {"tax": {"name": "PPh 23", "rate": 2}})
    assert refused.status_code == 422
    assert refused.json["error_full_messages"] == [
        "Sell tax account can't be blank",
        "Buy tax account can't be blank",
    ]
    kind = english(app, clock, tax_account_defaults=True)
    made = kind.post("/taxes", {"tax": {"name": "PPh 23", "rate": 2}})
    assert made.status_code == 200
    assert made.json["company_tax"]["sell_tax_account"]["name"] == "VAT Out"


def test_a_tax_patch_needs_name_rate_and_both_accounts(jurnal):
    tax = jurnal.post("/taxes", {"tax": tax_body("PB1 Kota", 10, custom_id="pb1")}).json
    tax_id = tax["company_tax"]["id"]
    for partial in (
        {"rate": 11},
        {"name": "PB1 Kota", "rate": 11},
        {"name": "PB1 Kota", "rate": 11, "sell_tax_account_number": "2-20501"},
    ):
        refused = jurnal.patch(f"/taxes/{tax_id}", {"tax": partial})
        assert refused.status_code == 422, partial
        assert "Buy tax account can't be blank" in refused.json["error_full_messages"]
    assert jurnal.get("/taxes/pb1").json["company_tax"]["rate"] == "10.0"

    whole = {
        "name": "PB1 Kota",
        "rate": 11,
        "sell_tax_account_name": "hutang pajak daerah (pb1)",
        "buy_tax_account_number": "1-10500",
    }
    changed = jurnal.patch("/taxes/pb1", {"tax": whole})
    assert changed.status_code == 200, changed.json
    answer = changed.json["company_tax"]
    assert answer["rate"] == "11.0"
    assert answer["sell_tax_account"]["name"] == "Hutang Pajak Daerah (PB1)"
    assert answer["buy_tax_account"]["name"] == "PPN Masukan"


# -- names --------------------------------------------------------------------------------------


def test_master_data_names_may_repeat_and_an_id_tells_them_apart(jurnal):
    first = jurnal.post("/taxes", {"tax": tax_body("ppn10", 10)}).json["company_tax"]
    second = jurnal.post("/taxes", {"tax": tax_body("PPN10", 12)}).json["company_tax"]
    assert first["id"] != second["id"]
    assert jurnal.post("/tags", {"tag": {"name": "Jaksel"}}).status_code == 201
    assert jurnal.post("/tags", {"tag": {"name": "jaksel"}}).status_code == 201
    assert jurnal.post("/product_units", {"product_unit": {"name": "Pcs"}}).status_code == 200
    jurnal.post("/customers", {"customer": {"display_name": "Ahmad"}})
    jurnal.post("/products", {"product": {"name": "Penjualan"}})
    line = {"quantity": 1, "rate": 1000, "product_name": "Penjualan", "line_tax_id": second["id"]}
    invoice = jurnal.post(
        "/sales_invoices",
        {"sales_invoice": documented_invoice(transaction_lines_attributes=[line], deposit=0)},
    )
    assert invoice.status_code == 201, invoice.json
    taxed = invoice.json["sales_invoice"]["transaction_lines_attributes"][0]["line_tax"]
    assert (taxed["id"], taxed["rate"]) == (second["id"], "12.0")


def test_a_strict_company_refuses_a_taken_name(app, clock):
    strict = english(app, clock, strict_names=True)
    assert strict.post("/taxes", {"tax": tax_body("PPN", 11)}).status_code == 422
    assert strict.post("/product_units", {"product_unit": {"name": "unit"}}).status_code == 422
    assert strict.post("/product_units", {"product_unit": {"name": "Pcs"}}).status_code == 200
    loosened = app.test_client().patch("/_sandbox/companies/2", json={"strict_names": False})
    assert loosened.json["strict_names"] is False
    assert strict.post("/taxes", {"tax": tax_body("PPN", 11)}).status_code == 200


def test_the_standalone_sandbox_takes_its_chart_from_the_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_JURNAL_CHART", "en")
    app = create_app()
    active = SignedClient(app).get("/companies/active").json
    assert active["default_accounts"]["default_sale_account"]["name"] == "Service Revenue"
