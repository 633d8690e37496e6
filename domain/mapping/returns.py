"""Moka refunds as Jurnal sales returns on the sale's posted invoice.

A refund returns, line by line, what it refunds:

- each refunded Moka line returns its quantity of the invoice lines made from it: the item part
  and every modifier option (modifiers come and go with their line);
- a service charge returns the fraction of its invoice line that Moka refunded of it;
- a refund after which nothing of the sale is left (a full refund, or the last partial one)
  returns everything still unreturned, the rounding line included.

Lines are found by their custom ids (see `invoice`), so the posted invoice (from `refs.invoices`)
gives their Jurnal ids. Refunds are planned in the order Moka made them, each one after the ones
before it, so a refund's return is the same whenever it is computed.

Moka rounds each cash refund on its own; Jurnal returns each line with its share of the invoice's
discount and has no rounding of its own. When the return's total then differs from Moka's refund
by a rupiah or more, an untaxed line (an untaxed service charge, the rounding line) is returned a
little more or less to make up the difference, within what is left of it. A refund that has no
such line to make up the difference with cannot be expressed in Jurnal: its entry is a
`RefundNotExpressible`, and so is every later refund of the same sale (what a refund returns
depends on the ones before it). In practice that is a partial refund of a cash sale that Moka
rounded: the return gives back its pro-rata share of the invoice's rounding discount, and Moka
rounds the refund afresh; without an untaxed line no return totals to Moka's refund.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.jurnal_arithmetic import (
    ReturnTotals,
    Tax,
    invoice_lines,
    invoice_totals,
    sales_return_totals,
)
from domain.mapping.errors import EarlierRefundFailed, RefundNotExpressible
from domain.mapping.invoice import charge_line_custom_id, line_custom_id
from domain.mapping.moka import ZERO, Line, Payment, Refund
from domain.mapping.naming import outlet_custom_id, plain_text
from domain.mapping.setting import MappingSetting
from domain.mapping.wire import day, number, quantity, same_rupiah

FRACTION_QUANTUM = Decimal("1e-10")


@dataclass(frozen=True)
class _InvoiceLine:
    id: object
    quantity: Decimal
    taxed: bool
    amount: Decimal  # the line's amount (after its own discount)
    net_per_unit: Decimal  # amount less its share of the invoice discount, per unit


def return_custom_id(setting: MappingSetting, refund_uuid: str) -> str:
    return outlet_custom_id(setting, "refund", refund_uuid)


def plan_returns(
    payment: Payment,
    setting: MappingSetting,
    invoice: Mapping[str, Any],
    table: Sequence[Tax],
) -> list[dict[str, Any] | RefundNotExpressible]:
    """For every refund of `payment`, in order, its sales-return body (with its root) or why it
    cannot be made; a refund after one that cannot be made cannot be made either."""
    lines = _invoice_lines(invoice, table)
    returned: dict[str, Decimal] = {key: ZERO for key in lines}
    planned: list[dict[str, Any] | RefundNotExpressible] = []
    failed: str | None = None
    for refund in payment.refunds:
        if failed is not None:
            planned.append(EarlierRefundFailed(payment.payment_no, failed))
            continue
        wanted = _wanted(payment, refund, setting, lines, returned)
        try:
            body = _settled(payment, refund, setting, invoice, table, lines, returned, wanted)
        except RefundNotExpressible as error:
            failed = refund.uuid
            planned.append(error)
            continue
        for key, units in wanted.items():
            returned[key] += units
        planned.append(body)
    return planned


def _invoice_lines(invoice: Mapping[str, Any], table: Sequence[Tax]) -> dict[str, _InvoiceLine]:
    totals = invoice_totals(invoice, table)
    lines: dict[str, _InvoiceLine] = {}
    for raw, line in zip(invoice_lines(invoice), totals.lines, strict=True):
        key = str(raw.get("custom_id") or "")
        if not key or line.quantity == ZERO:
            continue
        lines[key] = _InvoiceLine(
            id=raw.get("id"),
            quantity=line.quantity,
            taxed=line.tax is not None,
            amount=line.amount,
            net_per_unit=(line.amount - line.invoice_discount_share) / line.quantity,
        )
    return lines


def _wanted(
    payment: Payment,
    refund: Refund,
    setting: MappingSetting,
    lines: Mapping[str, _InvoiceLine],
    returned: Mapping[str, Decimal],
) -> dict[str, Decimal]:
    """Units to return of each invoice line (by custom id), before any making up."""
    sold = {line.uuid: line for line in payment.totals.lines}
    wanted: dict[str, Decimal] = {}
    for refunded in refund.totals.lines:
        for key in _keys_of(setting, sold[refunded.parent_uuid or ""]):
            if key in lines:
                wanted[key] = wanted.get(key, ZERO) + refunded.quantity
    goods = {key for line in sold.values() for key in _keys_of(setting, line) if key in lines}
    closing = all(returned[key] + wanted.get(key, ZERO) >= lines[key].quantity for key in goods)
    for row in refund.totals.gratuity_rows:
        key = charge_line_custom_id(setting, payment.id, row.id)
        if key in lines and not closing:
            share = row.total / lines[key].amount * lines[key].quantity
            wanted[key] = share.quantize(FRACTION_QUANTUM)
    if closing:
        for key, line in lines.items():
            if key not in goods:
                wanted[key] = line.quantity - returned[key]
    return {
        key: min(units, lines[key].quantity - returned[key])
        for key, units in wanted.items()
        if units > ZERO
    }


def _keys_of(setting: MappingSetting, line: Line) -> list[str]:
    return [line_custom_id(setting, line.uuid)] + [
        line_custom_id(setting, modifier.uuid) for modifier in line.modifiers
    ]


def _settled(
    payment: Payment,
    refund: Refund,
    setting: MappingSetting,
    invoice: Mapping[str, Any],
    table: Sequence[Tax],
    lines: Mapping[str, _InvoiceLine],
    returned: Mapping[str, Decimal],
    wanted: dict[str, Decimal],
) -> dict[str, Any]:
    """The return body, after making up a difference of a rupiah or more with untaxed lines
    (`wanted` is updated to what is returned)."""
    body = _body(payment, refund, setting, invoice, lines, wanted)
    totals = _totals(body, invoice, table)
    target = refund.totals.collected
    for key, line in lines.items():
        if same_rupiah(totals.return_amount, target):
            break
        if line.taxed or line.net_per_unit <= ZERO:
            continue
        now = wanted.get(key, ZERO)
        room = line.quantity - returned[key]
        units = now + (target - totals.return_amount) / line.net_per_unit
        units = min(max(units, ZERO), room).quantize(FRACTION_QUANTUM)
        trial = {**wanted, key: units}
        trial_body = _body(payment, refund, setting, invoice, lines, trial)
        trial_totals = _totals(trial_body, invoice, table)
        if abs(trial_totals.return_amount - target) < abs(totals.return_amount - target):
            wanted.clear()
            wanted.update({k: v for k, v in trial.items() if v > ZERO})
            body, totals = trial_body, trial_totals
    if not same_rupiah(totals.return_amount, target) or not same_rupiah(
        totals.returned_tax, refund.totals.taxes
    ):
        raise RefundNotExpressible(_explain(payment, refund, totals))
    return body


def _explain(payment: Payment, refund: Refund, totals: ReturnTotals) -> str:
    return (
        f"The refund of Moka receipt {payment.payment_no} ({refund.uuid}) paid back "
        f"{number(refund.totals.collected)} with tax {number(refund.totals.taxes)}, but a Jurnal "
        f"sales return of what it refunds comes to {number(totals.return_amount)} with tax "
        f"{number(totals.returned_tax)}: Jurnal cannot round a sales return the way Moka rounded "
        "this cash refund, and the sale has no untaxed line to make up the difference with. "
        "Record the difference in Jurnal by hand (for example as rounding income), or refund "
        "such sales in full."
    )


def _body(
    payment: Payment,
    refund: Refund,
    setting: MappingSetting,
    invoice: Mapping[str, Any],
    lines: Mapping[str, _InvoiceLine],
    wanted: Mapping[str, Decimal],
) -> dict[str, Any]:
    reason = f": {refund.reason}" if refund.reason else ""
    body: dict[str, Any] = {
        "transaction_date": day(refund.created_at.date()),
        "invoice_id": invoice["id"],
        "transaction_return_lines_attributes": [
            {"transaction_line_id": lines[key].id, "return_quantity": quantity(units)}
            for key, units in wanted.items()
            if units > ZERO
        ],
        "memo": plain_text(f"Moka refund {payment.payment_no}{reason}"),
        "custom_id": return_custom_id(setting, refund.uuid),
    }
    if setting.tag:
        body["tags"] = [setting.tag]
    return {"sales_return": body}


def _totals(
    body: Mapping[str, Any], invoice: Mapping[str, Any], table: Sequence[Tax]
) -> ReturnTotals:
    return sales_return_totals(body["sales_return"], invoice, table)
