"""The Jurnal sandbox's money paid back and its own arithmetic: credit memos left by returns of
paid invoices, `customer_credit_memo_refund` (§6.9), journal entries, and the rounding switches
for what §13 leaves unknown."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.jurnal import JurnalSandbox, create_app
from tests.jurnal_support import (
    FakeClock,
    SignedClient,
    documented_invoice,
    seed_documented_masters,
    tax_body,
)

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox" / "jurnal"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock):
    return create_app(JurnalSandbox(clock=clock))  # Jurnal's documented limits


@pytest.fixture
def jurnal(app, clock) -> SignedClient:
    client = SignedClient(app, clock=clock, pace=2.0)  # 30 a minute, on the fake clock
    seed_documented_masters(client)
    return client


def paid_invoice_returned(jurnal: SignedClient) -> tuple[dict, dict]:
    """The documented invoice paid in full (9,720,000 after withholding), its line returned."""
    answer = jurnal.post("/sales_invoices", {"sales_invoice": documented_invoice(deposit=9720000)})
    assert answer.status_code == 201, answer.json
    invoice = answer.json["sales_invoice"]
    line_id = invoice["transaction_lines_attributes"][0]["id"]
    body = {
        "invoice_id": invoice["id"],
        "custom_id": "return-1",
        "transaction_return_lines_attributes": [
            {"transaction_line_id": line_id, "return_quantity": 1}
        ],
    }
    answer = jurnal.post("/sales_returns", {"sales_return": body})
    assert answer.status_code == 201, answer.json
    return invoice, answer.json["sales_return"]


def refund_body(person_id, memo_id, amount, **changes) -> dict:
    body = {
        "person_id": person_id,
        "transaction_date": "21/05/2017",
        "refund_from_name": "Kas",
        "credit_memo_refund_lines_attributes": [
            {"credit_memo_id": memo_id, "refund_amount": amount, "description": "cash back"}
        ],
        "custom_id": "refund-1",
        **changes,
    }
    return {"customer_credit_memo_refund": body}


# -- credit memos and the money paid back -------------------------------------------------------


def test_a_return_of_a_paid_invoice_leaves_a_credit_memo_that_a_refund_pays_out(jurnal, app):
    invoice, returned = paid_invoice_returned(jurnal)
    memo = returned["credit_memo"]
    assert memo["original_amount"] == memo["remaining"] == "9720000.0"
    shown = jurnal.get(f"/sales_invoices/{invoice['id']}").json["sales_invoice"]
    assert shown["has_credit_memos"] is True
    assert shown["credit_memos"] == [memo]
    person = invoice["person"]["id"]

    answer = jurnal.post("/customer_credit_memo_refund", refund_body(person, memo["id"], 9720000))
    assert answer.status_code == 201, answer.json
    refund = answer.json["customer_credit_memo_refund"]
    assert refund["refund_from"]["name"] == "Kas"
    assert refund["refund_from"]["category"]["name"] == "Cash & Bank"
    assert refund["total"] == 9720000
    assert refund["transaction_date"] == "21/05/2017"
    [line] = refund["credit_memo_refund_lines_attributes"]
    assert (line["credit_memo_id"], line["refund_amount"]) == (memo["id"], "9720000.0")

    shown = jurnal.get(f"/sales_invoices/{invoice['id']}").json["sales_invoice"]
    assert shown["credit_memo_balance"] == "0.0"
    assert jurnal.get("/customer_credit_memo_refund/refund-1").json == answer.json
    state = app.test_client().get("/_sandbox/state").json
    assert state["counts"]["customer_credit_memo_refund"] == 1
    # The same custom id again is Jurnal's 409 with the existing id.
    again = jurnal.post("/customer_credit_memo_refund", refund_body(person, memo["id"], 1))
    assert (again.status_code, again.json["id"]) == (409, refund["id"])
    # A return whose credit was paid out cannot be deleted; the refund can, giving it back.
    assert jurnal.open("DELETE", "/sales_returns/return-1").status_code == 422
    assert jurnal.open("DELETE", "/customer_credit_memo_refund/refund-1").status_code == 204
    shown = jurnal.get(f"/sales_invoices/{invoice['id']}").json["sales_invoice"]
    assert shown["credit_memo_balance"] == "9720000.0"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": 9720001}, "Refund amount cannot be greater than the credit memo balance"),
        ({"amount": 0}, "Refund amount (Must be greater than 0)"),
        ({"memo_id": 999999}, "Credit memo (Credit memo not found)"),
        ({"refund_from_name": "Piutang Usaha"}, "Refund from (Must be a Cash & Bank account)"),
        ({"refund_from_name": None}, "Refund from (Deposit account must be sent)"),
        ({"person": "other"}, "Credit memo (Credit memo belongs to another customer)"),
    ],
)
def test_a_refund_jurnal_cannot_pay_is_refused_with_its_message(jurnal, changes, message):
    invoice, returned = paid_invoice_returned(jurnal)
    person = invoice["person"]["id"]
    if changes.pop("person", None):
        other = jurnal.post("/customers", {"customer": {"display_name": "Budi"}})
        person = other.json["customer"]["id"]
    amount = changes.pop("amount", 9720000)
    memo_id = changes.pop("memo_id", returned["credit_memo"]["id"])
    answer = jurnal.post(
        "/customer_credit_memo_refund", refund_body(person, memo_id, amount, **changes)
    )
    assert answer.status_code == 422
    assert any(message in text for text in answer.json["error_full_messages"]), answer.json


def test_a_return_of_an_unpaid_invoice_lowers_what_is_owed_and_leaves_no_credit(jurnal):
    answer = jurnal.post(
        "/sales_invoices",
        {"sales_invoice": documented_invoice(deposit=0, deposit_to_name=None)},
    )
    invoice = answer.json["sales_invoice"]
    line_id = invoice["transaction_lines_attributes"][0]["id"]
    body = {
        "invoice_id": invoice["id"],
        "transaction_return_lines_attributes": [
            {"transaction_line_id": line_id, "return_quantity": 1}
        ],
    }
    returned = jurnal.post("/sales_returns", {"sales_return": body}).json["sales_return"]
    assert returned["credit_memo"] is None
    shown = jurnal.get(f"/sales_invoices/{invoice['id']}").json["sales_invoice"]
    assert (shown["has_credit_memos"], shown["remaining"]) == (False, "0.0")


def test_a_credit_memo_applied_to_another_invoice_of_the_customer_lowers_what_it_owes(jurnal, app):
    _, returned = paid_invoice_returned(jurnal)
    memo = returned["credit_memo"]
    unpaid = documented_invoice(deposit=0, deposit_to_name=None, custom_id="inv-2")
    unpaid["transaction_no"] = "INV-2"
    unpaid["transaction_lines_attributes"][0]["quantity"] = 2  # owes 19,440,000
    second = jurnal.post("/sales_invoices", {"sales_invoice": unpaid}).json["sales_invoice"]

    def apply(amount, invoice_no="INV-2", custom_id="apply-1"):
        body = {
            "credit_memo_id": memo["id"],
            "transaction_date": "2017-05-22",
            "records_attributes": [{"transaction_no": invoice_no, "amount": amount}],
            "custom_id": custom_id,
        }
        return jurnal.post("/customer_apply_credit_memo", {"customer_apply_credit_memo": body})

    too_much = apply(9720001)
    assert too_much.status_code == 422
    assert too_much.json["error_full_messages"] == [
        "Amount (Amount cannot be greater than the credit memo balance)"
    ]
    answer = apply(1000000)
    assert answer.status_code == 201, answer.json
    applied = answer.json["customer_apply_credit_memo"]
    assert (applied["total"], applied["credit_memo"]["id"]) == (1000000, memo["id"])
    shown = jurnal.get("/sales_invoices/inv-2").json["sales_invoice"]
    assert Decimal(shown["remaining"]) == Decimal(second["remaining"]) - 1000000
    returned_now = jurnal.get(f"/sales_returns/{returned['id']}").json["sales_return"]
    assert returned_now["credit_memo"]["remaining"] == "8720000.0"
    assert (
        app.test_client().get("/_sandbox/state").json["counts"]["customer_apply_credit_memo"] == 1
    )

    budi = jurnal.post("/customers", {"customer": {"display_name": "Budi"}})
    assert budi.status_code == 201
    theirs = documented_invoice(deposit=0, deposit_to_name=None, custom_id="inv-3")
    theirs.update(transaction_no="INV-3", person_name="Budi")
    assert jurnal.post("/sales_invoices", {"sales_invoice": theirs}).status_code == 201
    other = apply(1000, invoice_no="INV-3", custom_id="apply-2")
    assert other.status_code == 422
    assert "Records (Invoice belongs to another customer)" in other.json["error_full_messages"]


# -- journal entries ----------------------------------------------------------------------------


def entry(debit_account: str, credit_account: str, debit="34.1", credit="34.1", **changes):
    lines = [
        {"account_name": debit_account, "debit": debit, "credit": 0},
        {"account_name": credit_account, "debit": 0, "credit": credit},
    ]
    body = {
        "transaction_date": "2026-03-03",
        "memo": "Rounding of a Moka refund",
        "custom_id": "adjust-1",
        "transaction_account_lines_attributes": lines,
        **changes,
    }
    return {"journal_entry": body}


def test_a_balanced_journal_entry_is_posted_and_found_by_its_custom_id(jurnal, app):
    answer = jurnal.post("/journal_entries", entry("Kas", "Pendapatan"))
    assert answer.status_code == 201, answer.json
    posted = answer.json["journal_entry"]
    lines = posted["transaction_account_lines_attributes"]
    assert [(x["account"]["name"], x["debit"], x["credit"]) for x in lines] == [
        ("Kas", "34.1", "0.0"),
        ("Pendapatan", "0.0", "34.1"),
    ]
    assert posted["total_debit"] == posted["total_credit"] == "34.1"
    assert jurnal.get("/journal_entries/adjust-1").json == answer.json
    assert jurnal.post("/journal_entries", entry("Kas", "Pendapatan")).status_code == 409
    assert app.test_client().get("/_sandbox/state").json["counts"]["journal_entries"] == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (entry("Kas", "Pendapatan", credit="34"), "Total debit and total credit must be equal"),
        (entry("Kas", "Nowhere"), "Account (Account Nowhere not found)"),
        (
            entry("Kas", "Pendapatan", transaction_account_lines_attributes=[]),
            "A journal entry needs at least two lines",
        ),
        (entry("Kas", "Pendapatan", debit="-34.1"), "Each line is either a debit or a credit"),
        (entry("Kas", "Pendapatan", memo="Pembulatan 🙂"), "Memo may not contain emoji"),
    ],
)
def test_a_journal_entry_jurnal_would_not_book_is_refused(jurnal, body, message):
    answer = jurnal.post("/journal_entries", body)
    assert answer.status_code == 422
    assert any(message in text for text in answer.json["error_full_messages"]), answer.json


# -- the sandbox's own arithmetic and its switches ----------------------------------------------


def test_the_sandbox_arithmetic_is_its_own_and_not_the_mappings():
    """What the mapping predicts must be checked against an independent implementation."""
    for path in SANDBOX.rglob("*.py"):
        if path.name == "products.py":  # master data, another room's: imports only a flag reader
            continue
        tree = ast.parse(path.read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert "domain.jurnal_arithmetic" not in imported, path


def switch(app, **rules):
    return app.test_client().patch("/_sandbox/companies/1", json={"arithmetic": rules})


@pytest.mark.parametrize(
    "rules",
    [
        {},
        {"discount_spread": "first"},
        {"discount_spread": "largest"},
        {"discount_spread": "exact"},
        {"tax_rounding": "invoice"},
        {"tax_inclusive": "net_first"},
    ],
)
def test_every_reading_reproduces_the_documented_invoice(jurnal, app, rules):
    assert switch(app, **rules).status_code == 200
    invoice = jurnal.post("/sales_invoices", {"sales_invoice": documented_invoice()})
    shown = invoice.json["sales_invoice"]
    assert (shown["original_amount"], shown["tax_amount"], shown["remaining"]) == (
        "10692000.0",
        "972000.0",
        "9690000.0",
    )


def three_lines(**changes) -> dict:
    lines = [
        {"quantity": 1, "rate": rate, "product_name": "Penjualan", "line_tax_name": "ppn10"}
        for rate in (20011, 20011, 7003)
    ]
    fields = {
        "transaction_lines_attributes": lines,
        "discount_type_name": "Value",
        "discount_unit": 100,
        "witholding_value": 0,
        "deposit": 0,
        "deposit_to_name": None,
        "custom_id": None,
        "transaction_no": None,
        **changes,
    }
    return {"sales_invoice": documented_invoice(**fields)}


def tax_under(jurnal, app, **rules) -> Decimal:
    assert switch(app, **rules).status_code == 200
    answer = jurnal.post("/sales_invoices", three_lines())
    assert answer.status_code == 201, answer.json
    shown = answer.json["sales_invoice"]
    # The discount is whole under every reading: only the tax moves the total.
    assert Decimal(shown["original_amount"]) == 46925 + Decimal(shown["tax_amount"])
    return Decimal(shown["tax_amount"])


def test_each_switch_changes_what_jurnal_computes_where_the_reference_is_silent(jurnal, app):
    # 47,025 of lines share a 100 discount; 10 % of the 46,925 left is 4,692.50 unrounded.
    # Shares by weight are 42.553…, 42.553… and 14.892…; rounded to the sen with the remainder
    # on one line (or not at all), each line's tax rounded: the sen fall differently per reading.
    assert tax_under(jurnal, app) == Decimal("4692.51")
    assert tax_under(jurnal, app, discount_spread="first") == Decimal("4692.50")
    assert tax_under(jurnal, app, discount_spread="exact") == Decimal("4692.49")
    assert tax_under(jurnal, app, discount_spread="last", tax_rounding="invoice") == Decimal(
        "4692.50"
    )
    assert switch(app, discount_spread="sideways").status_code == 422
    assert switch(app, colour="red").status_code == 422
    companies = app.test_client().get("/_sandbox/companies").json["companies"]
    assert companies[0]["arithmetic"] == {
        "discount_spread": "last",
        "tax_rounding": "invoice",
        "tax_inclusive": "divide",
    }


def test_tax_inclusive_readings_take_the_tax_out_differently(jurnal, app):
    assert jurnal.post("/taxes", {"tax": tax_body("ppn12", 12)}).status_code == 200

    def inclusive(**rules) -> tuple[Decimal, Decimal]:
        assert switch(app, **rules).status_code == 200
        body = three_lines(use_tax_inclusive=True, discount_unit=0, discount_type_name=None)
        body["sales_invoice"]["transaction_lines_attributes"] = [
            {
                "quantity": 1,
                "rate": "1000.02",
                "product_name": "Penjualan",
                "line_tax_name": "ppn12",
            }
        ]
        shown = jurnal.post("/sales_invoices", body).json["sales_invoice"]
        return Decimal(shown["tax_amount"]), Decimal(shown["original_amount"])

    # 1,000.02 × 12 / 112 = 107.145 → 107.15 divided out; the net 892.875 → 892.88 first leaves
    # 107.14. The price includes the tax either way.
    assert inclusive() == (Decimal("107.15"), Decimal("1000.02"))
    assert inclusive(tax_inclusive="net_first") == (Decimal("107.14"), Decimal("1000.02"))
