"""The pure rules of the read models: causes of errors, Moka and Jurnal parts of a day, and the
add-on's summary lines."""

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from projections.history import summary_of
from projections.open_errors import describe_cause, normalise_message
from projections.overview import payment_tags
from projections.queries import format_summary
from projections.reconciliation import Metrics, decimal_text, jurnal_metrics, moka_parts

JAKARTA = ZoneInfo("Asia/Jakarta")
RECEIVED = date(2024, 5, 9)


@pytest.mark.parametrize(
    ("message", "specifics", "cause"),
    [
        ("no deposit account mapped for OVO", (), "no deposit account mapped for OVO"),
        ("Sale P000123: tax 18411 differs.", ("P000123",), "Sale …: tax # differs"),
        ("Jurnal answered 422: Amount  is 10.5", (), "Jurnal answered 422: Amount is #"),
        (
            "customer 4f1c2a9e-0b7d-4d8e-9a51-2c3d4e5f6a7b not found",
            (None,),
            "customer … not found",
        ),
    ],
)
def test_a_cause_keeps_what_items_share_and_drops_what_is_theirs(message, specifics, cause):
    assert normalise_message(message, *specifics) == cause


def test_a_cause_reads_with_its_count_and_kind():
    assert describe_cause("no deposit account mapped for OVO", "sales_invoice", 14) == (
        "no deposit account mapped for OVO (14 sales)"
    )
    assert describe_cause("x", "sales_invoice", 1) == "x (1 sale)"
    assert describe_cause("x", "product", 2) == "x (2 products)"


def sale_record(**fields):
    return {
        "id": "s-1",
        "payment_no": "P1",
        "created_at": "2024-05-01T23:30:00.123456+07:00",
        "payment_type": "cash",
        "subtotal": 80000.0,
        "gratuities": 2000.0,
        "taxes": 10000.0,
        "total_collected": 92000.0,
        "payment_refunds": [],
        **fields,
    }


def test_a_sale_counts_on_its_day_in_jakarta_with_exact_decimals():
    [part] = moka_parts("s-1", sale_record(total_collected=92000.1, taxes=0.1), JAKARTA, RECEIVED)
    assert (part.key, part.sale_id, part.reference) == ("sale:s-1", "s-1", "P1")
    assert part.business_date == date(2024, 5, 1)
    assert part.metrics == Metrics(
        sales=Decimal("92000.1"), taxes=Decimal("0.1"), collected=Decimal("92000.1")
    )
    # The same instant written in UTC is still the 1st in Jakarta.
    [utc] = moka_parts(
        "s-1", sale_record(created_at="2024-05-01T16:30:00+00:00"), JAKARTA, RECEIVED
    )
    assert utc.business_date == date(2024, 5, 1)


def test_refunds_and_invoice_payments_count_on_their_own_days():
    record = sale_record(
        payment_type="invoice",
        invoice_payment_records=[
            {"uuid": "r-1", "amount": 50000.0, "created_at": "2024-05-03T10:00:00+07:00"}
        ],
        payment_refunds=[
            {
                "uuid": "f-1",
                "created_at": "2024-05-04T10:00:00+07:00",
                "total_collected_amount": -46000.0,
                "total_tax_amount": -5000.0,
                "refund_amount": 46000.0,
            }
        ],
    )
    sale, paid, refunded = moka_parts("s-1", record, JAKARTA, RECEIVED)
    assert sale.metrics == Metrics(sales=Decimal(92000), taxes=Decimal(10000))
    assert (paid.key, paid.business_date) == ("invoice_payment:r-1", date(2024, 5, 3))
    assert paid.metrics == Metrics(collected=Decimal(50000))
    assert (refunded.key, refunded.sale_id, refunded.business_date) == (
        "refund:f-1",
        "s-1",
        date(2024, 5, 4),
    )
    assert refunded.metrics == Metrics(
        returns=Decimal(46000), taxes=Decimal(-5000), collected=Decimal(-46000)
    )


