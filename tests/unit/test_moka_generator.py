"""The generated outlet: deterministic, realistic in its mix, and shaped like Moka's examples."""

import json
import re
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.moka.arithmetic import check_payment_arithmetic
from sandbox.moka.generator import generate_outlet

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "moka_examples"
START = date(2024, 5, 1)
MICROSECONDS_WIB = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+07:00$")


def example(name):
    return json.loads((EXAMPLES / name).read_text())


@pytest.fixture(scope="module")
def month():
    return generate_outlet(7, start_date=START)


def test_every_payment_of_a_generated_month_passes_the_arithmetic_check(month):
    assert len(month.payments) >= 3000
    failures = {p["id"]: check_payment_arithmetic(p) for p in month.payments}
    assert {k: v for k, v in failures.items() if v} == {}


def test_other_seeds_and_sizes_also_add_up():
    for seed in (1, 2, 3):
        outlet = generate_outlet(
            seed, products=60, customers=20, days=10, transactions_per_day=30, start_date=START
        )
        assert all(check_payment_arithmetic(p) == [] for p in outlet.payments)


def test_the_same_seed_gives_the_same_outlet_ids_and_money():
    small = {"products": 50, "customers": 10, "days": 3, "transactions_per_day": 20}
    first = generate_outlet(11, start_date=START, **small)
    again = generate_outlet(11, start_date=START, **small)
    other = generate_outlet(12, start_date=START, **small)
    assert json.dumps(first.payments) == json.dumps(again.payments)
    assert json.dumps(first.items) == json.dumps(again.items)
    assert first.payments[0]["id"] != other.payments[0]["id"]


def test_counts_follow_the_arguments_and_a_few_products_are_deleted(month):
    assert month.products == 430
    assert len(month.customers) == 130
    deleted = [v for i in month.items for v in i["item_variants"] if v["is_deleted"]]
    assert len(deleted) == 3
    assert sum(1 for i in month.items if not i["is_deleted"]) < len(month.items)


def test_deleted_products_sold_before_their_deletion_and_never_after(month):
    deleted = {
        i["id"]: datetime.fromisoformat(i["updated_at"]) for i in month.items if i["is_deleted"]
    }
    sold = [
        (line["item_id"], datetime.fromisoformat(p["created_at"]))
        for p in month.payments
        for line in p["checkouts"]
        if line["item_id"] in deleted
    ]
    assert {item for item, _ in sold} == set(deleted)
    assert all(at < deleted[item] for item, at in sold)


def test_payments_have_exactly_the_keys_of_the_official_example_in_order(month):
    sale = example("get_v3_outlets_reports_get_latest_transactions.200.json")["data"]["payments"][0]
    refund = sale["payment_refunds"][0]
    invoice = example("get_v3_outlets_reports_invoices.200.json")["data"]["invoices"][0]
    payments = month.payments
    assert {tuple(p) for p in payments} == {tuple(sale)}
    assert {tuple(c) for p in payments for c in p["checkouts"]} == {tuple(sale["checkouts"][0])}
    modifiers = {tuple(m) for p in payments for c in p["checkouts"] for m in c["modifiers"]}
    assert modifiers == {tuple(sale["checkouts"][0]["modifiers"][0])}
    refunds = [r for p in payments for r in p["payment_refunds"]]
    assert {tuple(r) for r in refunds} == {tuple(refund)}
    assert {tuple(c) for r in refunds for c in r["checkouts"]} == {tuple(refund["checkouts"][0])}
    assert {tuple(row) for row in month.invoices} == {tuple(invoice)}


def test_times_are_microsecond_wib_and_money_is_float_like_the_api(month):
    sale = month.payments[0]
    assert MICROSECONDS_WIB.match(sale["created_at"])
    assert MICROSECONDS_WIB.match(sale["checkouts"][0]["updated_at"])
    assert isinstance(sale["checkouts"][0]["gross_sales"], float)
    assert re.match(r"^\d\d [A-Z][a-z]{2} \d{4}$", sale["transaction_date"])
    assert re.match(r"^\d\d : \d\d [AP]M$", sale["transaction_time"])
    assert re.match(r"^[0-9A-Z]{7}$", sale["payment_no"])


