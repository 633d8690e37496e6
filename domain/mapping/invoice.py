"""A Moka sale (paid or unpaid) as one Jurnal sales invoice that totals to the rupiah what Moka
collected, with Moka's tax.

The form, and why (reference jurnal-api §7, moka-api §9):

- **One line per Moka line, and one per modifier option**, each at its unit price with the Moka
  line's discount as the line `discount` percentage: `100 × discount_amount / gross_sales`. Moka
  spreads every discount (item and whole-bill, percentage and cash) into the lines'
  `discount_amount`, and splits it over a line's modifiers in proportion (R6), so one percentage
  per Moka line reproduces each line's net sales. The percentage is exact when it terminates
  within 10 decimals (10, 12.5, 17.8125 …); otherwise it is rounded down there, which leaves the
  line less than a millionth of a rupiah above Moka's net. Lines worth nothing (free modifiers,
  100 % discounts) are left out: Jurnal refuses lines that are not positive.
- **Service charges** (Moka gratuities) are lines of their own product, taxed when Moka taxes them
  (`include_gratuity_tax`).
- **Taxes** are per line: every item and modifier line carries the payment's tax (several Moka
  taxes become one combined Jurnal tax, see `taxes`). Jurnal rounds each line's tax to the sen and
  Moka rounds each tax of the whole bill, so the two can differ by a few sen and straddle a half
  rupiah; when they do, the line with the largest amount is moved by a fraction of a rupiah until
  Jurnal's tax is Moka's to the sen.
- **`tax_after_discount` is false** and the invoice-level discount is used only for what is left
  when the lines and their tax are more than Moka collected: cash rounded down, plus any sub-sen
  difference. A Value discount with `tax_after_discount` false lowers the total without touching
  any line's tax. What is left the other way (cash rounded up) is an untaxed "Pembulatan" line.
  So the total is always exactly Moka's `total_collected` and the tax is Moka's to the rupiah
  (`wire.within_rupiah`: less than half a rupiah apart; in practice a sen or two at most).

Every invoice is totalled with `domain.jurnal_arithmetic` before it is returned; one that does not
reproduce Moka's numbers raises `NotExpressible` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from domain.jurnal_arithmetic import (
    InvoiceTotals,
    Tax,
    invoice_totals,
    round_money,
)
from domain.mapping.errors import NotExpressible
from domain.mapping.moka import HUNDRED, ZERO, Line, Payment
from domain.mapping.naming import option_label, outlet_custom_id, plain_text, product_label
from domain.mapping.products import (
    gratuity_reference,
    option_reference,
    rounding_reference,
    variant_reference,
)
from domain.mapping.refs import JurnalRefs
from domain.mapping.setting import MappingSetting
from domain.mapping.taxes import jurnal_tax, taxes_for_check
from domain.mapping.wire import number, quantity, same_rupiah, within_rupiah

DISCOUNT_QUANTUM = Decimal("1e-10")
RATE_QUANTUM = Decimal("1e-4")
ROUNDING_DESCRIPTION = "Pembulatan"


@dataclass(frozen=True)
class DraftLine:
    custom_id: str
    product: Mapping[str, str]
    description: str
    quantity: Decimal
    rate: Decimal
    discount: Decimal
    taxed: bool

    def body(self, tax: Tax | None) -> dict[str, Any]:
        line: dict[str, Any] = {
            **self.product,
            "description": self.description,
            "quantity": quantity(self.quantity),
            "rate": number(self.rate),
        }
        if self.discount:
            line["discount"] = number(self.discount)
        if self.taxed and tax is not None:
            line.update(tax_reference(tax))
        line["custom_id"] = self.custom_id
        return line


def tax_reference(tax: Tax) -> dict[str, Any]:
    """A transaction line's tax field."""
    # By id once the company's taxes are known: Jurnal tax names need not be unique.
    if tax.id is not None:
        return {"line_tax_id": tax.id}
    return {"line_tax_name": tax.name}


@dataclass(frozen=True)
class Header:
    """The invoice fields that are not lines or money."""

    custom_id: str
    transaction_date: str
    due_date: str
    person_name: str
    reference_no: str
    memo: str
    tags: Sequence[str]
    warehouse: Mapping[str, object] | None  # `warehouse_id` (or its name, in a preview)
    rounding_line_id: str
    deposit: Decimal = ZERO
    deposit_to: Mapping[str, object] | None = None  # `deposit_to_id` (or its name, in a preview)


@dataclass(frozen=True)
class PlannedInvoice:
    custom_id: str
    body: dict[str, Any]  # with its `sales_invoice` root
    totals: InvoiceTotals
    tax: Tax | None


# -- custom ids of the invoice and its lines ----------------------------------------------------


def invoice_custom_id(setting: MappingSetting, payment_id: str) -> str:
    return outlet_custom_id(setting, "sale", payment_id)


