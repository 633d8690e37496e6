"""Later payments of an invoice inferred from `/v3/reports/invoices` rows (reference §8.5)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from clients.moka.invoices import carry_inferred, shows_money_in, with_invoice_payments

CREATED = "2026-11-20T10:00:00.000000+07:00"
NOTICED = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def invoice(records=None, updated_at=CREATED):
    return {
        "id": "inv-1",
        "payment_type": "invoice",
        "subtotal": Decimal(90000),
        "gratuities": Decimal(0),
        "taxes": Decimal(10000),
        "invoice_deposit_amount": Decimal(20000),
        "invoice_payment_records": records if records is not None else [],
        "updated_at": updated_at,
    }


def row(status="unpaid", amount_pay=0, updated_at="2026-11-20T10:00:00.000+07:00"):
    return {
        "id": "inv-1",
        "invoice_status": status,
        "amount_pay": amount_pay,
        "updated_at": updated_at,
    }


def amounts(payment):
    return [r["amount"] for r in payment["invoice_payment_records"]]


def test_an_unpaid_row_with_nothing_paid_changes_nothing():
    assert not shows_money_in(row())
    assert with_invoice_payments(invoice(), row()) is None


def test_a_change_to_paid_without_records_is_one_payment_of_what_was_owed():
    paid_at = "2026-11-22T15:30:00.123+07:00"
    found = with_invoice_payments(invoice(), row("paid", updated_at=paid_at), noticed_at=NOTICED)
    assert found is not None and amounts(found) == [Decimal(80000)]  # due 100000 − deposit
    record = found["invoice_payment_records"][0]
    assert record["inferred"] and record["payment_type"] == "invoice"
    assert record["created_at"] == paid_at == found["updated_at"]
    # Seeing the same state again infers the same record.
    again = with_invoice_payments(invoice(), row("paid", updated_at=paid_at))
    assert (
        again is not None and again["invoice_payment_records"] == found["invoice_payment_records"]
    )


def test_where_moka_does_not_move_updated_at_the_payment_is_dated_when_noticed():
    found = with_invoice_payments(invoice(), row("paid"), noticed_at=NOTICED)
    assert found is not None and found["updated_at"] == CREATED
    assert found["invoice_payment_records"][0]["created_at"] == NOTICED.isoformat()


def test_partial_payments_add_only_the_difference_and_keep_what_was_inferred_before():
    first = with_invoice_payments(invoice(), row(amount_pay=30000), noticed_at=NOTICED)
    assert first is not None and amounts(first) == [Decimal(30000)]
    # Moka's copy never carries our inferred record; the log's version does.
    second = with_invoice_payments(invoice(), row("paid", amount_pay=80000), held=first)
    assert second is not None and amounts(second) == [Decimal(30000), Decimal(50000)]
    uuids = [r["uuid"] for r in second["invoice_payment_records"]]
    assert len(set(uuids)) == 2 and uuids[0] == first["invoice_payment_records"][0]["uuid"]
    # Nothing new: the log's version already holds it all.
    assert with_invoice_payments(second, row("paid", amount_pay=80000), held=second) is None


def test_records_moka_shows_are_trusted_as_they_are():
    shown = [{"uuid": "r1", "amount": Decimal(80000), "payment_type": "cash"}]
    assert with_invoice_payments(invoice(shown), row("paid", amount_pay=80000)) is None


def test_moka_s_own_copy_of_a_later_version_keeps_the_payments_inferred_before():
    first = with_invoice_payments(invoice(), row(amount_pay=30000), noticed_at=NOTICED)
    later_copy = invoice(updated_at="2026-11-23T09:00:00.000000+07:00")  # a correction at the till
    kept = carry_inferred(later_copy, first)
    assert amounts(kept) == [Decimal(30000)] and kept["updated_at"] == later_copy["updated_at"]
    assert carry_inferred(later_copy, None) == later_copy