def test_the_month_has_a_realistic_mix(month):
    payments = month.payments
    types = Counter(p["payment_type"] for p in payments)
    assert {"cash", "card", "edc", "gift_card", "ovo", "gopay", "other", "invoice"} <= set(types)
    assert types["cash"] > types["gopay"] > types["gift_card"]
    assert any(p["total_rounding_amount"] not in (None, 0) for p in payments)
    assert {p["include_gratuity_tax"] for p in payments if p["gratuities"]} == {True, False}
    kinds = Counter(
        (
            row["discount_type"],
            row["discount_id"] in {d["discount_id"] for d in p["payment_discounts"]},
        )
        for p in payments
        for c in p["checkouts"]
        for row in c["discounts"]
    )
    # Whole-bill percentages sit on the lines only; cash discounts are on the bill or a line.
    assert set(kinds) == {("cash", True), ("cash", False), ("percentage", False)}
    members = sum(1 for p in payments if p["customer_id"])
    assert 0.15 * len(payments) < members < 0.5 * len(payments)
    assert any(c["modifiers"] for p in payments for c in p["checkouts"])


def test_refunds_are_full_and_partial_nested_and_linked(month):
    refunded = [p for p in month.payments if p["payment_refunds"]]
    kinds = Counter(r["refund_type"] for p in refunded for r in p["payment_refunds"])
    assert kinds["full"] > 0 and kinds["partial"] > 0
    assert any(len(p["payment_refunds"]) > 1 for p in refunded)
    for sale in refunded:
        assert sale["is_refunded"] is False and sale["refund_amount"] == 0
        assert sale["total_refund"] > 0
        for refund in sale["payment_refunds"]:
            assert refund["parent_payment_uuid"] == sale["id"]
            assert refund["payment_no"] == sale["payment_no"]
            assert refund["created_at"] > sale["created_at"]
            assert all(line["quantity"] < 0 for line in refund["checkouts"])


def test_unpaid_invoices_are_paid_later_in_parts(month):
    invoices = [p for p in month.payments if p["payment_type"] == "invoice"]
    parts = Counter(len(p["invoice_payment_records"]) for p in invoices)
    assert parts[0] > 0 and parts[1] > 0 and max(parts) >= 2
    statuses = Counter(row["invoice_status"] for row in month.invoices)
    assert statuses["paid"] > 0 and statuses["unpaid"] > 0
    assert all(p["customer_id"] for p in invoices)
    for p in invoices:
        if p["invoice_payment_records"]:
            assert p["updated_at"] == p["invoice_payment_records"][-1]["created_at"]


def test_the_inconsistency_switch_breaks_only_tax_rows_like_the_official_example():
    small = {"products": 40, "customers": 10, "days": 3, "transactions_per_day": 30}
    outlet = generate_outlet(9, start_date=START, inconsistent_rate=1.0, **small)
    broken = [p for p in outlet.payments if check_payment_arithmetic(p)]
    assert broken and all(p["payment_gratuities"] for p in broken)
    for payment in broken:
        problems = check_payment_arithmetic(payment)
        assert all(p.startswith("ROWS:") and " tax" in p for p in problems)
    clean = generate_outlet(9, start_date=START, **small)
    assert [p["id"] for p in clean.payments] == [p["id"] for p in outlet.payments]


# -- what the outlet is set up with holds for every receipt -----------------------------------

SMALL = {"products": 60, "customers": 20, "days": 10, "transactions_per_day": 40}
NON_CASH = {"card", "edc", "gopay", "ovo", "gift_card", "other", "tcash"}


def money(value):
    return Decimal(str(value))


def test_non_cash_tenders_are_whole_rupiah_and_the_rounding_shows_what_it_took(month):
    non_cash = [p for p in month.payments if p["payment_type"] in NON_CASH]
    assert len(non_cash) > 500
    for p in non_cash:
        collected = money(p["total_collected"])
        assert collected == collected.to_integral_value(), p["id"]
        assert money(p["tendered"]) == collected and p["change"] == 0
        rounding = p["total_rounding_amount"]
        assert rounding is None or Decimal(-1) < money(rounding) < 0
    # Without rounding some amounts would have had sen: the rule is exercised, not vacuous.
    assert any(p["total_rounding_amount"] for p in non_cash)
    # A refund is rounded the way its sale was: whole rupiah back if the sale was rounded.
    refunds = [r for p in non_cash if p["total_rounding_amount"] for r in p["payment_refunds"]]
    assert refunds
    for refund in refunds:
        back = money(refund["refund_amount"])
        assert back == back.to_integral_value(), refund["uuid"]