def line_custom_id(setting: MappingSetting, moka_uuid: str) -> str:
    """A line made from a Moka checkout (its item part) or from one of its modifiers."""
    return outlet_custom_id(setting, "line", moka_uuid)


def charge_line_custom_id(setting: MappingSetting, payment_id: str, gratuity_id: object) -> str:
    return outlet_custom_id(setting, "charge", payment_id, gratuity_id)


def rounding_line_custom_id(setting: MappingSetting, payment_id: str) -> str:
    return outlet_custom_id(setting, "rounding", payment_id)


# -- planning -----------------------------------------------------------------------------------


def plan_invoice(
    payment: Payment, setting: MappingSetting, refs: JurnalRefs, header: Header
) -> PlannedInvoice | None:
    """The invoice for `payment`, or None when the sale moved no money at all."""
    totals = payment.totals
    tax = jurnal_tax(setting, refs, totals.tax_rows)
    table = taxes_for_check(refs, tax)
    lines = sale_lines(payment, setting, refs, taxed=tax is not None)
    if not lines:
        if totals.collected == ZERO and totals.taxes == ZERO:
            return None
        raise NotExpressible(
            f"Moka receipt {payment.payment_no} collected {number(totals.collected)} but has no "
            "line worth anything, and Jurnal needs at least one positive line; not posted."
        )
    lines, draft = _settle_tax(lines, header, tax, table, target=totals.taxes)
    body, result = _balance(
        lines, draft, header, tax, table, payment, rounding_reference(setting, refs)
    )
    if result.original_amount != totals.collected or not within_rupiah(
        result.tax_amount, totals.taxes
    ):
        raise NotExpressible(
            f"Jurnal would total Moka receipt {payment.payment_no} to "
            f"{number(result.original_amount)} with tax {number(result.tax_amount)}, but Moka "
            f"collected {number(totals.collected)} with tax {number(totals.taxes)}; not posted."
        )
    return PlannedInvoice(header.custom_id, body, result, tax)


def sale_lines(
    payment: Payment, setting: MappingSetting, refs: JurnalRefs, *, taxed: bool
) -> list[DraftLine]:
    lines: list[DraftLine] = []
    for line in payment.totals.lines:
        lines.extend(_lines_of(line, setting, refs, taxed=taxed))
    lines.extend(_charge_lines(payment, setting, refs, taxed=taxed))
    return lines


def line_discount_percent(line: Line) -> Decimal:
    """The Moka line's discount as the percentage of its gross sales."""
    if line.gross == ZERO:
        return ZERO
    exact = HUNDRED * line.discount / line.gross
    # Rounded down, a percentage that does not terminate leaves the line a hair above Moka's net
    # (never below), so what is left over always fits the invoice's Value discount.
    return exact.quantize(DISCOUNT_QUANTUM, rounding=ROUND_FLOOR).normalize()


def _lines_of(
    line: Line, setting: MappingSetting, refs: JurnalRefs, *, taxed: bool
) -> list[DraftLine]:
    """The item part of a Moka line, then its modifiers; the line's quantity applies to all."""
    units = Decimal(line.quantity)
    percent = line_discount_percent(line)
    if percent >= HUNDRED:
        return []
    item_gross = line.gross - sum((m.gross for m in line.modifiers), ZERO)
    drafts = []
    if item_gross > ZERO:
        drafts.append(
            DraftLine(
                custom_id=line_custom_id(setting, line.uuid),
                product=variant_reference(
                    setting, refs, line.variant_id, line.item_name, line.variant_name
                ),
                description=plain_text(_with_note(line), 250),
                quantity=units,
                rate=item_gross / units,
                discount=percent,
                taxed=taxed,
            )
        )
    for modifier in line.modifiers:
        if modifier.gross <= ZERO:
            continue
        drafts.append(
            DraftLine(
                custom_id=line_custom_id(setting, modifier.uuid),
                product=option_reference(
                    setting, refs, modifier.option_id, modifier.group_name, modifier.option_name
                ),
                description=plain_text(
                    f"{option_label(modifier.group_name, modifier.option_name)} ({line.item_name})",
                    250,
                ),
                quantity=units,
                rate=modifier.gross / units,
                discount=percent,
                taxed=taxed,
            )
        )
    return drafts


def _with_note(line: Line) -> str:
    label = product_label(line.item_name, line.variant_name)
    return f"{label} ({line.note})" if line.note else label


