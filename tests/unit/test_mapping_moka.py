"""Reading Moka v3 payments: Decimal money, refunds as positive magnitudes, and the checks that
stop a payment whose totals and rows disagree — the official example first."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from domain.jurnal_arithmetic import Tax, invoice_totals, sales_return_totals
from domain.mapping import JurnalDocument, JurnalRefs, documents_for_payment
from domain.mapping.errors import InconsistentPayment, UnsupportedPayment
from domain.mapping.moka import read_payment
from domain.mapping.preview import posted_on_paper
from domain.mapping.setting import default_setting
from tests.moka_sales import sync

EXAMPLE = (
    Path(__file__).parents[1]
    / "fixtures"
    / "moka_examples"
    / "get_v3_outlets_reports_get_latest_transactions.200.json"
)
SETTING = default_setting("4522")


def official() -> dict:
    return json.loads(EXAMPLE.read_text())["data"]["payments"][0]


def repaired() -> dict:
    """The official example with the rows made to agree with its headers (reference §9.2): one
    35 % tax and two service charges (25 % and 15 %) on the subtotal, on the sale and, negated,
    on its full refund."""
    payment = copy.deepcopy(official())
    for sign, holder in ((1, payment), (-1, payment["payment_refunds"][0])):
        holder["payment_taxes"][0].update(
            amount=35.0, taxable_amount=sign * 52600.0, total=sign * 18410.0
        )
        frea = holder["payment_gratuities"][0]
        holder["payment_gratuities"] = [
            frea,
            {**frea, "uuid": f"{frea['uuid'][:-1]}9", "name": "Service", "amount": 15.0,
             "total": sign * 7890.0, "gratuity_id": 172881},
        ]  # fmt: skip
    return payment


def test_the_official_example_is_refused_naming_every_total_its_rows_contradict():
    with pytest.raises(InconsistentPayment) as refused:
        documents_for_payment(official(), SETTING, JurnalRefs())
    message = refused.value.message
    assert "Moka receipt 6H7DDA1 does not add up" in message
    assert "taxes vs the tax rows: 18410 vs 7364" in message
    assert "service charges vs the service-charge rows: 21040 vs 13150" in message
    assert "Correct the sale in Moka" in message


def test_the_official_example_with_consistent_rows_totals_92000_with_tax_18410_and_refunds_it():
    payment = repaired()
    planned = sync(payment, SETTING)
    assert [d.kind for d in planned] == [
        "sales_invoice",
        "receive_payment",
        "sales_return",
        "customer_credit_memo_refund",
    ]
    invoice = planned[0]
    assert isinstance(invoice, JurnalDocument)
    taxes = [Tax(1, "Tax", Decimal(35))]

    totals = invoice_totals(invoice.body["sales_invoice"], taxes)
    assert totals.original_amount == Decimal(92000)
    assert totals.tax_amount == Decimal(18410)
    lines = invoice.body["sales_invoice"]["transaction_lines_attributes"]
    # 11,400 of 64,000 is 17.8125 % off the item (62,000) and its modifier (2,000).
    assert [(x["rate"], x.get("discount")) for x in lines[:2]] == [
        ("62000", "17.8125"),
        ("2000", "17.8125"),
    ]
    assert [x["rate"] for x in lines[2:]] == ["13150", "7890"]
    assert invoice.body["sales_invoice"]["discount_unit"] == "50"

    refund = planned[2]
    assert isinstance(refund, JurnalDocument)
    returned = sales_return_totals(refund.body["sales_return"], posted_on_paper(invoice), taxes)
    assert (returned.return_amount, returned.returned_tax) == (Decimal(92000), Decimal(18410))


def test_money_is_read_exactly_and_refunds_as_positive_magnitudes():
    payment = read_payment(repaired())
    assert payment.totals.collected == Decimal(92000)
    assert payment.totals.rounding == Decimal(-50)
    assert payment.totals.lines[0].modifiers[0].net == Decimal("1643.75")
    [refund] = payment.refunds
    assert refund.totals.collected == Decimal(92000)
    assert refund.totals.rounding == Decimal(-50)
    assert refund.totals.lines[0].quantity == 1
    assert refund.totals.lines[0].net == Decimal(52600)
    assert refund.totals.lines[0].modifiers[0].gross == Decimal(1000)
    assert refund.refund_type == "full" and refund.reason == "Cancelled Order"
    assert payment.business_date.isoformat() == "2022-10-20"


def test_a_line_whose_net_is_not_its_gross_less_its_discount_is_refused():
    payment = repaired()
    payment["checkouts"][0]["net_sales"] = 52000.0
    with pytest.raises(InconsistentPayment, match="line 'Ice Cappucino' net: 52000 vs 52600"):
        read_payment(payment)


def test_a_total_that_is_not_subtotal_plus_charges_taxes_and_rounding_is_refused():
    payment = repaired()
    payment["total_collected"] = 92050
    with pytest.raises(InconsistentPayment, match="total_collected vs subtotal"):
        read_payment(payment)


def test_a_refund_of_a_line_the_sale_does_not_have_is_refused():
    payment = repaired()
    payment["payment_refunds"][0]["checkouts"][0]["parent_checkout_uuid"] = "nope"
    with pytest.raises(InconsistentPayment, match="not a line of the sale"):
        read_payment(payment)


def test_an_invoice_amount_due_leaves_its_rounding_out():
    # reference §9.2 item 6: the official invoice rounds its whole amount due away.
    payment = repaired()
    payment.update(payment_type="invoice", total_collected=0, total_rounding_amount=-92050)
    payment["payment_refunds"] = []
    assert read_payment(payment).totals.collected == Decimal(92050)


def test_money_that_is_not_a_number_is_refused():
    payment = repaired()
    payment["subtotal"] = "lots"
    with pytest.raises(UnsupportedPayment, match="'subtotal' is not a number"):
        read_payment(payment)


def test_a_line_discounted_below_zero_is_refused():
    payment = repaired()
    payment["payment_refunds"] = []
    checkout = payment["checkouts"][0]
    checkout.update(discount_amount=70000.0, net_sales=-6000.0)
    payment.update(discounts=70000, subtotal=-6000, total_collected=33400)
    with pytest.raises(InconsistentPayment, match="discounted below zero"):
        read_payment(payment)


def test_lines_without_their_own_uuid_are_refused():
    payment = repaired()
    payment["checkouts"][0]["modifiers"][0]["uuid"] = None
    with pytest.raises(UnsupportedPayment, match="without their own UUID"):
        read_payment(payment)
