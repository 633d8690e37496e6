"""The generated outlet: deterministic, realistic in its mix, and shaped like Moka's examples."""

import json
import re
import time
from collections import Counter
from datetime import date, datetime
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
def timed_month():
    began = time.perf_counter()
    outlet = generate_outlet(7, start_date=START)
    return outlet, time.perf_counter() - began


@pytest.fixture(scope="module")
def month(timed_month):
    return timed_month[0]


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
    assert {len(p["payment_taxes"]) for p in payments} == {1, 2}
    kinds = Counter(
        (
            row["discount_type"],
            row["discount_id"] in {d["discount_id"] for d in p["payment_discounts"]},
        )
        for p in payments
        for c in p["checkouts"]
        for row in c["discounts"]
    )
    assert set(kinds) == {(k, bill) for k in ("cash", "percentage") for bill in (True, False)}
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


def test_a_month_of_three_thousand_payments_generates_in_a_few_seconds(timed_month):
    outlet, seconds = timed_month
    assert len(outlet.payments) >= 3000
    assert seconds < 6


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
