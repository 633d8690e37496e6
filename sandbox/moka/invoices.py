"""Moka invoices (unpaid sales) and the payments made on them later: what is paid and owed, the
status Moka shows, and `record_invoice_payment`, which records one more payment on the invoice
(a mutation, as Moka moves its `updated_at`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.moka_money import moka_decimal
from domain.moka_payment_types import label_for
from sandbox.moka.formats import iso_us, total
from sandbox.moka.payments import Ids, move_updated_at
from sandbox.moka.pricing import ZERO, cents

Json = dict[str, Any]


class InvoiceError(ValueError):
    """The payment is not an invoice, or the amount exceeds what is still owed."""


def invoice_paid(invoice: Json) -> Decimal:
    return sum((moka_decimal(r["amount"]) for r in invoice["invoice_payment_records"] or []), ZERO)


def invoice_outstanding(invoice: Json) -> Decimal:
    return moka_decimal(invoice["total_collected"]) - invoice_paid(invoice)


def record_invoice_payment(
    invoice: Json, ids: Ids, *, amount: Decimal | None, payment_type: str, at: datetime
) -> Json:
    """Pay an invoice, wholly (`amount` None) or in part: a record is appended to
    `invoice_payment_records` (a sandbox invention, §8.5), `tendered` follows the amount paid so
    far and `updated_at` moves. Returns the record."""
    if invoice["payment_type"] != "invoice":
        raise InvoiceError(f"payment {invoice['id']} is not an invoice")
    outstanding = invoice_outstanding(invoice)
    amount = outstanding if amount is None else cents(amount)
    if amount <= 0 or amount > outstanding:
        raise InvoiceError(
            f"invoice {invoice['invoice_no']} has {outstanding} outstanding, cannot take {amount}"
        )
    record = {
        "uuid": ids.uuid(),
        "payment_type": payment_type,
        "payment_type_label": label_for(payment_type),
        "amount": total(amount),
        "created_at": iso_us(at),
    }
    invoice["invoice_payment_records"].append(record)
    invoice["tendered"] = total(invoice_paid(invoice))
    invoice["updated_at"] = iso_us(at)
    move_updated_at(invoice)
    return record


def invoice_status(invoice: Json) -> str:
    """`unpaid` until every rupiah is in, then `paid` (other values are undocumented)."""
    return "paid" if invoice_outstanding(invoice) <= 0 else "unpaid"
