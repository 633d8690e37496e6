"""Jurnal's invoice and return arithmetic against every number in the reference's worked tables
(§7, §8) and the official example bodies, plus the sandbox decisions for what they cannot show."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.jurnal_arithmetic import (
    ArithmeticInputError,
    DiscountType,
    InvoiceStatus,
    Tax,
    TaxDetail,
    decimal_string,
    invoice_totals,
    sales_return_totals,
    spread_pro_rata,
    to_decimal,
)

# Verbatim copies of `reference/jurnal-examples/` (see its README for their quirks).
EXAMPLES = Path(__file__).parent.parent / "fixtures" / "jurnal_examples"
PPN_10 = Tax(id=3198, name="ppn", rate=Decimal("10.0"))
PPN_11 = Tax(id=1, name="PPN", rate=Decimal("11"))
PB1 = Tax(id=2, name="PB1", rate=Decimal("10"), custom_id="pb1")
TAXES = [PPN_10, PB1]  # the documented examples' company
CURRENT_TAXES = [PPN_11, PB1]


def example(name: str) -> dict[str, object]:
    return json.loads((EXAMPLES / name).read_text())


def documented_invoice(**changes: object) -> dict[str, object]:
    """The documented request: one line of 12,000,000 with a 10% line discount, invoice discount
    Percent 10, tax after discount, withholding 10%."""
    line = {"quantity": 1, "rate": 12000000, "discount": 10, "product_name": "Penjualan",
            "line_tax_id": 3198, "line_tax_name": "ppn"}  # fmt: skip
    body: dict[str, object] = {
        "transaction_lines_attributes": [line],
        "discount_type_name": "percent",
        "discount_unit": 10,
        "tax_after_discount": True,
        "witholding_value": 10,
        "witholding_type": "percent",
        "deposit": 30000,
        "is_shipped": True,
        "shipping_price": 0,
    }
    body.update(changes)
    return body


def test_the_documented_post_example_reproduces_every_number_of_its_answer():
    request = example("post_sales_invoices.request.json")["sales_invoice"]
    answer = example("post_sales_invoices.201.json")["sales_invoice"]
    totals = invoice_totals(request, [PPN_10])
    assert totals.subtotal == Decimal(answer["subtotal"]) == Decimal("12000000")
    assert totals.discount_per_lines == Decimal(answer["discount_per_lines"])
    assert totals.discount_price == Decimal(answer["discount_price"]) == Decimal("1080000")
    assert totals.tax_amount == Decimal(answer["tax_amount"]) == Decimal("972000")
    assert totals.original_amount == Decimal(answer["original_amount"]) == Decimal("10692000")
    assert totals.witholding_amount == answer["witholding_amount"] == 972000
    assert totals.amount_receive == Decimal(answer["amount_receive"]) == Decimal("30000")
    assert totals.remaining == Decimal(answer["remaining"]) == Decimal("9690000")
    assert totals.lines[0].amount == Decimal(answer["transaction_lines_attributes"][0]["amount"])
    assert totals.tax_details == (TaxDetail(name="ppn 10.0%", tax_amount=Decimal("972000")),)
    assert answer["tax_details"][0]["name"] == totals.tax_details[0].name
    status = totals.status(due_date=date(2017, 10, 20), today=date(2017, 10, 1))
    assert status is InvoiceStatus.PARTIAL
    assert (status.id, status.label) == (answer["transaction_status"]["id"], "Partial")


def test_the_documented_get_example_has_no_withholding_and_3534777_remaining():
    body = documented_invoice(deposit=1000000, witholding_value=0)
    body["transaction_lines_attributes"] = [{"quantity": 1, "rate": 12000000, "discount": 10}]
    totals = invoice_totals(body, TAXES, payment_received_amount="5185223")
    assert totals.witholding_amount == 0
    assert totals.remaining == Decimal("3534777")
    assert totals.status(due_date=None, today=date(2017, 1, 1)) is InvoiceStatus.PARTIAL


def test_batch_one_shows_withholding_excludes_shipping_and_tax():
    totals = invoice_totals(documented_invoice(deposit=0, shipping_price=10000), TAXES)
    assert totals.subtotal == Decimal("12000000")
    assert totals.discount_per_lines == Decimal("1200000")
    assert totals.discount_price == Decimal("1080000")
    assert totals.tax_amount == Decimal("972000")
    assert totals.original_amount == Decimal("10702000")
    assert totals.witholding_amount == Decimal("972000")
    assert totals.remaining == Decimal("9730000")
    assert totals.status(date(2017, 10, 20), today=date(2018, 1, 1)) is InvoiceStatus.OVERDUE


def test_batch_two_with_two_units_and_a_deposit_is_overdue_not_partial():
    body = documented_invoice()
    body["transaction_lines_attributes"][0]["quantity"] = 2  # type: ignore[index]
    totals = invoice_totals(body, TAXES)
    assert totals.subtotal == Decimal("24000000")
    assert totals.discount_per_lines == Decimal("2400000")
    assert totals.discount_price == Decimal("2160000")
    assert totals.tax_amount == Decimal("1944000")
    assert totals.original_amount == Decimal("21384000")
    assert totals.witholding_amount == Decimal("1944000")
    assert totals.remaining == Decimal("19410000")
    assert totals.status(date(2017, 10, 20), today=date(2018, 1, 1)) is InvoiceStatus.OVERDUE


def test_shipping_counts_only_when_shipped():
    totals = invoice_totals(documented_invoice(is_shipped=False, shipping_price=10000), TAXES)
    assert totals.shipping_price == 0
    assert totals.original_amount == Decimal("10692000")


def test_the_documented_sales_return_returns_8748000():
    invoice = documented_invoice(witholding_value=10)
    invoice["transaction_lines_attributes"] = [
        {"id": 546, "quantity": 100, "rate": "12000000.0", "discount": "10.0", "line_tax": {
            "id": None, "name": None, "rate": None}},
    ]  # fmt: skip
    body = example("post_sales_returns.request.json")["sales_return"]
    answer = example("post_sales_returns.201.json")["sales_return"]
    totals = sales_return_totals(body, invoice, TAXES)
    assert totals.line_return_total == Decimal("10800000")
    assert (
        totals.lines[0].line_return_amount
        == answer["transaction_return_lines_attributes"][0]["line_return_amount"]
    )
    assert totals.discount_lines == answer["discount_lines"] == 1200000
    assert totals.discount_whole == answer["discount_whole"] == 1080000
    assert totals.returned_tax == answer["returned_tax"] == 0
    assert totals.returned_witholding_amount == answer["returned_witholding_amount"] == 972000
    assert totals.return_amount == answer["return_amount"] == 8748000


def test_the_documented_return_patch_of_two_lines_returns_43740000():
    invoice = documented_invoice()
    invoice["transaction_lines_attributes"] = [
        {"id": 546, "quantity": 10, "rate": 12000000, "discount": 10},
        {"id": 547, "quantity": 10, "rate": 12000000, "discount": 10},
    ]
    body = {"transaction_return_lines_attributes": [
        {"transaction_line_id": 546, "return_quantity": 2},
        {"transaction_line_id": "547", "return_quantity": "3"},
    ]}  # fmt: skip
    totals = sales_return_totals(body, invoice, TAXES)
    assert totals.line_return_total == Decimal("54000000")
    assert totals.discount_lines == Decimal("6000000")
    assert totals.discount_whole == Decimal("5400000")
    assert totals.returned_witholding_amount == Decimal("4860000")
    assert totals.return_amount == Decimal("43740000")


# -- the sandbox decisions the examples cannot show --------------------------------------------


def test_invoice_discount_spreads_pro_rata_with_the_remainder_on_the_last_line():
    body = {
        "transaction_lines_attributes": [
            {"quantity": 1, "rate": 10000, "line_tax_name": "PPN"},
            {"quantity": 1, "rate": 10000, "line_tax_name": "ppn"},
            {"quantity": 1, "rate": 10000, "line_tax_id": 1},
        ],
        "discount_type_name": "Value",
        "discount_unit": 100,
        "tax_after_discount": True,
    }
    totals = invoice_totals(body, CURRENT_TAXES)
    assert [line.invoice_discount_share for line in totals.lines] == [
        Decimal("33.33"), Decimal("33.33"), Decimal("33.34")
    ]  # fmt: skip
    # each line's tax rounded half-up: 9966.67 × 11% = 1096.3337 → 1096.33; 9966.66 → 1096.33
    assert [line.tax_amount for line in totals.lines] == [
        Decimal("1096.33"), Decimal("1096.33"), Decimal("1096.33")
    ]  # fmt: skip
    assert totals.tax_amount == Decimal("3288.99")
    assert totals.discount_type is DiscountType.VALUE
    assert totals.original_amount == Decimal("29900") + Decimal("3288.99")
    assert totals.tax_details == (TaxDetail("PPN 11.0%", Decimal("3288.99")),)


def test_line_tax_rounds_half_up_to_two_decimals():
    body = {"transaction_lines_attributes": [{"quantity": 1, "rate": "1.5", "line_tax_id": "pb1"}]}
    # 1.5 × 10% = 0.15 exactly; 0.05 × 10% = 0.005 → 0.01 half-up
    assert invoice_totals(body, CURRENT_TAXES).tax_amount == Decimal("0.15")
    body = {"transaction_lines_attributes": [{"quantity": 1, "rate": "0.05", "line_tax_id": 2}]}
    assert invoice_totals(body, CURRENT_TAXES).tax_amount == Decimal("0.01")


def test_tax_before_discount_taxes_the_line_amount():
    body = documented_invoice(tax_after_discount=False, witholding_value=0, deposit=0)
    totals = invoice_totals(body, TAXES)
    assert totals.tax_amount == Decimal("1080000")  # 10% of 10,800,000, not of 9,720,000
    assert totals.original_amount == Decimal("9720000") + Decimal("1080000")


def test_missing_tax_after_discount_means_before():
    body = documented_invoice(witholding_value=0)
    del body["tax_after_discount"]
    assert invoice_totals(body, TAXES).tax_amount == Decimal("1080000")


def test_tax_inclusive_rates_contain_their_tax():
    body = {
        "transaction_lines_attributes": [{"quantity": 2, "rate": 55500, "line_tax_name": "PPN"}],
        "use_tax_inclusive": "true",
        "witholding_value": 10,
    }
    totals = invoice_totals(body, CURRENT_TAXES)
    assert totals.tax_amount == Decimal("11000.00")  # 111000 × 11 / 111
    assert totals.original_amount == Decimal("111000")
    assert totals.witholding_amount == Decimal("10000")  # 10% of the 100,000 net of tax
    assert totals.remaining == Decimal("101000")


def test_value_withholding_is_taken_as_given():
    totals = invoice_totals(
        documented_invoice(witholding_type="value", witholding_value=5000), TAXES
    )
    assert totals.witholding_amount == Decimal("5000")


def test_payments_to_zero_make_the_invoice_paid_and_returns_beyond_become_credit():
    body = documented_invoice(witholding_value=0, deposit="10692000")
    paid = invoice_totals(body, TAXES)
    assert paid.remaining == 0
    assert paid.status(due_date=date(2000, 1, 1), today=date(2020, 1, 1)) is InvoiceStatus.PAID
    returned = invoice_totals(body, TAXES, return_amount=Decimal("1000"))
    assert returned.remaining == 0
    assert returned.credit_memo_balance == Decimal("1000")
    open_invoice = invoice_totals(documented_invoice(witholding_value=0, deposit=0), TAXES)
    assert open_invoice.status(None, date(2020, 1, 1)) is InvoiceStatus.OPEN
    partly_returned = invoice_totals(
        documented_invoice(witholding_value=0, deposit=0), TAXES, return_amount=692000
    )
    assert partly_returned.remaining == Decimal("10000000")
    assert partly_returned.credit_memo_balance == 0


def test_value_discount_return_gives_back_the_returned_fraction_of_the_line_share():
    invoice = {
        "transaction_lines_attributes": [
            {"id": 1, "quantity": 3, "rate": 10000},
            {"id": 2, "quantity": 1, "rate": 10000},
        ],
        "discount_type": {"name": "Value"},
        "discount_unit": 1000,
        "tax_after_discount": True,
    }
    assert [line.invoice_discount_share for line in invoice_totals(invoice, []).lines] == [
        Decimal("750.00"), Decimal("250.00")
    ]  # fmt: skip
    body = {
        "transaction_return_lines_attributes": [{"transaction_line_id": 1, "return_quantity": 1}]
    }
    totals = sales_return_totals(body, invoice, [])
    assert totals.discount_whole == Decimal("250.00")
    assert totals.return_amount == Decimal("9750.00")


def test_a_return_gives_back_the_tax_of_the_returned_lines():
    invoice = {
        "transaction_lines_attributes": [
            {
                "id": 7,
                "quantity": 4,
                "rate": 25000,
                "line_tax": {"id": 1, "name": "PPN", "rate": "11.0"},
            }
        ],
        "discount_type_name": "Percent",
        "discount_unit": 10,
        "tax_after_discount": True,
    }
    body = {
        "transaction_return_lines_attributes": [{"transaction_line_id": 7, "return_quantity": 1}]
    }
    totals = sales_return_totals(body, invoice, [])
    assert totals.discount_whole == Decimal("2500")
    assert totals.returned_tax == Decimal("2475.00")
    assert totals.return_amount == Decimal("24975.00")


def test_unknown_taxes_discount_types_and_lines_are_refused():
    with pytest.raises(ArithmeticInputError, match="unknown tax"):
        invoice_totals({"transaction_lines_attributes": [{"rate": 1, "line_tax_name": "VAT"}]}, [])
    with pytest.raises(ArithmeticInputError, match="unknown tax id"):
        invoice_totals({"transaction_lines_attributes": [{"rate": 1, "line_tax_id": 99}]}, TAXES)
    with pytest.raises(ArithmeticInputError, match="Percent or Value"):
        invoice_totals({"transaction_lines_attributes": [], "discount_type_name": "fixed"}, [])
    with pytest.raises(ArithmeticInputError, match="no line 9"):
        sales_return_totals(
            {"transaction_return_lines_attributes": [{"transaction_line_id": 9}]},
            {"transaction_lines_attributes": [{"id": 1, "quantity": 1, "rate": 1}]},
            [],
        )


@pytest.mark.parametrize("raw", [True, "abc", "NaN", [1], {"a": 1}])
def test_malformed_numbers_are_refused(raw: object):
    with pytest.raises(ArithmeticInputError):
        to_decimal(raw, "rate")


def test_money_converts_through_str_so_floats_keep_their_printed_value():
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal("400.0") == Decimal("400")
    assert to_decimal(None) == 0
    assert decimal_string(Decimal("10692000")) == "10692000.0"
    assert decimal_string(Decimal("200000.00016")) == "200000.00016"
    assert decimal_string(Decimal("1E+3")) == "1000.0"


@given(
    total=st.decimals(min_value=0, max_value=10**9, places=2),
    weights=st.lists(st.decimals(min_value=1, max_value=10**8, places=2), min_size=1, max_size=8),
)
def test_discount_shares_always_add_up_to_the_discount(total: Decimal, weights: list[Decimal]):
    shares = spread_pro_rata(total, weights)
    assert sum(shares) == total
    assert all(share == share.quantize(Decimal("0.01")) for share in shares[:-1])