def _charge_lines(
    payment: Payment, setting: MappingSetting, refs: JurnalRefs, *, taxed: bool
) -> list[DraftLine]:
    totals = payment.totals
    rows = [row for row in totals.gratuity_rows if row.total != ZERO]
    if not rows:
        return []
    # The rows match the header to the sen (checked on reading); the last takes the remainder so
    # that the lines add up to the header exactly.
    amounts = [row.total for row in rows]
    amounts[-1] += totals.gratuities - sum(amounts, ZERO)
    return [
        DraftLine(
            custom_id=charge_line_custom_id(setting, payment.id, row.id),
            product=gratuity_reference(setting, refs, row.id, row.name),
            description=plain_text(f"{row.name} {number(row.rate)}%", 250),
            quantity=Decimal(1),
            rate=amount,
            discount=ZERO,
            taxed=taxed and totals.include_gratuity_tax,
        )
        for row, amount in zip(rows, amounts, strict=True)
        if amount > ZERO
    ]


# -- the body -----------------------------------------------------------------------------------


def invoice_body(
    header: Header, lines: Sequence[DraftLine], tax: Tax | None, discount_value: Decimal
) -> dict[str, Any]:
    invoice: dict[str, Any] = {
        "transaction_date": header.transaction_date,
        "due_date": header.due_date,
        "person_name": header.person_name,
        "reference_no": header.reference_no,
        "memo": header.memo,
        "custom_id": header.custom_id,
        "tax_after_discount": False,
    }
    if header.tags:
        invoice["tags"] = list(header.tags)
    if header.warehouse:
        invoice.update(header.warehouse)
    if discount_value > ZERO:
        invoice["discount_type_name"] = "Value"
        invoice["discount_unit"] = number(discount_value)
    if header.deposit > ZERO and header.deposit_to:
        invoice.update(header.deposit_to)
        invoice["deposit"] = number(header.deposit)
    invoice["transaction_lines_attributes"] = [line.body(tax) for line in lines]
    return {"sales_invoice": invoice}


def _totals(
    header: Header,
    lines: Sequence[DraftLine],
    tax: Tax | None,
    table: Sequence[Tax],
    discount_value: Decimal = ZERO,
) -> tuple[dict[str, Any], InvoiceTotals]:
    body = invoice_body(header, lines, tax, discount_value)
    return body, invoice_totals(body["sales_invoice"], table)


def _balance(
    lines: list[DraftLine],
    draft: InvoiceTotals,
    header: Header,
    tax: Tax | None,
    table: Sequence[Tax],
    payment: Payment,
    rounding_product: Mapping[str, str],
) -> tuple[dict[str, Any], InvoiceTotals]:
    """Add to the `draft` what makes the total Moka's exactly: a Value discount (tax untouched,
    since `tax_after_discount` is false) or an untaxed rounding line."""
    left = payment.totals.collected - draft.original_amount
    if left < ZERO:
        return _totals(header, lines, tax, table, discount_value=-left)
    if left > ZERO:
        rounding = DraftLine(
            custom_id=header.rounding_line_id,
            product=rounding_product,
            description=ROUNDING_DESCRIPTION,
            quantity=Decimal(1),
            rate=left,
            discount=ZERO,
            taxed=False,
        )
        return _totals(header, [*lines, rounding], tax, table)
    return _totals(header, lines, tax, table)


# -- settling the tax ---------------------------------------------------------------------------


def _settle_tax(
    lines: list[DraftLine],
    header: Header,
    tax: Tax | None,
    table: Sequence[Tax],
    *,
    target: Decimal,
) -> tuple[list[DraftLine], InvoiceTotals]:
    """Lines whose Jurnal tax is Moka's to the rupiah, with their totals: unchanged when it
    already is, else with the largest taxed line moved just enough that Jurnal's tax is Moka's
    to the sen."""
    _, totals = _totals(header, lines, tax, table)
    if tax is None or same_rupiah(totals.tax_amount, target):
        return lines, totals
    wanted = round_money(target) - totals.tax_amount
    order = sorted(
        (i for i, line in enumerate(lines) if line.taxed),
        key=lambda i: totals.lines[i].amount,
        reverse=True,
    )
    for index in order:
        line_tax = totals.lines[index].tax_amount + wanted
        if line_tax <= ZERO:
            continue
        moved = _with_amount(lines[index], line_tax * HUNDRED / tax.rate)
        trial = [*lines[:index], moved, *lines[index + 1 :]]
        _, result = _totals(header, trial, tax, table)
        if result.lines[index].tax_amount == line_tax and same_rupiah(result.tax_amount, target):
            return trial, result
    return lines, totals  # the final check in `plan_invoice` explains what does not add up


def _with_amount(line: DraftLine, amount: Decimal) -> DraftLine:
    """The line at (about) `amount`: by its discount when that stays a percentage, else by its
    rate. Either moves the line by far less than a rupiah."""
    gross = line.quantity * line.rate
    if amount <= gross:
        percent = (HUNDRED * (1 - amount / gross)).quantize(DISCOUNT_QUANTUM).normalize()
        return replace(line, discount=percent)
    kept = 1 - line.discount / HUNDRED
    return replace(line, rate=(amount / kept / line.quantity).quantize(RATE_QUANTUM))