def test_an_invoice_that_shows_nothing_collected_is_due_its_subtotal_charges_and_taxes():
    [part] = moka_parts(
        "s-1", sale_record(payment_type="invoice", total_collected=0.0), JAKARTA, RECEIVED
    )
    assert part.metrics.sales == Decimal(92000)
    assert part.metrics.collected == 0


def test_a_refund_sent_as_its_own_payment_belongs_to_its_sale():
    record = {
        "id": "f-1",
        "parent_payment_uuid": "s-1",
        "created_at": "2024-05-02T10:00:00+07:00",
        "total_collected_amount": -92000.0,
        "total_tax_amount": -10000.0,
    }
    [part] = moka_parts("f-1", record, JAKARTA, RECEIVED)
    assert (part.key, part.sale_id) == ("refund:f-1", "s-1")
    assert part.metrics.returns == Decimal(92000)


def test_a_record_without_a_usable_created_at_counts_on_the_day_it_was_received():
    [part] = moka_parts("s-1", sale_record(created_at=None), JAKARTA, RECEIVED)
    assert part.business_date == RECEIVED


def test_jurnal_documents_count_by_their_kind():
    amounts = {"total": "92000", "tax": "10000", "business_date": "2024-05-01"}
    assert jurnal_metrics("sales_invoice", {**amounts, "paid": "92000"}) == Metrics(
        sales=Decimal(92000), taxes=Decimal(10000), collected=Decimal(92000)
    )
    assert jurnal_metrics("sales_invoice", amounts).collected == 0
    # A return moves no money; the money paid back does, and an adjustment moves both.
    assert jurnal_metrics("sales_return", amounts) == Metrics(
        returns=Decimal(92000), taxes=Decimal(-10000)
    )
    assert jurnal_metrics("receive_payment", amounts) == Metrics(collected=Decimal(92000))
    assert jurnal_metrics("customer_credit_memo_refund", amounts) == Metrics(
        collected=Decimal(-92000)
    )
    adjustment = {**amounts, "total": "-34.1", "tax": "0"}
    assert jurnal_metrics("journal_entry", adjustment) == Metrics(
        returns=Decimal("-34.1"), collected=Decimal("34.1")
    )
    assert jurnal_metrics("product", amounts) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [("92000.00", "92000"), ("356.250", "356.25"), ("-0.0", "0"), ("1E+3", "1000")],
)
def test_money_is_written_without_exponent_or_trailing_zeros(value, text):
    assert decimal_text(Decimal(value)) == text


def test_the_summary_lines_read_like_the_add_on():
    summary = summary_of(
        {
            "sales": {"synced": 11, "total": 11},
            "sales_returns": {"synced": 1, "total": 1},
            "payments": {"synced": 11, "total": 11},
            "taxes": {"synced": 2, "total": 2},
        }
    )
    assert list(summary) == ["sales", "sales_returns", "payments", "products", "customers"]
    assert format_summary(summary) == [
        "Penjualan: 11 dari 11",
        "Retur Penjualan: 1 dari 1",
        "Penerimaan Pembayaran: 11 dari 11",
    ]
    master = summary_of(
        {"products": {"synced": 427, "total": 427}, "customers": {"synced": 130, "total": 130}}
    )
    assert format_summary(master) == ["Produk: 427 dari 427", "Pelanggan: 130 dari 130"]
    assert format_summary(master, "en") == ["Products: 427 of 427", "Customers: 130 of 130"]
    with pytest.raises(ValueError):
        format_summary(master, "fr")


def test_payment_account_tags_are_listed_once_by_bucket():
    accounts = {
        "tcash": {"account": "1", "tag": "E-Wallet"},
        "cash": {"account": "2", "tag": None},
        "ovo": {"account": "3", "tag": "E-Wallet"},
        "edc": {"account": "4", "tag": "Kartu"},
    }
    assert payment_tags(accounts) == ["Kartu", "E-Wallet"]
