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

Jurnal rounds each returned line's tax to the sen, Moka each tax of the whole refund; when the two
land on different rupiahs, the returned taxed line that moves least (a service charge returned in
part, else the largest) is returned a hair less or more until the tax is Moka's to the sen. The
same hair settles a return total that is within a rupiah of Moka's refund but on the other side
of a half rupiah (sen-sized leftovers of the invoice, returned pro rata).

Moka rounds each cash refund on its own; Jurnal returns each line with its share of the invoice's
discount and has no rounding of its own. When the return's total then lands on another rupiah
than Moka's refund, an untaxed line (an untaxed service charge, the rounding line) is returned a
little more or less to make up the difference, within what is left of it. In practice what is
still off is a partial refund of a cash sale that Moka rounded: the return gives back its pro-rata
share of the invoice's rounding discount, and Moka rounds the refund afresh. For a paid sale that
difference is the return's `adjustment` (Moka's refund less the return), booked beside the money
paid back as a journal entry on the rounding account (see `refunds`), so the books are exact.
Only what no adjustment can mend is refused, as a `RefundNotExpressible` (and so is every later
refund of the same sale, since what a refund returns depends on the ones before it): a returned
tax that is not Moka's, or a refund of an unpaid invoice, whose return moves no money.
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
    round_money,
    sales_return_totals,
)
from domain.mapping.errors import EarlierRefundFailed, RefundNotExpressible
from domain.mapping.invoice import charge_line_custom_id, line_custom_id
from domain.mapping.moka import HUNDRED, ZERO, Line, Payment, Refund
from domain.mapping.naming import outlet_custom_id, plain_text
from domain.mapping.setting import MappingSetting
from domain.mapping.wire import day, number, quantity, same_rupiah, within_rupiah

FRACTION_QUANTUM = Decimal("1e-10")

Units = dict[str, Decimal]  # invoice line custom id → units to return


@dataclass(frozen=True)
class PlannedReturn:
    """A sales return (its body, with its root) and what Moka paid back beyond it: positive
    when Moka's refund is more than the return gives back, zero when they agree."""

    body: dict[str, Any]
    totals: ReturnTotals
    adjustment: Decimal


@dataclass(frozen=True)
class _InvoiceLine:
    id: object
    quantity: Decimal
    tax_rate: Decimal | None
    amount: Decimal  # the line's amount (after its own discount)
    net_per_unit: Decimal  # amount less its share of the invoice discount, per unit


def return_custom_id(setting: MappingSetting, refund_uuid: str) -> str:
    return outlet_custom_id(setting, "refund", refund_uuid)


def plan_returns(
    payment: Payment,
    setting: MappingSetting,
    invoice: Mapping[str, Any],
    table: Sequence[Tax],
) -> list[PlannedReturn | RefundNotExpressible]:
    """For every refund of `payment`, in order, its sales return or why it cannot be made; a
    refund after one that cannot be made cannot be made either."""
    if not payment.refunds:
        return []
    planner = _Planner(payment, setting, invoice, table)
    planned: list[PlannedReturn | RefundNotExpressible] = []
    failed: str | None = None
    for refund in payment.refunds:
        if failed is not None:
            planned.append(EarlierRefundFailed(payment.payment_no, failed))
            continue
        try:
            planned.append(planner.plan(refund))
        except RefundNotExpressible as error:
            failed = refund.uuid
            planned.append(error)
    return planned


