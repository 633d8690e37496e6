"""A Moka sale as one Jurnal sales invoice: lines, discounts, taxes, service charges, rounding,
customers, tags and references — and Jurnal's arithmetic totals it to what Moka collected."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from domain.jurnal_arithmetic import Tax, invoice_totals, line_tax_amount
from domain.mapping import JurnalDocument, JurnalRefs, documents_for_payment
from domain.mapping.errors import (
    BeforeSyncWindow,
    CustomerNotSynced,
    NotExpressible,
    ProductNotSynced,
    TaxNotInJurnal,
    TaxRateMismatch,
    UnsupportedPayment,
)
from domain.mapping.setting import PaymentAccount, SettingValues, default_setting
from sandbox.moka.pricing import Discount, Rounding
from tests.moka_sales import (
    BOBA,
    ES_TEH,
    KEJU,
    KOPI,
    LEVY,
    NASI,
    PB1,
    SERVICE,
    Till,
    assert_exact,
    company_taxes,
    line,
    sync,
)

SETTING = default_setting("4522")
HAPPY_HOUR = Discount(11, "Happy Hour", "percentage", Decimal(10))
VOUCHER = Discount(12, "Voucher 10rb", "cash", Decimal(10000))


def invoice_of(payment: dict, setting: SettingValues = SETTING, refs: JurnalRefs | None = None):
    documents = documents_for_payment(payment, setting, refs or JurnalRefs())
    assert isinstance(documents[0], JurnalDocument) and documents[0].kind == "sales_invoice"
    return documents[0].body["sales_invoice"]


def lines_of(invoice: dict) -> list[dict]:
    return invoice["transaction_lines_attributes"]


def test_a_plain_cash_sale_is_one_line_per_item_taxed_and_totalling_what_moka_collected():
    sale = Till().sell([line(ES_TEH, 2), line(NASI)], rounding=False)
    invoice = invoice_of(sale)

    assert [(x["product_custom_id"], x["quantity"], x["rate"]) for x in lines_of(invoice)] == [
        ("moka-4522-variant-1010", 2, "8000"),
        ("moka-4522-variant-1030", 1, "35000"),
    ]
    assert all(x["line_tax_name"] == "PB1" for x in lines_of(invoice))
    totals = invoice_totals(invoice, company_taxes(SETTING, PB1))
    assert totals.original_amount == Decimal(sale["total_collected"]) == Decimal(56100)
    assert totals.tax_amount == Decimal(5100)


def test_modifier_options_are_lines_of_their_own_and_the_item_line_keeps_only_its_own_price():
    sale = Till().sell([line(KOPI, 2, BOBA, KEJU)], rounding=False)
    invoice = invoice_of(sale)

    assert [(x["product_custom_id"], x["quantity"], x["rate"]) for x in lines_of(invoice)] == [
        ("moka-4522-variant-1020", 2, "23500"),
        ("moka-4522-option-9001", 2, "5000"),
        ("moka-4522-option-9002", 2, "3500"),
    ]
    assert lines_of(invoice)[1]["description"] == "Topping - Boba (Kopi Susu)"
    assert_exact(sale, sync(sale, SETTING), company_taxes(SETTING, PB1))


def test_item_and_bill_discounts_become_the_line_discount_percentage_of_each_moka_line():
    sale = Till().sell(
        [line(KOPI, 1, BOBA, discounts=[HAPPY_HOUR]), line(NASI, 3)],
        bill_discounts=[VOUCHER],
        rounding=False,
    )
    invoice = invoice_of(sale)
    kopi, boba, nasi = lines_of(invoice)

    # One percentage per Moka line, carried by its modifiers too (Moka splits it in proportion).
    assert kopi["discount"] == boba["discount"]
    assert Decimal(kopi["discount"]) > 10 and Decimal(nasi["discount"]) > 0
    totals = invoice_totals(invoice, company_taxes(SETTING, PB1))
    moka_nets = [Decimal(str(c["net_sales"])) for c in sale["checkouts"]]
    assert abs(totals.lines[0].amount + totals.lines[1].amount - moka_nets[0]) < Decimal("1e-6")
    assert abs(totals.lines[2].amount - moka_nets[1]) < Decimal("1e-6")
    assert totals.original_amount == Decimal(str(sale["total_collected"]))


def test_cash_rounded_down_is_a_value_discount_that_leaves_every_line_tax_alone():
    sale = Till().sell([line(KOPI), line(ES_TEH)], taxes=[PB1, LEVY])
    assert sale["total_rounding_amount"] < 0
    invoice = invoice_of(sale)

    assert invoice["tax_after_discount"] is False
    assert invoice["discount_type_name"] == "Value"
    assert Decimal(invoice["discount_unit"]) == -Decimal(str(sale["total_rounding_amount"]))
    totals = invoice_totals(invoice, company_taxes(SETTING, PB1, LEVY))
    assert totals.original_amount == Decimal(sale["total_collected"])
    assert totals.tax_amount == Decimal(str(sale["taxes"]))


def test_cash_rounded_up_is_an_untaxed_rounding_line():
    sale = Till(rounding=Rounding(mode="up")).sell([line(KOPI), line(ES_TEH)])
    assert sale["total_rounding_amount"] > 0
    invoice = invoice_of(sale)

    rounding = lines_of(invoice)[-1]
    assert rounding["product_custom_id"] == "moka-4522-rounding"
    assert Decimal(rounding["rate"]) == Decimal(str(sale["total_rounding_amount"]))
    assert "line_tax_name" not in rounding
    assert "discount_unit" not in invoice
    assert_exact(sale, sync(sale, SETTING), company_taxes(SETTING, PB1))


@pytest.mark.parametrize("taxed", [False, True])
def test_a_service_charge_is_its_own_line_taxed_only_when_moka_taxes_it(taxed: bool):
    sale = Till().sell(
        [line(NASI, 2)], gratuities=[SERVICE], include_gratuity_tax=taxed, rounding=False
    )
    charge = lines_of(invoice_of(sale))[-1]

    assert charge["product_custom_id"] == "moka-4522-gratuity-592604"
    assert Decimal(charge["rate"]) == Decimal(str(sale["gratuities"])) == Decimal(5250)
    assert ("line_tax_name" in charge) is taxed
    assert_exact(sale, sync(sale, SETTING), company_taxes(SETTING, PB1))


def test_two_moka_taxes_on_one_sale_are_one_combined_jurnal_tax_with_moka_total_tax():
    sale = Till().sell([line(KOPI, 3), line(NASI)], taxes=[PB1, LEVY], rounding=False)
    invoice = invoice_of(sale)

    assert {x["line_tax_name"] for x in lines_of(invoice)} == {"PB1 + Retribusi"}
    taxes = company_taxes(SETTING, PB1, LEVY)
    assert invoice_totals(invoice, taxes).tax_amount == Decimal(str(sale["taxes"]))
    assert_exact(sale, sync(sale, SETTING), taxes)


def test_a_sale_without_taxes_has_untaxed_lines():
    sale = Till().sell([line(ES_TEH)], taxes=[], rounding=False)
    assert all("line_tax_name" not in x for x in lines_of(invoice_of(sale)))


def test_jurnal_per_line_tax_rounding_is_brought_back_to_moka_tax_when_they_straddle_a_rupiah():
    taxes = company_taxes(SETTING, PB1, LEVY)
    products = [
        {**ES_TEH, "id": 200 + i, "item_variants": [{"id": 2000 + i, "name": "", "price": p}]}
        for i, p in enumerate([13500, 17833, 6833])
    ]
    sale = Till().sell(
        [line(products[0], 2), line(products[1], 3), line(products[2], 1)],
        taxes=[PB1, LEVY],
        bill_discounts=[VOUCHER],
        rounding=False,
    )
    # Jurnal's tax of Moka's own line nets, each rounded to the sen: 9666.49, one rupiah short.
    per_line = sum(
        (
            line_tax_amount(Decimal(str(c["net_sales"])), taxes[-1], inclusive=False)
            for c in sale["checkouts"]
        ),
        Decimal(0),
    )
    assert (per_line, Decimal(str(sale["taxes"]))) == (Decimal("9666.49"), Decimal("9666.5"))

    invoice = invoice_of(sale)
    totals = invoice_totals(invoice, taxes)
    assert totals.tax_amount == Decimal("9666.50")
    assert totals.original_amount == Decimal(str(sale["total_collected"]))
    assert abs(totals.base - Decimal(str(sale["subtotal"]))) < 1


def test_lines_worth_nothing_are_left_out_and_a_free_sale_makes_no_documents():
    free = Discount(13, "Gratis", "percentage", Decimal(100))
    sale = Till().sell([line(ES_TEH, 1, discounts=[free]), line(NASI)], rounding=False)
    assert [x["product_custom_id"] for x in lines_of(invoice_of(sale))] == [
        "moka-4522-variant-1030"
    ]
    nothing = Till().sell([line(ES_TEH, 1, discounts=[free])], rounding=False)
    assert documents_for_payment(nothing, SETTING, JurnalRefs()) == []


def test_walk_in_sales_go_to_the_default_customer_and_members_to_their_jurnal_name():
    till = Till()
    walk_in = till.sell([line(ES_TEH)])
    member = till.sell([line(ES_TEH)], customer={"id": 77, "name": "San", "phone": "", "email": ""})
    refs = JurnalRefs(customer_names={77: "San (77)"})

    assert invoice_of(walk_in, refs=refs)["person_name"] == "Pelanggan Umum"
    assert invoice_of(member, refs=refs)["person_name"] == "San (77)"
    with pytest.raises(CustomerNotSynced, match="master-data sync"):
        invoice_of(member, refs=JurnalRefs(customer_names={}))


def test_header_carries_receipt_number_dates_tags_warehouse_and_a_deterministic_custom_id():
    setting = replace(
        SETTING,
        tag="Outlet Jaksel",
        warehouse="Gudang Jaksel",
        payment_accounts={"cash": PaymentAccount("Kas", tag="Tunai")},
    )
    sale = Till().sell([line(ES_TEH)])
    invoice = invoice_of(sale, setting)

    assert invoice["memo"] == f"Moka {sale['payment_no']} (Cash)"
    assert invoice["reference_no"] == sale["payment_no"]
    assert invoice["transaction_date"] == invoice["due_date"] == "2026-03-02"
    assert invoice["tags"] == ["Outlet Jaksel", "Tunai"]
    assert invoice["warehouse_name"] == "Gudang Jaksel"
    assert invoice["custom_id"] == f"moka-4522-sale-{sale['id']}"
    assert invoice_of(sale, setting) == invoice
    ids = [invoice["custom_id"]] + [x["custom_id"] for x in lines_of(invoice)]
    assert all(set(i) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_") for i in ids)


def test_naming_applies_to_tax_names_but_lines_refer_to_products_by_custom_id():
    setting = replace(SETTING, name_prefix="Outlet Jakarta Selatan")
    invoice = invoice_of(Till().sell([line(ES_TEH)]), setting)
    assert lines_of(invoice)[0]["line_tax_name"] == "Outlet Jakarta Selatan | PB1"
    assert lines_of(invoice)[0]["product_custom_id"] == "moka-4522-variant-1010"


def test_a_product_missing_in_jurnal_fails_unless_the_setting_syncs_by_product_name():
    sale = Till().sell([line(KOPI), line(ES_TEH)])
    refs = JurnalRefs(product_custom_ids=frozenset({"moka-4522-variant-1010"}))

    with pytest.raises(ProductNotSynced, match="Kopi Susu - Large"):
        invoice_of(sale, refs=refs)
    by_name = replace(SETTING, sync_by_product_name=True, name_prefix="Jaksel")
    kopi, teh = lines_of(invoice_of(sale, by_name, refs))
    assert kopi == {**kopi, "product_name": "Jaksel | Kopi Susu - Large"}
    assert "product_custom_id" not in kopi
    assert teh["product_custom_id"] == "moka-4522-variant-1010"


def test_taxes_are_checked_against_the_company_taxes_when_they_are_known():
    sale = Till().sell([line(ES_TEH)], taxes=[PB1, LEVY])
    with pytest.raises(TaxNotInJurnal, match="PB1 \\+ Retribusi"):
        invoice_of(sale, refs=JurnalRefs(taxes=company_taxes(SETTING, PB1)))
    wrong = [Tax(1, "PB1 + Retribusi", Decimal(11))]
    with pytest.raises(TaxRateMismatch, match=r"11% in Jurnal but 12\.5% in Moka"):
        invoice_of(sale, refs=JurnalRefs(taxes=wrong))


def test_a_sale_line_with_a_negative_quantity_is_refused():
    sale = Till().sell([line(ES_TEH)])
    sale["checkouts"][0]["quantity"] = -1
    with pytest.raises(UnsupportedPayment, match="quantity -1"):
        invoice_of(sale)


def test_a_sale_that_collected_money_without_any_line_worth_it_is_not_expressible():
    free = Discount(13, "Gratis", "percentage", Decimal(100))
    sale = Till().sell([line(ES_TEH, 1, discounts=[free])], taxes=[], rounding=False)
    sale["total_collected"] = sale["total_rounding_amount"] = 100
    with pytest.raises(NotExpressible, match="no line worth anything"):
        invoice_of(sale)


def test_a_sale_dated_before_the_month_before_the_start_date_is_not_posted():
    sale = Till().sell([line(ES_TEH)])  # 2 March 2026
    on_the_first_day = replace(SETTING, start_date=date(2026, 4, 2))
    assert invoice_of(sale, on_the_first_day)["transaction_date"] == "2026-03-02"
    with pytest.raises(BeforeSyncWindow, match="before 2026-03-03"):
        invoice_of(sale, replace(SETTING, start_date=date(2026, 4, 3)))
