"""Later payments of unpaid invoices, read from `/v3/reports/invoices` (reference §8.5).

How Moka records the payment of an invoice is undocumented. What the reference gives is the
invoice row's `invoice_status` (`"unpaid"`; `"paid"` likely) and `amount_pay`. Payment records
(`invoice_payment_records` on the v3 payment, `payment_records` on the invoice detail) are the
sandbox's invention and may never come. So:

- records that Moka shows are taken as they are (each its own receive payment);
- where the row shows more money in than the records account for — a change to `paid`, or a
  higher `amount_pay` (a partial payment, where Moka shows it) — the v3 payment gets an
  *inferred* record for the difference, with an id derived from the invoice and the amount paid
  so far, so that seeing the same state again infers the same record. Its method is unknown:
  `payment_type` "invoice" (the Lain-lain bucket), `inferred: true`.

The result is a newer version of the v3 payment (its `updated_at` the row's, if later), which
the log stores as a new revision and the engine posts like any invoice payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID, uuid5

Json = dict[str, Any]
ZERO = Decimal(0)
INFERRED_RECORDS = UUID("4b1d6f3e-8f0c-5a8e-9c41-0d7d3f6a2b15")


def invoice_is_settled(row: Mapping[str, Any]) -> bool:
    return str(row.get("invoice_status") or "").strip().lower() == "paid"


def shows_money_in(row: Mapping[str, Any]) -> bool:
    """Whether the invoice row shows any payment at all (paid, or something paid)."""
    return invoice_is_settled(row) or _money(row.get("amount_pay")) > ZERO


def with_invoice_payments(
    payment: Mapping[str, Any],
    row: Mapping[str, Any],
    held: Mapping[str, Any] | None = None,
    noticed_at: datetime | None = None,
) -> Json | None:
    """`payment` (as Moka shows it now) brought up to what the invoice `row` shows, keeping the
    records inferred before (from `held`, the version the log holds: Moka's own copy never has
    them); None when nothing is new. An inferred payment is dated by the row's `updated_at`
    when Moka moved it, else by `noticed_at` (when the pull saw it)."""
    records, carried = _with_carried(payment, held)
    recorded = sum((_money(r.get("amount")) for r in records), ZERO)
    paid = _money(row.get("amount_pay"))
    if invoice_is_settled(row):
        due = sum((_money(payment.get(k)) for k in ("subtotal", "gratuities", "taxes")), ZERO)
        paid = max(paid, due - _money(payment.get("invoice_deposit_amount")))
    if paid <= recorded:
        return {**payment, "invoice_payment_records": records} if carried else None
    seen_at = _later(str(payment["updated_at"]), str(row.get("updated_at") or ""))
    paid_at = seen_at
    if seen_at == str(payment["updated_at"]) and noticed_at is not None:
        paid_at = noticed_at.isoformat()
    record = {
        "uuid": str(uuid5(INFERRED_RECORDS, f"{payment['id']}:{paid.normalize():f}")),
        "payment_type": "invoice",
        "payment_type_label": "Invoice",
        "amount": paid - recorded,
        "created_at": paid_at,
        "inferred": True,
    }
    return {**payment, "invoice_payment_records": [*records, record], "updated_at": seen_at}


def carry_inferred(payment: Mapping[str, Any], held: Mapping[str, Any] | None) -> Json:
    """`payment` as Moka shows it, plus the records inferred earlier (from `held`, the version
    the log holds): a copy without them would hide money already posted as received."""
    records, carried = _with_carried(payment, held)
    return {**payment, "invoice_payment_records": records} if carried else dict(payment)


def _with_carried(
    payment: Mapping[str, Any], held: Mapping[str, Any] | None
) -> tuple[list[Any], list[Any]]:
    records = list(payment.get("invoice_payment_records") or [])
    shown = {r.get("uuid") for r in records}
    carried = [
        r
        for r in (held or {}).get("invoice_payment_records") or []
        if r.get("inferred") and r.get("uuid") not in shown
    ]
    return records + carried, carried


def _later(first: str, second: str) -> str:
    try:
        if second and datetime.fromisoformat(second) > datetime.fromisoformat(first):
            return second
    except ValueError:
        pass
    return first


def _money(value: Any) -> Decimal:
    if value in (None, ""):
        return ZERO
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return ZERO
