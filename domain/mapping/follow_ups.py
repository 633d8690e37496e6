"""The documents that follow a payment's invoice, known without asking Jurnal.

A payment's receive payments and sales returns are only planned once its invoice is posted
(`sale`), because their bodies refer to the invoice's Jurnal number and lines; a refund's money
and adjustment once its return is posted. Their custom ids, though, depend on Moka alone (whether
a refund needs an adjustment too: `sale.predicted_adjustments`), so the engine can tell whether
anything is left to post for a payment before it spends a Jurnal call on fetching the invoice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.mapping.moka import ZERO, read_payment
from domain.mapping.payments import payment_custom_id
from domain.mapping.refunds import adjustment_custom_id, money_back_custom_id
from domain.mapping.returns import return_custom_id
from domain.mapping.sale import predicted_adjustments
from domain.mapping.setting import MappingSetting


def follow_up_custom_ids(
    payment: Mapping[str, Any], setting: MappingSetting
) -> list[tuple[str, str]]:
    """(kind, custom id) of each receive payment, sales return, money paid back and rounding
    adjustment the payment will need, in posting order."""
    sale = read_payment(payment)
    paid: list[tuple[str, Any]] = (
        [(record.uuid, record.amount) for record in sale.invoice_records]
        if sale.is_invoice
        else [(sale.id, sale.totals.collected)]
    )
    follow_ups = [
        ("receive_payment", payment_custom_id(setting, moka_id))
        for moka_id, amount in paid
        if amount > ZERO
    ]
    adjusted = predicted_adjustments(sale, setting)
    for refund in sale.refunds:
        follow_ups.append(("sales_return", return_custom_id(setting, refund.uuid)))
        if sale.is_invoice or refund.totals.collected <= ZERO:
            continue
        follow_ups.append(
            ("customer_credit_memo_refund", money_back_custom_id(setting, refund.uuid))
        )
        if refund.uuid in adjusted:
            follow_ups.append(("journal_entry", adjustment_custom_id(setting, refund.uuid)))
    return follow_ups