def test_invoice_payments_by_card_or_transfer_are_whole_rupiah(month):
    records = [
        r
        for p in month.payments
        if p["payment_type"] == "invoice"
        for r in p["invoice_payment_records"]
    ]
    assert {r["payment_type"] for r in records} >= {"cash", "card", "other"}
    for record in records:
        if record["payment_type"] != "cash":
            amount = money(record["amount"])
            assert amount == amount.to_integral_value(), record


def test_every_taxed_receipt_carries_all_of_the_outlets_taxes(month):
    outlet_taxes = sorted(t["id"] for t in month.taxes)
    assert len(outlet_taxes) == 2
    for p in month.payments:
        assert sorted(row["tax_id"] for row in p["payment_taxes"]) == outlet_taxes, p["id"]
        for refund in p["payment_refunds"]:
            assert sorted(row["tax_id"] for row in refund["payment_taxes"]) == outlet_taxes


def test_enable_tax_and_enable_gratuity_repeat_the_checkout_settings_on_every_payment(month):
    assert month.checkout_settings["enable_tax"] and month.checkout_settings["enable_gratuity"]
    assert {(p["enable_tax"], p["enable_gratuity"]) for p in month.payments} == {(True, True)}
    # A takeaway sale has no service charge, yet the outlet's setting is still on.
    assert any(not p["payment_gratuities"] for p in month.payments)


@pytest.mark.parametrize(("tax", "gratuity"), [(False, True), (True, False), (False, False)])
def test_an_outlet_with_taxes_or_service_charges_turned_off_charges_none(tax, gratuity):
    outlet = generate_outlet(5, start_date=START, enable_tax=tax, enable_gratuity=gratuity, **SMALL)
    assert outlet.checkout_settings["enable_tax"] is tax
    assert outlet.checkout_settings["enable_gratuity"] is gratuity
    assert {(p["enable_tax"], p["enable_gratuity"]) for p in outlet.payments} == {(tax, gratuity)}
    assert all(bool(p["payment_taxes"]) is tax for p in outlet.payments)
    assert all(bool(p["taxes"]) is tax for p in outlet.payments)
    if not gratuity:
        assert not any(p["payment_gratuities"] or p["gratuities"] for p in outlet.payments)
    assert all(check_payment_arithmetic(p) == [] for p in outlet.payments)


def test_a_whole_bill_percentage_discount_sits_on_the_lines_only(month):
    percentages = {d["id"] for d in month.discounts if d["type"] == "percentage"}
    on_the_bill = [
        p
        for p in month.payments
        for bill in percentages
        if len(p["checkouts"]) > 1
        and all(bill in {row["discount_id"] for row in c["discounts"]} for c in p["checkouts"])
    ]
    assert on_the_bill, "no sale had a whole-bill percentage discount"
    for p in month.payments:
        rows = {d["discount_id"] for d in p["payment_discounts"]}
        assert not rows & percentages, p["id"]
        assert {d["discount_type"] for d in p["payment_discounts"]} <= {"cash"}
        for refund in p["payment_refunds"]:
            assert {d["discount_type"] for d in refund["payment_discounts"]} <= {"cash"}


def test_invoices_are_paid_within_opening_hours(month):
    records = [
        datetime.fromisoformat(r["created_at"])
        for p in month.payments
        if p["payment_type"] == "invoice"
        for r in p["invoice_payment_records"]
    ]
    assert len(records) > 20
    assert all(8 <= moment.hour < 22 for moment in records), sorted({m.hour for m in records})


def test_sales_and_refunds_happen_within_opening_hours(month):
    sales = [datetime.fromisoformat(p["created_at"]) for p in month.payments]
    refunds = [
        datetime.fromisoformat(r["created_at"])
        for p in month.payments
        for r in p["payment_refunds"]
    ]
    assert refunds
    assert all(8 <= moment.hour < 22 for moment in sales + refunds)
