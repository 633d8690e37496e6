"""Money in: a paid sale's receive payment with its bucket's account, method and tag; an unpaid
invoice with its due date and deposit, and each later payment as a receive payment."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from domain.jurnal_arithmetic import invoice_totals
from domain.mapping import JurnalDocument, JurnalRefs, Unmappable, documents_for_payment
from domain.mapping.buckets import bucket_key
from domain.mapping.errors import PaymentAccountMissing
from domain.mapping.setting import PaymentAccount, default_setting
from tests.moka_sales import ES_TEH, NASI, PB1, Till, assert_exact, company_taxes, line, sync

SETTING = replace(
    default_setting("4522"),
    tag="Jaksel",
    payment_accounts={
        "cash": PaymentAccount("Kas Outlet", "Tunai"),
        "edc": PaymentAccount("Bank BCA", "EDC"),
        "gift_card": PaymentAccount("Titipan Gift Card"),
        "ovo": PaymentAccount("Saldo OVO", "OVO"),
        "tcash": PaymentAccount("Saldo GoPay", "QRIS"),
        "other": PaymentAccount("Bank Mandiri"),
    },
)
MEMBER = {"id": 77, "name": "San", "phone": "", "email": ""}


@pytest.mark.parametrize(
    ("code", "bucket"),
    [
        ("cash", "cash"),
        ("card", "edc"),
        ("edc", "edc"),
        ("gift_card", "gift_card"),
        ("ovo", "ovo"),
        ("gopay", "tcash"),
        ("tcash", "tcash"),
        ("other", "other"),
        ("dana", "other"),
    ],
)
def test_each_moka_payment_type_falls_in_its_bucket_and_unknown_ones_in_lain_lain(code, bucket):
    assert bucket_key(code) == bucket


def test_a_paid_sale_is_received_into_its_bucket_account_with_method_and_tags():
    sale = Till().sell([line(ES_TEH), line(NASI)], payment_type="gopay")
    invoice, payment = sync(sale, SETTING)

    body = payment.body["receive_payment"]
    assert payment.custom_id == f"moka-4522-payment-{sale['id']}"
    assert body["records_attributes"] == [
        {"transaction_no": "DRY-RUN", "amount": str(sale["total_collected"])}
    ]
    assert body["deposit_to_name"] == "Saldo GoPay"
    assert body["payment_method_name"] == "TCASH/GoPay/QRIS"
    assert body["tags"] == ["Jaksel", "QRIS"]
    assert body["person_name"] == invoice.body["sales_invoice"]["person_name"]
    assert body["transaction_date"] == "2026-03-02"
    assert invoice.body["sales_invoice"]["tags"] == ["Jaksel", "QRIS"]


def test_a_bucket_without_an_account_fails_the_payment_but_not_the_sale():
    setting = replace(SETTING, payment_accounts={"cash": PaymentAccount("Kas")})
    sale = Till().sell([line(ES_TEH)], payment_type="ovo")
    invoice, payment = sync(sale, setting)

    assert isinstance(invoice, JurnalDocument)
    assert isinstance(payment, Unmappable) and isinstance(payment.error, PaymentAccountMissing)
    assert "'OVO'" in payment.error.message


def test_an_unpaid_invoice_is_open_until_its_due_date_and_each_later_payment_is_received():
    till = Till()
    sale = till.sell([line(NASI, 4)], payment_type="invoice", customer=MEMBER)
    first = till.pay_invoice(sale, Decimal(50000), "cash", days=2)
    second = till.pay_invoice(sale, None, "card", days=5)
    invoice, *payments = sync(sale, SETTING)

    body = invoice.body["sales_invoice"]
    assert body["due_date"] == "2026-03-09" and body["transaction_date"] == "2026-03-02"
    assert "deposit" not in body
    assert body["tags"] == ["Jaksel"]
    assert f"invoice {sale['invoice_no']}" in body["memo"]
    assert [p.custom_id for p in payments] == [
        f"moka-4522-payment-{first['uuid']}",
        f"moka-4522-payment-{second['uuid']}",
    ]
    assert [p.body["receive_payment"]["deposit_to_name"] for p in payments] == [
        "Kas Outlet",
        "Bank BCA",
    ]
    assert [p.body["receive_payment"]["transaction_date"] for p in payments] == [
        "2026-03-04",
        "2026-03-07",
    ]
    paid = sum(
        (Decimal(p.body["receive_payment"]["records_attributes"][0]["amount"]) for p in payments),
        Decimal(0),
    )
    assert paid == invoice_totals(body, company_taxes(SETTING, PB1)).original_amount
    assert_exact(sale, [invoice, *payments], company_taxes(SETTING, PB1))


def test_an_invoice_deposit_is_paid_into_the_cash_account_inside_the_invoice():
    sale = Till().sell([line(NASI, 4)], payment_type="invoice", customer=MEMBER)
    sale["invoice_deposit_amount"] = 20000
    body = sync(sale, SETTING)[0].body["sales_invoice"]
    assert (body["deposit"], body["deposit_to_name"]) == ("20000", "Kas Outlet")
    totals = invoice_totals(body, company_taxes(SETTING, PB1))
    assert totals.remaining == totals.original_amount - 20000


def test_an_unpaid_invoice_without_payments_has_no_receive_payment():
    sale = Till().sell([line(NASI)], payment_type="invoice", customer=MEMBER)
    assert [d.kind for d in sync(sale, SETTING)] == ["sales_invoice"]


def test_a_payment_names_the_customer_of_the_posted_invoice_by_its_jurnal_id():
    sale = Till().sell([line(ES_TEH)], payment_type="cash")
    invoice = sync(sale, SETTING)[0]
    posted = {
        **invoice.body["sales_invoice"],
        "id": 7020125,
        "transaction_no": "10001",
        "person": {"id": 338, "display_name": "Pelanggan Umum"},
    }
    refs = JurnalRefs().with_invoice(invoice.custom_id, {"sales_invoice": posted})
    payment = documents_for_payment(sale, SETTING, refs)[1].body["receive_payment"]
    assert payment["person_id"] == 338 and "person_name" not in payment
    assert payment["records_attributes"][0]["transaction_no"] == "10001"


@pytest.mark.parametrize(
    ("jurnal_total_off", "paid_off"),
    [(Decimal("-0.01"), Decimal("-0.01")), (Decimal("-1"), Decimal(0)), (Decimal(0), Decimal(0))],
)
def test_a_paid_sale_pays_jurnals_total_where_jurnal_rounded_it_some_sen_below(
    jurnal_total_off, paid_off
):
    """Jurnal refuses a payment above an invoice's balance; a sen below Moka's is Jurnal's
    rounding (the invoice's own check shows a rupiah), so the payment follows Jurnal."""
    from domain.mapping.preview import posted_on_paper

    sale = Till().sell([line(NASI, 2)], payment_type="cash")
    collected = Decimal(str(sale["total_collected"]))
    invoice = documents_for_payment(sale, SETTING, JurnalRefs())[0]
    posted = {**posted_on_paper(invoice), "original_amount": str(collected + jurnal_total_off)}
    planned = documents_for_payment(
        sale, SETTING, JurnalRefs().with_invoice(invoice.custom_id, posted)
    )
    payment = next(d for d in planned if d.kind == "receive_payment")
    [record] = payment.body["receive_payment"]["records_attributes"]
    assert Decimal(record["amount"]) == collected + paid_off
