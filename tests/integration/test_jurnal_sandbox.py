"""The Jurnal sandbox against the reference's checklist (`reference/jurnal-api.md` §11), through
Flask's test client with real HMAC signatures. Faults that need a real socket (dropping a
committed answer, the race window) are covered with the client in test_jurnal_client.py."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from email.utils import formatdate

import pytest

from clients.jurnal.signing import authorization_header, sign
from sandbox.jurnal import JurnalSandbox, create_app, sandbox_of
from tests.jurnal_support import (
    FakeClock,
    SignedClient,
    documented_invoice,
    seed_documented_masters,
    tax_body,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> JurnalSandbox:
    return JurnalSandbox(clock=clock)  # Jurnal's documented limits


@pytest.fixture
def app(sandbox: JurnalSandbox):
    return create_app(sandbox)


@pytest.fixture
def jurnal(app, clock: FakeClock) -> SignedClient:
    return SignedClient(app, clock=clock)


@pytest.fixture
def seeded(jurnal: SignedClient) -> SignedClient:
    seed_documented_masters(jurnal)
    return jurnal


def add_company(app, clock, package: str, name: str = "Toko", **extra) -> SignedClient:
    body = {
        "name": name,
        "package": package,
        "client_id": f"id-{name}",
        "client_secret": "s3cret",
        **extra,
    }
    assert app.test_client().post("/_sandbox/companies", json=body).status_code == 201
    return SignedClient(app, f"id-{name}", "s3cret", clock=clock)


def create_invoice(client: SignedClient, **changes) -> dict:
    answer = client.post("/sales_invoices", {"sales_invoice": documented_invoice(**changes)})
    assert answer.status_code == 201, answer.json
    return answer.json["sales_invoice"]


# -- surface and auth -------------------------------------------------------------------------


def test_no_credentials_get_the_gateways_401(app):
    answer = app.test_client().get("/public/jurnal/api/v1/companies/active")
    assert answer.status_code == 401
    assert answer.json == {"message": "Unauthorized"}
    assert answer.headers["Server"] == "Mekari"
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.headers["X-Sandbox-Auth-Reason"] == "missing"


@pytest.mark.parametrize(
    ("client_id", "secret", "skew", "reason"),
    [
        ("sandbox-jurnal-client", "wrong-secret", 0, "bad-signature"),
        ("nobody", "sandbox-jurnal-secret", 0, "unknown-client"),
        ("sandbox-jurnal-client", "sandbox-jurnal-secret", 301, "stale-date"),
    ],
)
def test_bad_signatures_stale_dates_and_unknown_clients_get_401(
    app, clock, client_id, secret, skew, reason
):
    signer = SignedClient(app, client_id, secret, clock=lambda: clock() - skew)
    answer = signer.get("/companies/active")
    assert answer.status_code == 401
    assert answer.json == {"message": "Unauthorized"}
    assert answer.headers["X-Sandbox-Auth-Reason"] == reason


def test_the_signature_covers_the_query_string(app, clock):
    date = formatdate(clock(), usegmt=True)
    target = "/public/jurnal/api/v1/customers?page=1"
    signature = sign("sandbox-jurnal-secret", date, "GET", target)
    headers = {
        "Date": date,
        "Authorization": authorization_header("sandbox-jurnal-client", signature),
    }
    http = app.test_client()
    tampered = http.get(target.replace("page=1", "page=2"), headers=headers)
    assert tampered.status_code == 401
    assert tampered.headers["X-Sandbox-Auth-Reason"] == "bad-signature"
    assert http.get(target, headers=headers).status_code == 200


def test_a_bearer_token_is_the_oauth2_alternative(app, clock):
    add_company(app, clock, "Pro", name="Bearer", access_token="tok-1")
    http = app.test_client()
    answer = http.get(
        "/public/jurnal/api/v1/companies/active", headers={"Authorization": "Bearer tok-1"}
    )
    assert answer.status_code == 200
    assert answer.json["company"]["name"] == "Bearer"
    wrong = http.get(
        "/public/jurnal/api/v1/companies/active", headers={"Authorization": "Bearer tok-2"}
    )
    assert wrong.status_code == 401


def test_each_credential_sees_only_its_own_company(app, clock, jurnal):
    other = add_company(app, clock, "Basic", name="Lain")
    jurnal.post("/customers", {"customer": {"display_name": "Budi", "custom_id": "b"}})
    assert jurnal.get("/customers").json["total_count"] == 1
    assert other.get("/customers").json["total_count"] == 0
    assert other.get("/companies/active").json["company_package"] == "Basic"
    assert jurnal.get("/companies/active").json["company_package"] == "Enterprise"


def test_create_app_with_no_arguments_reads_the_credential_from_the_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_JURNAL_CLIENT_ID", "env-id")
    monkeypatch.setenv("SANDBOX_JURNAL_CLIENT_SECRET", "env-secret")
    app = create_app()
    answer = SignedClient(app, "env-id", "env-secret").get("/companies/active")
    assert answer.status_code == 200
    assert answer.json["feature"]["warehouse"] is True
    assert sandbox_of(app).default_company.plan == "enterprise"


def test_unrouted_paths_get_kongs_404(jurnal):
    answer = jurnal.get("/no_such_things")
    assert answer.status_code == 404
    assert answer.json == {"message": "no Route matched with those values"}


# -- the seeded company and envelopes ---------------------------------------------------------


def test_a_fresh_company_has_the_indonesian_chart_taxes_terms_and_methods(jurnal):
    accounts = {a["number"]: a for a in jurnal.get("/accounts").json["accounts"]}
    assert accounts["1-10001"]["name"] == "Kas"
    assert accounts["1-10001"]["category"] == "Cash & Bank"
    assert accounts["4-40000"]["name"] == "Pendapatan"
    taxes = jurnal.get("/taxes").json
    assert [(t["name"], t["rate"]) for t in taxes["company_taxes"]] == [
        ("PPN", "11.0"),
        ("PB1", "10.0"),
    ]
    terms = jurnal.get("/terms").json["terms"]
    assert [t["name"] for t in terms] == [
        "Cash on Delivery",
        "Net 15",
        "Net 30",
        "Net 60",
        "Custom",
    ]
    assert [t["is_default?"] for t in terms].index(True) == 2
    methods = jurnal.get("/payment_methods").json
    assert [m["name"] for m in methods["payment_methods"]] == [
        "Cash",
        "Check",
        "Bank Transfer",
        "Credit Card",
    ]
    assert "total_count" not in methods  # no paging fields on this list
    assert [u["name"] for u in jurnal.get("/product_units").json["product_units"]] == [
        "Buah",
        "Pcs",
    ]
    assert jurnal.get("/warehouses").json["total_count"] == 1
    active = jurnal.get("/companies/active").json
    assert active["default_accounts"]["default_account_receiveable"]["number"] == "1-10100"
    assert active["preferred_invoice_term"]["name"] == "Net 30"


def test_envelopes_follow_jurnals_exceptions(jurnal):
    tax = jurnal.post("/taxes", {"tax": tax_body("PPh 23", 2)})
    assert tax.status_code == 200 and tax.json["company_tax"]["rate"] == "2.0"
    unit = jurnal.post("/product_units", {"product_unit": {"name": "Kg", "custom_id": "kg"}})
    assert unit.status_code == 200 and unit.json["name"] == "Kg"  # bare
    method = jurnal.post("/payment_methods", {"payment_method": {"name": "QRIS"}})
    assert method.status_code == 200
    bare = jurnal.get(f"/payment_methods/{method.json['payment_method']['id']}").json
    assert bare["name"] == "QRIS"
    contact = jurnal.post("/contacts", {"person": {"display_name": "Elon Musk"}})
    assert contact.status_code == 201
    assert contact.json["restricted_user"] is False
    assert contact.json["person"]["display_name"] == "Elon Musk"
    tag = jurnal.post("/tags", {"tag": {"name": "Outlet A"}})
    assert tag.status_code == 201 and tag.json["tag"]["name"] == "Outlet A"


def test_lists_page_with_links_default_100_and_cap_200(app, clock):
    jurnal = SignedClient(app, clock=clock, pace=2.0)  # 30 a minute: Jurnal's limit
    for n in range(205):
        jurnal.post("/customers", {"customer": {"display_name": f"C{n}", "custom_id": f"c{n}"}})
    page = jurnal.get("/customers", page=2, page_size=2).json
    assert [c["display_name"] for c in page["customers"]] == ["C2", "C3"]
    assert (page["total_count"], page["current_page"], page["total_pages"]) == (205, 2, 103)
    assert page["links"]["prev_link"].endswith("/customers?page=1&page_size=2")
    assert page["links"]["next_link"].endswith("/customers?page=3&page_size=2")
    default = jurnal.get("/customers").json
    assert (len(default["customers"]), default["total_pages"]) == (100, 3)
    assert "prev_link" not in default["links"]
    capped = jurnal.get("/customers", page_size=500).json
    assert (len(capped["customers"]), capped["total_pages"]) == (200, 2)
    accounts = jurnal.get("/accounts", page_size=5, sort_key="number", sort_order="desc").json
    assert accounts["accounts"][0]["number"] == "8-80100"


def test_invoices_refuse_sorting_by_id_or_number(seeded):
    for key in ("id", "transaction_no"):
        answer = seeded.get("/sales_invoices", sort_key=key)
        assert answer.status_code == 422
    assert seeded.get("/sales_invoices", sort_key="created_at").status_code == 200


def test_documents_are_found_by_id_custom_id_or_invoice_number_and_missing_ones_are_422(seeded):
    invoice = create_invoice(seeded)
    for reference in (invoice["id"], "invoice_currency", "INV%2F01%2F10%2F2017"):
        assert (
            seeded.get(f"/sales_invoices/{reference}").json["sales_invoice"]["id"] == invoice["id"]
        )
    product = seeded.get("/products/custom").json["product"]
    assert product["name"] == "Penjualan"
    missing = seeded.get("/sales_invoices/nope")
    assert (missing.status_code, missing.json) == (422, {"errors": "Data not found."})
    # customers take the numeric id only
    assert seeded.get("/customers/ahmad").status_code == 422


# -- invoice arithmetic and validation --------------------------------------------------------


def test_the_documented_invoice_reproduces_every_number(seeded, clock):
    clock.now = time.mktime((2017, 10, 1, 12, 0, 0, 0, 0, 0))  # before the due date
    invoice = create_invoice(seeded)
    assert invoice["subtotal"] == "12000000.0"
    assert invoice["discount_per_lines"] == "1200000.0"
    assert invoice["discount_price"] == "1080000.0"
    assert invoice["tax_amount"] == "972000.0"
    assert invoice["original_amount"] == "10692000.0"
    assert invoice["original_amount_currency_format"] == "Rp.  10.692.000,00"
    assert invoice["witholding_amount"] == 972000
    assert invoice["amount_receive"] == "30000.0"
    assert invoice["remaining"] == "9690000.0"
    assert invoice["transaction_status"] == {
        "id": 4,
        "name": "Partial",
        "name_bahasa": "Terbayar Sebagian",
    }
    assert invoice["tax_details"] == [
        {
            "name": "ppn10 10.0%",
            "tax_amount": 972000,
            "tax_amount_currency_format": "Rp.  972.000,00",
        }
    ]
    assert invoice["transaction_lines_attributes"][0]["amount"] == "10800000.0"
    assert invoice["term"]["name"] == "Custom"  # due date does not fit Cash on Delivery
    assert invoice["transaction_date"] == "20/05/2017"
    assert invoice["discount_type"]["name"] == "Percent"
    assert len(invoice["payments"]) == 1 and invoice["has_payments"] is True
    assert invoice["payments"][0]["transaction_no"] == "10001"


def test_an_invoice_turns_overdue_once_its_due_date_passes(seeded, clock):
    clock.now = time.mktime((2017, 10, 19, 12, 0, 0, 0, 0, 0))
    invoice = create_invoice(seeded, deposit=0, deposit_to_name=None)
    assert invoice["transaction_status"]["name"] == "Open"
    clock.now = time.mktime((2017, 10, 22, 12, 0, 0, 0, 0, 0))
    again = seeded.get(f"/sales_invoices/{invoice['id']}").json["sales_invoice"]
    assert again["transaction_status"]["name"] == "Overdue"


def test_a_term_alone_sets_the_due_date_and_other_date_forms_are_read(seeded):
    invoice = create_invoice(
        seeded,
        transaction_date="20-05-2017",
        due_date=None,
        term_name="Net 15",
        custom_id="t2",
        transaction_no=None,
    )
    assert invoice["due_date"] == "04/06/2017"
    assert invoice["term"]["name"] == "Net 15"
    other = create_invoice(
        seeded, transaction_date="20/05/2017", custom_id="t3", transaction_no=None
    )
    assert other["transaction_date"] == "20/05/2017"
    assert int(other["transaction_no"]) >= 10001  # auto-numbered


def test_a_deposit_of_the_whole_total_pays_the_invoice(seeded):
    invoice = create_invoice(seeded, deposit="9720000", witholding_value=10)
    assert invoice["remaining"] == "0.0"
    assert invoice["transaction_status"]["name"] == "Paid"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"transaction_lines_attributes": [{"product_name": "Ghost", "rate": 1}]},
            "Product in transaction lines attributes on row 1 not available",
        ),
        (
            {
                "transaction_lines_attributes": [
                    {"product_name": "Penjualan", "rate": 1000, "discount": 10000}
                ]
            },
            "Discount cannot exceed the total item amount",
        ),
        (
            {"transaction_lines_attributes": [{"product_name": "Penjualan", "rate": 0}]},
            "Transaction lines amount (Must be greater than 0)",
        ),
        (
            {
                "transaction_lines_attributes": [
                    {"product_name": "Penjualan", "rate": 10, "line_tax_name": "VAT"}
                ]
            },
            "Line tax in transaction lines attributes on row 1 not available",
        ),
        ({"person_name": "Nobody"}, "Person Must be customer (not vendor)"),
        ({"discount_type_name": "fixed"}, "Discount type (Discount type must be Percent or Value)"),
        ({"discount_unit": 101}, "Discount unit (Discount cannot exceed 100%)"),
        ({"discount_unit": -1}, "Discount unit (Value must be greater than 0.)"),
        ({"memo": "enak 😋"}, "Memo may not contain emoji"),
        ({"address": "x" * 251}, "Address too long, (maximum of 250 characters)"),
        (
            {"deposit": 99999999},
            "Amount receive (Value received cannot be greater than remaining balance.)",
        ),
        ({"deposit_to_name": "Nope"}, "Deposit to (Account Nope not found)"),
        ({"tags": ["Unknown"]}, "Tags (Tag Unknown not found)"),
        ({"transaction_date": "2017/20/05"}, "Transaction date (Invalid date format)"),
    ],
)
def test_invalid_invoices_get_422_with_jurnals_messages(seeded, changes, message):
    answer = seeded.post("/sales_invoices", {"sales_invoice": documented_invoice(**changes)})
    assert answer.status_code == 422
    assert message in answer.json["error_full_messages"]
    assert answer.json["id"] is None


def test_field_errors_carry_their_field_key(seeded):
    line = {"product_name": "Penjualan", "rate": 0}
    answer = seeded.post(
        "/sales_invoices",
        {"sales_invoice": documented_invoice(transaction_lines_attributes=[line])},
    )
    assert answer.json["transaction_lines.amount"] == "(Must be greater than 0)"


def test_a_missing_root_is_refused(seeded):
    answer = seeded.post("/sales_invoices", {"invoice": {}})
    assert answer.status_code == 422
    assert (
        "param is missing or the value is empty: sales_invoice"
        in answer.json["error_full_messages"]
    )


def test_a_repeated_custom_id_gets_409_with_the_existing_id(seeded):
    first = create_invoice(seeded)
    again = seeded.post("/sales_invoices", {"sales_invoice": documented_invoice()})
    assert again.status_code == 409
    assert again.json["id"] == first["id"]
    assert again.json["custom_id"] == "(Custom id attribute had already been used.)"
    assert (
        "Custom (Custom id attribute had already been used.)" in again.json["error_full_messages"]
    )
    assert (
        "Transaction no (Transaction number had already been used)"
        in again.json["error_full_messages"]
    )
    only_number = seeded.post(
        "/sales_invoices", {"sales_invoice": documented_invoice(custom_id="fresh")}
    )
    assert only_number.status_code == 409 and "custom_id" not in only_number.json


def test_contacts_refuse_a_taken_display_name_but_customers_do_not(seeded):
    taken = seeded.post("/contacts", {"person": {"display_name": "ahmad"}})
    assert taken.status_code == 409
    assert taken.json["id"] == seeded.get("/customers").json["customers"][0]["id"]
    assert seeded.post("/customers", {"customer": {"display_name": "Ahmad"}}).status_code == 201


def test_batch_create_does_not_check_custom_ids(seeded):
    item = {"sales_invoice": documented_invoice(transaction_no=None)}
    answer = seeded.post("/sales_invoices/batch_create", {"sales_invoices": [item, item]})
    assert answer.status_code == 201
    assert [r["sales_invoice"]["status"] for r in answer.json["sales_invoices"]] == [201, 201]
    state = sandbox_of_client(seeded).state(with_custom_ids=True)
    assert state["companies"]["1"]["custom_ids"]["sales_invoices"]["invoice_currency"] == 2


def sandbox_of_client(client: SignedClient) -> JurnalSandbox:
    return sandbox_of(client.http.application)


# -- plan gating ------------------------------------------------------------------------------


def test_tags_need_pro_and_warehouses_need_enterprise(app, clock):
    basic = add_company(app, clock, "Basic", name="Kecil")
    seed_documented_masters(basic)
    assert basic.post("/tags", {"tag": {"name": "A"}}).status_code == 422
    refused = basic.post("/sales_invoices", {"sales_invoice": documented_invoice(tags=["A"])})
    assert (
        "Tags (Tags are only available on Jurnal Pro and Enterprise)"
        in refused.json["error_full_messages"]
    )
    pro = add_company(app, clock, "Trial Pro", name="Sedang")
    seed_documented_masters(pro)
    assert pro.post("/tags", {"tag": {"name": "A"}}).status_code == 201
    with_tag = pro.post("/sales_invoices", {"sales_invoice": documented_invoice(tags=["a"])})
    assert with_tag.status_code == 201 and with_tag.json["sales_invoice"]["tags_string"] == "A"
    warehouse = documented_invoice(
        custom_id="w", transaction_no=None, warehouse_name="Gudang Utama"
    )
    answer = pro.post("/sales_invoices", {"sales_invoice": warehouse})
    assert (
        "Warehouse (Warehouses are only available on Jurnal Enterprise)"
        in answer.json["error_full_messages"]
    )
    assert pro.post("/warehouses", {"warehouse": {"name": "G2"}}).status_code == 422


def test_a_company_set_to_ignore_loses_tags_silently(app, clock):
    basic = add_company(app, clock, "Basic", name="Diam", gating="ignore")
    seed_documented_masters(basic)
    answer = basic.post("/sales_invoices", {"sales_invoice": documented_invoice(tags=["A"])})
    assert answer.status_code == 201
    assert answer.json["sales_invoice"]["tags"] == []


def test_the_enterprise_default_company_puts_invoices_in_a_warehouse(seeded):
    invoice = create_invoice(seeded, warehouse_name="Gudang Utama", warehouse_code="GU-01")
    assert invoice["warehouse"]["code"] == "GU-01"


# -- payments and returns ---------------------------------------------------------------------


def pay(client: SignedClient, invoice_no: str, amount, **extra):
    body = {
        "transaction_date": "2017-06-01",
        "records_attributes": [{"transaction_no": invoice_no, "amount": amount}],
        "payment_method_name": "Cash",
        "deposit_to_name": "Kas",
        **extra,
    }
    return client.post("/receive_payments", {"receive_payment": body})


def test_receive_payments_lower_remaining_until_paid_and_refuse_overpaying(seeded):
    invoice = create_invoice(seeded)
    first = pay(seeded, invoice["transaction_no"], 5000000, custom_id="p1")
    assert first.status_code == 201
    assert first.json["receive_payment"]["total"] == 5000000
    after = seeded.get(f"/sales_invoices/{invoice['id']}").json["sales_invoice"]
    assert after["remaining"] == "4690000.0"
    assert after["payment_received_amount"] == "5000000.0"
    assert after["amount_receive"] == "5030000.0"
    over = pay(seeded, invoice["transaction_no"], "4690000.01")
    assert over.status_code == 422
    assert (
        "Amount receive (Value received cannot be greater than remaining balance.)"
        in over.json["error_full_messages"]
    )
    assert pay(seeded, invoice["transaction_no"], "4690000").status_code == 201
    paid = seeded.get(f"/sales_invoices/{invoice['id']}").json["sales_invoice"]
    assert paid["transaction_status"]["name"] == "Paid"
    assert len(paid["payments"]) == 3  # the deposit and two receive payments
    assert (
        len(
            seeded.get(f"/sales_invoices/{invoice['id']}/receive_payments").json["receive_payments"]
        )
        == 2
    )


def test_payment_withholding_comes_off_the_deposited_total(seeded):
    invoice = create_invoice(seeded, deposit=0, deposit_to_name=None, witholding_value=0)
    answer = pay(
        seeded,
        invoice["transaction_no"],
        500000,
        witholding_value=5,
        witholding_type="percent",
        witholding_account_name="Kas",
    )
    assert answer.json["receive_payment"]["witholding"]["amount"] == 25000
    assert answer.json["receive_payment"]["total"] == 475000


def test_payment_methods_are_checked_or_created_by_name(seeded):
    invoice = create_invoice(seeded)
    neither = pay(seeded, invoice["transaction_no"], 1, payment_method_name=None)
    assert neither.json["error_full_messages"] == [
        "Payment method must be sent",
        "Payment method name must be sent",
    ]
    created = pay(seeded, invoice["transaction_no"], 1, payment_method_name="GoPay")
    assert created.json["receive_payment"]["payment_method"]["name"] == "GoPay"
    assert any(m["name"] == "GoPay" for m in seeded.get("/payment_methods").json["payment_methods"])
    mismatch = pay(
        seeded,
        invoice["transaction_no"],
        1,
        payment_method_id=created.json["receive_payment"]["payment_method"]["id"],
        payment_method_name="Cash",
    )
    assert mismatch.status_code == 422


def test_the_documented_sales_return_gives_back_8748000(seeded):
    invoice = create_invoice(
        seeded,
        deposit=0,
        deposit_to_name=None,
        transaction_lines_attributes=[
            {"quantity": 100, "rate": 12000000, "discount": 10, "product_name": "Penjualan"}
        ],
    )
    line_id = invoice["transaction_lines_attributes"][0]["id"]
    body = {
        "transaction_date": "21-04-2018",
        "invoice_id": invoice["id"],
        "invoice_no": invoice["transaction_no"],
        "transaction_return_lines_attributes": [
            {"transaction_line_id": line_id, "product_name": "Penjualan", "return_quantity": 1}
        ],
        "memo": "note here",
    }
    answer = seeded.post("/sales_returns", {"sales_return": body})
    assert answer.status_code == 201, answer.json
    returned = answer.json["sales_return"]
    assert returned["return_amount"] == 8748000
    assert returned["discount_lines"] == 1200000
    assert returned["discount_whole"] == 1080000
    assert returned["returned_witholding_amount"] == 972000
    assert returned["returned_tax"] == 0
    assert returned["transaction_status"]["name"] == "Closed"
    assert returned["transaction_return_lines_attributes"][0]["line_return_amount"] == 10800000
    after = seeded.get(f"/sales_invoices/{invoice['id']}").json["sales_invoice"]
    before = Decimal(invoice["remaining"])
    assert Decimal(after["remaining"]) == before - 8748000
    assert after["transaction_lines_attributes"][0]["has_return_line"] is True
    assert after["sales_returns"][0]["id"] == returned["id"]


def test_returns_cannot_exceed_what_was_sold_and_excess_money_becomes_credit(seeded):
    invoice = create_invoice(seeded, deposit="9720000")  # paid in full
    line_id = invoice["transaction_lines_attributes"][0]["id"]

    def give_back(quantity):
        return seeded.post(
            "/sales_returns",
            {
                "sales_return": {
                    "invoice_id": invoice["id"],
                    "transaction_return_lines_attributes": [
                        {"transaction_line_id": line_id, "return_quantity": quantity}
                    ],
                }
            },
        )

    assert give_back(2).status_code == 422
    assert give_back(1).status_code == 201
    after = seeded.get(f"/sales_invoices/{invoice['id']}").json["sales_invoice"]
    assert after["remaining"] == "0.0"
    assert after["credit_memo_balance"] == "9720000.0"
    assert give_back(1).status_code == 422  # nothing left to return


def test_deleting_follows_the_documents_that_depend_on_each_other(seeded):
    invoice = create_invoice(seeded, deposit=0, deposit_to_name=None)
    payment = pay(seeded, invoice["transaction_no"], 1000).json["receive_payment"]
    refused = seeded.delete(f"/sales_invoices/{invoice['id']}")
    assert refused.status_code == 422
    assert seeded.delete(f"/receive_payments/{payment['id']}").status_code == 204
    restored = seeded.get(f"/sales_invoices/{invoice['id']}").json["sales_invoice"]
    assert restored["remaining"] == invoice["remaining"]
    assert seeded.delete("/customers/" + str(restored["person"]["id"])).status_code == 422
    assert seeded.delete(f"/sales_invoices/{invoice['id']}").status_code == 204
    assert seeded.get(f"/sales_invoices/{invoice['id']}").status_code == 422


def test_patch_keeps_the_number_and_changes_lines_by_id(seeded):
    invoice = create_invoice(seeded)
    line_id = invoice["transaction_lines_attributes"][0]["id"]
    answer = seeded.patch(
        f"/sales_invoices/{invoice['id']}",
        {
            "sales_invoice": {
                "memo": "ubah",
                "transaction_lines_attributes": [{"id": line_id, "quantity": 2}],
            }
        },
    )
    assert answer.status_code == 200
    changed = answer.json["sales_invoice"]
    assert changed["transaction_no"] == invoice["transaction_no"]
    assert changed["memo"] == "ubah"
    assert changed["subtotal"] == "24000000.0"
    assert [line["id"] for line in changed["transaction_lines_attributes"]] == [line_id]
    put = seeded.open(
        "PUT", "/customers/" + str(changed["person"]["id"]), {"customer": {"email": "a@b.id"}}
    )
    assert put.status_code == 200 and put.json["customer"]["email"] == "a@b.id"


# -- limits and faults ------------------------------------------------------------------------


def test_the_rate_limit_counts_per_credential_per_minute_without_retry_after(app, clock, jurnal):
    clock.now = 60.0 * 29481000  # a minute boundary
    http = app.test_client()
    http.post("/_sandbox/faults", json={"rate_limit_per_minute": 3})
    other = add_company(app, clock, "Pro", name="Lain")
    answers = [jurnal.get("/tags") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.json == {"message": "API rate limit exceeded"}
    assert limited.headers["X-RateLimit-Limit-Minute"] == "3"
    assert limited.headers["X-RateLimit-Remaining-Minute"] == "0"
    assert "Retry-After" not in limited.headers
    assert answers[0].headers["X-RateLimit-Remaining-Minute"] == "2"
    assert other.get("/tags").status_code == 200  # its own budget
    clock.advance(59)
    assert jurnal.get("/tags").status_code == 429
    clock.advance(1)  # the window resets on the minute
    assert jurnal.get("/tags").status_code == 200


def test_all_four_documented_limits_hold_by_default_in_a_compressed_window(clock):
    minute = 2.0  # JURNAL_RATE_WINDOW_SECONDS: Jurnal's minute, the hour sixty of them
    sandbox = JurnalSandbox(rate_window_seconds=minute, clock=clock)
    app = create_app(sandbox)
    assert sandbox.state()["limits"] == {
        "per_minute": 30, "per_hour": 1800, "ip_per_minute": 40, "ip_per_hour": 2500,
        "monthly": None, "rate_window_seconds": 2.0,
    }  # fmt: skip
    clock.now = 120.0 * 14906000  # an hour boundary, in compressed time
    first, second = SignedClient(app, clock=clock), add_company(app, clock, "Pro", name="Dua")

    def statuses(client: SignedClient, count: int) -> list[int]:
        return [client.get("/tags").status_code for _ in range(count)]

    # The credential's minute: 30, then 429; the other credential still has the IP's last ten.
    assert statuses(first, 31) == [200] * 30 + [429]
    assert statuses(second, 11) == [200] * 10 + [429]  # the IP's minute: 40 in all
    clock.advance(minute)  # both minutes reset together
    assert statuses(second, 31) == [200] * 30 + [429]
    assert statuses(first, 11) == [200] * 10 + [429]

    # The hours, made smaller than sixty minutes' worth so that they bind first; each
    # credential has spent 40 of its hour and the IP 80 of its.
    app.test_client().post(
        "/_sandbox/faults", json={"rate_limit_per_hour": 60, "ip_rate_limit_per_hour": 110}
    )
    clock.advance(minute)
    assert statuses(first, 21) == [200] * 20 + [429]  # its hour, with its minute's room left
    assert first.get("/tags").headers["X-RateLimit-Remaining-Hour"] == "0"
    third = add_company(app, clock, "Pro", name="Tiga")
    assert statuses(third, 11) == [200] * 10 + [429]  # the IP's hour, with its own room left
    clock.advance(minute * 60)  # the next hour
    assert statuses(first, 1) == statuses(third, 1) == [200]


def test_the_standalone_sandbox_takes_its_minute_from_the_environment():
    sandbox = JurnalSandbox.from_env({"JURNAL_RATE_WINDOW_SECONDS": "1.5"})
    assert sandbox.state()["limits"]["rate_window_seconds"] == 1.5
    assert sandbox.state()["limits"]["per_minute"] == 30
    assert JurnalSandbox.from_env({}).state()["limits"]["rate_window_seconds"] == 60
    with pytest.raises(ValueError, match="JURNAL_RATE_WINDOW_SECONDS"):
        JurnalSandbox.from_env({"JURNAL_RATE_WINDOW_SECONDS": "soon"})


def test_a_monthly_quota_answers_monthly_limit_exceeded(app, jurnal):
    app.test_client().post("/_sandbox/faults", json={"monthly_limit": 1})
    assert jurnal.get("/tags").status_code == 200
    answer = jurnal.get("/tags")
    assert (answer.status_code, answer.json) == (429, {"message": "Monthly limit exceeded."})


def test_faults_inject_503s_429s_latency_and_hangs(app, jurnal, sandbox):
    sleeps: list[float] = []
    sandbox.sleep = sleeps.append
    http = app.test_client()
    http.post("/_sandbox/faults", json={"error_rate": 1.0, "limit": 1, "latency_ms": 25})
    down = jurnal.get("/tags")
    assert down.status_code == 503
    assert down.text.startswith("upstream connect error or disconnect/reset before headers")
    assert jurnal.get("/tags").status_code == 200  # the limit of one fault is spent
    assert sleeps == [0.025, 0.025]
    http.post(
        "/_sandbox/faults",
        json={
            "error_rate": 0,
            "latency_ms": 0,
            "rate_limited_rate": 1,
            "limit": None,
            "methods": ["POST"],
        },
    )
    assert jurnal.get("/tags").status_code == 200
    assert jurnal.post("/tags", {"tag": {"name": "x"}}).status_code == 429
    http.post(
        "/_sandbox/faults", json={"rate_limited_rate": 0, "timeout_rate": 1, "timeout_seconds": 7.5}
    )
    hung = jurnal.post("/tags", {"tag": {"name": "x"}})
    assert hung.status_code == 504 and sleeps[-1] == 7.5
    assert jurnal.get("/tags").json["tags"] == []  # nothing was committed


def test_fault_settings_are_validated(app):
    http = app.test_client()
    assert http.post("/_sandbox/faults", json={"error_rate": 2}).status_code == 422
    assert http.post("/_sandbox/faults", json={"rate_limit_per_minute": 0}).status_code == 422
    assert http.post("/_sandbox/faults", json={"methods": "POST"}).status_code == 422


def test_the_control_api_counts_documents_and_requests_and_resets(app, seeded):
    create_invoice(seeded)
    seeded.get("/sales_invoices/nope")
    http = app.test_client()
    state = http.get("/_sandbox/state").json
    assert state["counts"]["sales_invoices"] == 1
    assert state["counts"]["customers"] == 1
    assert state["counts"]["taxes"] == 3
    assert state["requests"] == {"200": 1, "201": 3, "422": 1}  # the tax answers 200
    assert http.get("/_sandbox/state?custom_ids=1").json["companies"]["1"]["custom_ids"][
        "sales_invoices"
    ] == {"invoice_currency": 1}
    company = http.post(
        "/_sandbox/companies",
        json={"name": "B", "package": "Basic", "client_id": "b", "client_secret": "s"},
    )
    assert company.status_code == 201
    changed = http.patch(f"/_sandbox/companies/{company.json['id']}", json={"package": "Pro"})
    assert changed.json["plan"] == "pro"
    assert http.post("/_sandbox/reset").status_code == 200
    after = http.get("/_sandbox/state").json
    assert after["counts"]["sales_invoices"] == 0 and after["requests"] == {}
    assert list(after["companies"]) == ["1"]


def test_a_product_with_an_unknown_unit_is_refused_until_the_unit_is_made(jurnal):
    refused = jurnal.post("/products", {"product": {"name": "Kopi", "unit_name": "Gelas"}})
    assert refused.status_code == 422
    assert refused.json["error_full_messages"] == ["Unit (Unit Gelas not found)"]
    assert [u["name"] for u in jurnal.get("/product_units").json["product_units"]] == [
        "Buah",
        "Pcs",
    ]
    unit = jurnal.post("/product_units", {"product_unit": {"name": "Gelas"}})
    assert unit.status_code == 200 and unit.json["name"] == "Gelas"
    assert jurnal.get(f"/product_units/{unit.json['id']}").json["product_unit"]["name"] == "Gelas"
    created = jurnal.post("/products", {"product": {"name": "Kopi", "unit_name": "gelas"}})
    assert created.json["product"]["unit"] == {"id": unit.json["id"], "name": "Gelas"}
    plain = jurnal.post("/products", {"product": {"name": "Teh"}})
    assert plain.json["product"]["unit"]["name"] == "Buah"


def test_the_fault_dice_replay_the_same_run_from_the_same_seed(app, jurnal):
    def run() -> list[int]:
        app.test_client().post("/_sandbox/faults", json={"error_rate": 0.5, "seed": 42})
        return [jurnal.get("/tags").status_code for _ in range(12)]

    first = run()
    assert run() == first
    assert {200, 503} == set(first)


def test_concurrent_writers_get_distinct_documents(app, clock):
    # Eight at once, 20 a minute between them: under Jurnal's 30 however they interleave.
    writers = [SignedClient(app, clock=clock, pace=3.0) for _ in range(8)]
    start = threading.Barrier(len(writers))
    ids: list[int] = []

    def write(number: int, client: SignedClient) -> None:
        start.wait()
        for n in range(10):
            body = {"customer": {"display_name": f"W{number}-{n}", "custom_id": f"w{number}-{n}"}}
            ids.append(client.post("/customers", body).json["customer"]["id"])

    threads = [threading.Thread(target=write, args=pair) for pair in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 80
    assert sandbox_of(app).state()["counts"]["customers"] == 80
