"""The arithmetic check: it finds what the official examples break (reference §9.2) and what a
tampered payment breaks, and nothing in a consistent one."""

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.moka.arithmetic import check_payment_arithmetic
from sandbox.moka.generator import generate_outlet

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "moka_examples"


def official_sale(version):
    body = (
        EXAMPLES / f"get_{version}_outlets_reports_get_latest_transactions.200.json"
    ).read_text()
    return json.loads(body)["data"]["payments"][0]


@pytest.fixture(scope="module")
def outlet():
    return generate_outlet(3, products=80, customers=30, days=12, start_date=date(2024, 5, 1))


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_the_official_example_keeps_the_header_relations_but_breaks_its_rows(version):
    problems = check_payment_arithmetic(official_sale(version))
    # R1–R12 hold (§9.1); every problem is a row breakdown that does not add up (§9.2 1–3).
    assert problems and all(p.startswith("ROWS:") for p in problems)
    joined = "\n".join(problems)
    # §9.2 item 1: one 10% tax row on subtotal + gratuities, while the header tax is 18410.
    assert "payment taxes vs Σ payment_taxes: 18410 != 7364" in joined
    assert "tax 'Tax' taxable_amount vs subtotal: 73640 != 52600" in joined
    # §9.2 item 2: gratuity rows 13150 (payment) and 2630 (line) against a header of 21040.
    assert "payment gratuities vs Σ payment_gratuities: 21040 != 13150" in joined
    assert "gratuity_amount vs Σ gratuities[]: 21040 != 2630" in joined
    # §9.2 item 3: the sale's line lists only the cash discount (5000 of 11400).
    assert "discount_amount vs Σ discounts[]: 11400 != 5000" in joined
    # The refund repeats the tax mismatch with its own odd taxable amount (−220920).
    assert "tax 'Tax' total vs rate × taxable_amount: -18410 != -22092" in joined
    assert len(problems) == 11


def test_the_official_example_parsed_with_decimal_money_gives_the_same_findings():
    text = (EXAMPLES / "get_v3_outlets_reports_get_latest_transactions.200.json").read_text()
    as_decimal = json.loads(text, parse_float=Decimal)["data"]["payments"][0]
    assert check_payment_arithmetic(as_decimal) == check_payment_arithmetic(official_sale("v3"))


def first(outlet, predicate):
    return copy.deepcopy(next(p for p in outlet.payments if predicate(p)))


def relations(problems):
    return {p.split(":", 1)[0] for p in problems}


def test_a_wrong_total_collected_breaks_r4(outlet):
    sale = first(outlet, lambda p: p["payment_type"] == "card")
    sale["total_collected"] += 100
    assert relations(check_payment_arithmetic(sale)) == {"R4", "R5"}


def test_a_line_whose_net_does_not_follow_its_discount_breaks_r2_and_r3(outlet):
    sale = first(outlet, lambda p: p["discounts"] > 0)
    sale["checkouts"][0]["net_sales"] += 1
    assert {"R2", "R3"} <= relations(check_payment_arithmetic(sale))


def test_wrong_change_on_a_cash_sale_breaks_r5(outlet):
    sale = first(outlet, lambda p: p["payment_type"] == "cash")
    sale["change"] += 500
    assert relations(check_payment_arithmetic(sale)) == {"R5"}


def test_a_refund_that_does_not_negate_its_sale_and_a_lost_refunded_quantity_are_found(outlet):
    sale = first(outlet, lambda p: any(r["refund_type"] == "full" for r in p["payment_refunds"]))
    sale["checkouts"][0]["refunded_quantity"] = 0
    refund = next(r for r in sale["payment_refunds"] if r["refund_type"] == "full")
    refund["refund_amount"] += 1
    found = relations(check_payment_arithmetic(sale))
    assert {"R10", "R11"} <= found


def test_a_modifier_discount_share_that_is_off_breaks_r6(outlet):
    sale = first(
        outlet,
        lambda p: any(
            c["discount_amount"] and any(m["gross_sales"] for m in c["modifiers"])
            for c in p["checkouts"]
        ),
    )
    line = next(c for c in sale["checkouts"] if c["discount_amount"] and c["modifiers"])
    modifier = next(m for m in line["modifiers"] if m["gross_sales"])
    modifier["discount_amount"] += 1
    assert "R6" in relations(check_payment_arithmetic(sale))


def test_a_tax_row_that_is_not_its_rate_of_the_base_is_found(outlet):
    sale = first(outlet, lambda p: p["taxes"] > 0)
    sale["payment_taxes"][0]["amount"] = 11.0
    assert relations(check_payment_arithmetic(sale)) == {"ROWS"}