class _Planner:
    """The returns of one sale, in order: it remembers what earlier ones returned."""

    def __init__(
        self,
        payment: Payment,
        setting: MappingSetting,
        invoice: Mapping[str, Any],
        table: Sequence[Tax],
    ) -> None:
        self.payment, self.setting, self.invoice, self.table = payment, setting, invoice, table
        self.lines = _invoice_lines(invoice, table)
        self.returned: Units = {key: ZERO for key in self.lines}

    def plan(self, refund: Refund) -> PlannedReturn:
        units = self._units(refund)
        totals = self._totals(refund, units)
        if not same_rupiah(totals.returned_tax, refund.totals.taxes):
            units, totals = self._settle_tax(refund, units, totals)
        if not same_rupiah(totals.return_amount, refund.totals.collected):
            units, totals = self._make_up(refund, units, totals)
        if not same_rupiah(totals.return_amount, refund.totals.collected):
            units, totals = self._settle_amount(refund, units, totals)
        adjustment = ZERO
        if not within_rupiah(totals.return_amount, refund.totals.collected):
            if self.payment.is_invoice:
                raise RefundNotExpressible(_explain(self.payment, refund, totals))
            adjustment = refund.totals.collected - totals.return_amount
        if not within_rupiah(totals.returned_tax, refund.totals.taxes):
            raise RefundNotExpressible(_explain(self.payment, refund, totals))
        for key, count in units.items():
            self.returned[key] += count
        return PlannedReturn(self._body(refund, units), totals, adjustment)

    def _units(self, refund: Refund) -> Units:
        """Units to return of each invoice line, before any settling."""
        lines, returned = self.lines, self.returned
        sold = {line.uuid: line for line in self.payment.totals.lines}
        units: Units = {}
        for refunded in refund.totals.lines:
            for key in _keys_of(self.setting, sold[refunded.parent_uuid or ""]):
                if key in lines:
                    units[key] = units.get(key, ZERO) + refunded.quantity
        goods = {key for line in sold.values() for key in _keys_of(self.setting, line)}
        goods &= set(lines)
        closing = all(returned[key] + units.get(key, ZERO) >= lines[key].quantity for key in goods)
        if closing:
            for key, line in lines.items():
                if key not in goods:
                    units[key] = line.quantity - returned[key]
        else:
            for row in refund.totals.gratuity_rows:
                key = charge_line_custom_id(self.setting, self.payment.id, row.id)
                if key in lines:
                    share = row.total / lines[key].amount * lines[key].quantity
                    units[key] = share.quantize(FRACTION_QUANTUM)
        return {key: min(count, self._room(key)) for key, count in units.items() if count > ZERO}

    def _room(self, key: str) -> Decimal:
        return self.lines[key].quantity - self.returned[key]

    def _settle_tax(
        self, refund: Refund, units: Units, totals: ReturnTotals
    ) -> tuple[Units, ReturnTotals]:
        """Move one returned taxed line by a hair so that the returned tax is Moka's to the sen:
        a line already returned in part first, else the largest."""
        wanted = round_money(refund.totals.taxes) - totals.returned_tax
        returned_tax = {
            key: line.returned_tax for key, line in zip(units, totals.lines, strict=True)
        }
        for key in self._taxed_first_in_part(units):
            line = self.lines[key]
            rate = line.tax_rate or ZERO
            per_unit = line.amount / line.quantity
            target = (returned_tax[key] + wanted) * HUNDRED / rate / per_unit
            count = min(target.quantize(FRACTION_QUANTUM), self._room(key))
            if count <= ZERO:
                continue
            trial = {**units, key: count}
            result = self._totals(refund, trial)
            if same_rupiah(result.returned_tax, refund.totals.taxes):
                return trial, result
        return units, totals

    def _settle_amount(
        self, refund: Refund, units: Units, totals: ReturnTotals
    ) -> tuple[Units, ReturnTotals]:
        """Within a rupiah of Moka's refund but on the other side of a half rupiah: move one
        returned taxed line by a hair (its tax moves by a tenth of that) to land on Moka's."""
        gap = refund.totals.collected - totals.return_amount
        if abs(gap) >= 1:
            return units, totals
        for key in self._taxed_first_in_part(units):
            line = self.lines[key]
            per_unit = (
                line.net_per_unit + line.amount / line.quantity * (line.tax_rate or ZERO) / HUNDRED
            )
            count = min((units[key] + gap / per_unit).quantize(FRACTION_QUANTUM), self._room(key))
            trial = {**units, key: count}
            result = self._totals(refund, trial)
            if same_rupiah(result.return_amount, refund.totals.collected) and same_rupiah(
                result.returned_tax, refund.totals.taxes
            ):
                return trial, result
        return units, totals

    def _taxed_first_in_part(self, units: Units) -> list[str]:
        """Returned taxed lines, those returned in part first (a hair more or less shows least
        there), then the largest."""
        taxed = [key for key in units if self.lines[key].tax_rate]
        return sorted(
            taxed, key=lambda k: (units[k] == units[k].to_integral_value(), -self.lines[k].amount)
        )

    def _make_up(
        self, refund: Refund, units: Units, totals: ReturnTotals
    ) -> tuple[Units, ReturnTotals]:
        """Return a little more or less of untaxed lines to reach Moka's refund."""
        target = refund.totals.collected
        for key, line in self.lines.items():
            if same_rupiah(totals.return_amount, target):
                break
            if line.tax_rate or line.net_per_unit <= ZERO:
                continue
            count = units.get(key, ZERO) + (target - totals.return_amount) / line.net_per_unit
            count = min(max(count, ZERO), self._room(key)).quantize(FRACTION_QUANTUM)
            trial = {k: v for k, v in {**units, key: count}.items() if v > ZERO}
            result = self._totals(refund, trial)
            if abs(result.return_amount - target) < abs(totals.return_amount - target):
                units, totals = trial, result
        return units, totals

    def _totals(self, refund: Refund, units: Units) -> ReturnTotals:
        body = self._body(refund, units)["sales_return"]
        return sales_return_totals(body, self.invoice, self.table)

    def _body(self, refund: Refund, units: Units) -> dict[str, Any]:
        reason = f": {refund.reason}" if refund.reason else ""
        body: dict[str, Any] = {
            "transaction_date": day(refund.created_at.date()),
            "invoice_id": self.invoice["id"],
            "transaction_return_lines_attributes": [
                {"transaction_line_id": self.lines[key].id, "return_quantity": quantity(count)}
                for key, count in units.items()
            ],
            "memo": plain_text(f"Moka refund {self.payment.payment_no}{reason}"),
            "custom_id": return_custom_id(self.setting, refund.uuid),
        }
        if self.setting.tag:
            body["tags"] = [self.setting.tag]
        return {"sales_return": body}


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
            tax_rate=line.tax.rate if line.tax is not None else None,
            amount=line.amount,
            net_per_unit=(line.amount - line.invoice_discount_share) / line.quantity,
        )
    return lines


def _keys_of(setting: MappingSetting, line: Line) -> list[str]:
    return [line_custom_id(setting, line.uuid)] + [
        line_custom_id(setting, modifier.uuid) for modifier in line.modifiers
    ]


def _explain(payment: Payment, refund: Refund, totals: ReturnTotals) -> str:
    return (
        f"The refund of Moka receipt {payment.payment_no} ({refund.uuid}) paid back "
        f"{number(refund.totals.collected)} with tax {number(refund.totals.taxes)}, but a Jurnal "
        f"sales return of what it refunds comes to {number(totals.return_amount)} with tax "
        f"{number(totals.returned_tax)}: Jurnal cannot round a sales return the way Moka rounded "
        "this refund, and no adjustment can mend it (the returned tax differs, or the sale is an "
        "unpaid invoice, whose return moves no money). Record the difference in Jurnal by hand "
        "(for example as rounding income), or refund such sales in full."
    )
