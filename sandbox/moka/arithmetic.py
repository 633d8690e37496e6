"""The relations between a Moka v3 payment's totals and rows (reference §9.1, R1–R12, plus the
row sums of §14), as a pure check that names every relation a payment violates.

The Moka sandbox generates payments that pass it, and the tests hold the sandbox to it (the
mapping takes the header totals as the truth and needs no such check). Accepts payloads parsed
with floats or with `Decimal` money alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from domain.moka_money import moka_decimal

Payload = Mapping[str, Any]

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT_TOLERANCE = Decimal("0.005")
MILLI_TOLERANCE = Decimal("0.0005")


def amount(value: Any) -> Decimal:
    """A JSON number as an exact decimal; `null` and `""` count as zero."""
    return moka_decimal(value)


def total_of(rows: Iterable[Payload], key: str) -> Decimal:
    return sum((amount(row.get(key)) for row in rows), ZERO)


class _Findings:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def equal(self, relation: str, what: str, left: Decimal, right: Decimal) -> None:
        if left != right:
            self.problems.append(f"{relation}: {what}: {_fmt(left)} != {_fmt(right)}")

    def near(self, relation: str, what: str, left: Decimal, right: Decimal, tol: Decimal) -> None:
        if abs(left - right) > tol:
            self.problems.append(f"{relation}: {what}: {_fmt(left)} != {_fmt(right)}")

    def fact(self, relation: str, holds: bool, message: str) -> None:
        if not holds:
            self.problems.append(f"{relation}: {message}")


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.normalize() else str(value)


def check_payment_arithmetic(payment: Payload) -> list[str]:
    """Every violated relation of a v3 payment and of its nested refunds; empty when consistent.

    Each message starts with the relation's name (R1–R12 of reference §9.1, or ROWS for the row
    sums) and names the fields and the two sides.
    """
    found = _Findings()
    lines: Sequence[Payload] = payment.get("checkouts") or []
    for line in lines:
        _check_line(found, line, f"checkout {line.get('uuid')}")
    _check_totals(
        found,
        "payment",
        payment,
        lines,
        subtotal="subtotal",
        discounts="discounts",
        gratuities="gratuities",
        taxes="taxes",
        collected="total_collected",
    )
    _check_tender(found, payment)
    refunds: Sequence[Payload] = payment.get("payment_refunds") or []
    for refund in refunds:
        _check_refund(found, payment, refund)
    found.equal(
        "R10",
        "total_refund vs Σ refund_amount",
        amount(payment.get("total_refund")),
        total_of(refunds, "refund_amount"),
    )
    for line in lines:
        returned = sum(
            (
                -int(row.get("quantity") or 0)
                for refund in refunds
                for row in refund.get("checkouts") or []
                if row.get("parent_checkout_uuid") == line.get("uuid")
            ),
            0,
        )
        found.fact(
            "R11",
            int(line.get("refunded_quantity") or 0) == returned,
            f"checkout {line.get('uuid')} refunded_quantity {line.get('refunded_quantity')} "
            f"!= {returned} returned by its refunds",
        )
    return found.problems


def _check_line(found: _Findings, line: Payload, where: str) -> None:
    quantity = amount(line.get("quantity"))
    gross = amount(line.get("gross_sales"))
    discount = amount(line.get("discount_amount"))
    net = amount(line.get("net_sales"))
    found.equal(
        "R1",
        f"{where} gross_sales vs item_price × quantity",
        gross,
        amount(line.get("item_price")) * quantity,
    )
    found.equal(
        "R1",
        f"{where} gross_sales vs item_price_quantity",
        gross,
        amount(line.get("item_price_quantity")),
    )
    found.equal("R2", f"{where} net_sales vs gross_sales − discount_amount", net, gross - discount)
    for key in ("total_price", "item_price_discount"):
        found.equal("R2", f"{where} {key} vs net_sales", amount(line.get(key)), net)
    line_discounts: Sequence[Payload] = line.get("discounts") or []
    found.equal(
        "ROWS",
        f"{where} discount_amount vs Σ discounts[]",
        discount,
        total_of(line_discounts, "discount_amount"),
    )
    for row in line_discounts:
        if row.get("discount_type") == "percentage":
            expected = gross * amount(row.get("discount_percentage")) / HUNDRED
            found.near(
                "ROWS",
                f"{where} {row.get('discount_name')!r} vs rate × gross_sales",
                amount(row.get("discount_amount")),
                expected,
                CENT_TOLERANCE,
            )
    found.equal(
        "ROWS",
        f"{where} gratuity_amount vs Σ gratuities[]",
        amount(line.get("gratuity_amount")),
        total_of(line.get("gratuities") or [], "total"),
    )
    for modifier in line.get("modifiers") or []:
        _check_modifier(found, line, modifier, f"{where} modifier {modifier.get('uuid')}")


def _check_modifier(found: _Findings, line: Payload, modifier: Payload, where: str) -> None:
    # Modifier rows are a breakdown of their line; refund lines carry them positive (§8.4).
    line_gross = abs(amount(line.get("gross_sales")))
    gross = abs(amount(modifier.get("gross_sales")))
    if line_gross == 0:
        found.fact("R6", gross == 0, f"{where} has gross_sales on a line without any")
        return
    share = gross / line_gross
    discount = abs(amount(modifier.get("discount_amount")))
    found.near(
        "R6",
        f"{where} discount_amount vs line share",
        discount,
        abs(amount(line.get("discount_amount"))) * share,
        MILLI_TOLERANCE,
    )
    found.equal(
        "R6",
        f"{where} net_sales vs gross − discount",
        abs(amount(modifier.get("net_sales"))),
        gross - discount,
    )
    line_rows = {row.get("discount_id"): row for row in line.get("discounts") or []}
    for row in modifier.get("discounts") or []:
        on_line = line_rows.get(row.get("discount_id"))
        if on_line is None:
            found.fact(
                "R7", False, f"{where} discount {row.get('discount_name')!r} is not on its line"
            )
            continue
        found.near(
            "R7",
            f"{where} discount {row.get('discount_name')!r} vs line row share",
            abs(amount(row.get("discount_amount"))),
            abs(amount(on_line.get("discount_amount"))) * share,
            MILLI_TOLERANCE,
        )


def _check_totals(
    found: _Findings,
    where: str,
    payment: Payload,
    lines: Sequence[Payload],
    *,
    subtotal: str,
    discounts: str,
    gratuities: str,
    taxes: str,
    collected: str,
) -> None:
    sub = amount(payment.get(subtotal))
    grat = amount(payment.get(gratuities))
    tax = amount(payment.get(taxes))
    rounding = amount(payment.get("total_rounding_amount"))
    found.equal("R3", f"{where} {subtotal} vs Σ net_sales", sub, total_of(lines, "net_sales"))
    found.equal(
        "R3",
        f"{where} {discounts} vs Σ discount_amount",
        amount(payment.get(discounts)),
        total_of(lines, "discount_amount"),
    )
    found.equal(
        "R3", f"{where} {gratuities} vs Σ gratuity_amount", grat, total_of(lines, "gratuity_amount")
    )
    found.equal("R3", f"{where} {taxes} vs Σ tax_amount", tax, total_of(lines, "tax_amount"))
    found.equal(
        "R4" if where == "payment" else "R8",
        f"{where} {collected} vs {subtotal} + {gratuities} + {taxes} + rounding",
        amount(payment.get(collected)),
        sub + grat + tax + rounding,
    )

    tax_rows: Sequence[Payload] = payment.get("payment_taxes") or []
    found.equal("ROWS", f"{where} {taxes} vs Σ payment_taxes", tax, total_of(tax_rows, "total"))
    taxable = sub + (grat if payment.get("include_gratuity_tax") else ZERO)
    for row in tax_rows:
        name = row.get("name")
        found.equal(
            "ROWS",
            f"{where} tax {name!r} taxable_amount vs {subtotal}"
            + (" + gratuities" if payment.get("include_gratuity_tax") else ""),
            amount(row.get("taxable_amount")),
            taxable,
        )
        found.near(
            "ROWS",
            f"{where} tax {name!r} total vs rate × taxable_amount",
            amount(row.get("total")),
            amount(row.get("taxable_amount")) * amount(row.get("amount")) / HUNDRED,
            CENT_TOLERANCE,
        )
    gratuity_rows: Sequence[Payload] = payment.get("payment_gratuities") or []
    found.equal(
        "ROWS",
        f"{where} {gratuities} vs Σ payment_gratuities",
        grat,
        total_of(gratuity_rows, "total"),
    )
    for row in gratuity_rows:
        found.near(
            "ROWS",
            f"{where} gratuity {row.get('name')!r} total vs rate × {subtotal}",
            amount(row.get("total")),
            sub * amount(row.get("amount")) / HUNDRED,
            CENT_TOLERANCE,
        )
        on_lines = sum(
            (
                amount(g.get("total"))
                for line in lines
                for g in line.get("gratuities") or []
                if g.get("gratuity_id") == row.get("gratuity_id")
            ),
            ZERO,
        )
        found.equal(
            "ROWS",
            f"{where} gratuity {row.get('name')!r} total vs Σ line gratuities[]",
            amount(row.get("total")),
            on_lines,
        )
    for row in payment.get("payment_discounts") or []:
        on_lines = sum(
            (
                amount(d.get("discount_amount"))
                for line in lines
                for d in line.get("discounts") or []
                if d.get("discount_id") == row.get("discount_id")
            ),
            ZERO,
        )
        found.equal(
            "ROWS",
            f"{where} discount {row.get('discount_name')!r} vs Σ its line discounts[]",
            amount(row.get("discount_amount")),
            on_lines,
        )


def _check_tender(found: _Findings, payment: Payload) -> None:
    kind = payment.get("payment_type")
    due = amount(payment.get("total_collected"))
    tendered = amount(payment.get("tendered"))
    change = amount(payment.get("change"))
    if kind == "cash":
        found.equal("R5", "change vs tendered − total_collected", change, tendered - due)
    elif kind == "invoice":
        paid = total_of(payment.get("invoice_payment_records") or [], "amount")
        found.equal("R5", "invoice tendered vs Σ invoice_payment_records", tendered, paid)
        found.fact("R5", paid <= due, f"invoice paid {_fmt(paid)} exceeds total {_fmt(due)}")
    else:
        found.equal("R5", f"{kind} tendered vs total_collected", tendered, due)
        found.equal("R5", f"{kind} change vs 0", change, ZERO)


def _check_refund(found: _Findings, sale: Payload, refund: Payload) -> None:
    where = f"refund {refund.get('uuid')}"
    lines: Sequence[Payload] = refund.get("checkouts") or []
    sale_lines = {line.get("uuid") for line in sale.get("checkouts") or []}
    found.fact(
        "R10",
        refund.get("parent_payment_uuid") == sale.get("id"),
        f"{where} parent_payment_uuid {refund.get('parent_payment_uuid')} != sale id",
    )
    for line in lines:
        line_where = f"{where} checkout {line.get('uuid')}"
        _check_line(found, line, line_where)
        found.fact(
            "R11",
            line.get("parent_checkout_uuid") in sale_lines,
            f"{line_where} parent_checkout_uuid points at no line of the sale",
        )
        found.fact(
            "R12",
            int(line.get("quantity") or 0) < 0,
            f"{line_where} quantity {line.get('quantity')} is not negative",
        )
    _check_totals(
        found,
        where,
        refund,
        lines,
        subtotal="subtotal",
        discounts="total_discount_amount",
        gratuities="total_gratuity_amount",
        taxes="total_tax_amount",
        collected="total_collected_amount",
    )
    sub = amount(refund.get("subtotal"))
    found.equal(
        "R9", f"{where} total_net_sales vs subtotal", amount(refund.get("total_net_sales")), sub
    )
    found.equal(
        "R9",
        f"{where} subtotal vs total_gross_sales − total_discount_amount",
        sub,
        amount(refund.get("total_gross_sales")) - amount(refund.get("total_discount_amount")),
    )
    found.equal(
        "R9",
        f"{where} total_gross_sales vs Σ gross_sales",
        amount(refund.get("total_gross_sales")),
        total_of(lines, "gross_sales"),
    )
    found.equal(
        "R10",
        f"{where} refund_amount vs −total_collected_amount",
        amount(refund.get("refund_amount")),
        -amount(refund.get("total_collected_amount")),
    )
    if refund.get("refund_type") == "full":
        pairs = (
            ("subtotal", "subtotal"),
            ("total_discount_amount", "discounts"),
            ("total_gratuity_amount", "gratuities"),
            ("total_tax_amount", "taxes"),
            ("total_rounding_amount", "total_rounding_amount"),
            ("total_collected_amount", "total_collected"),
        )
        for refund_key, sale_key in pairs:
            found.equal(
                "R12",
                f"{where} {refund_key} vs −sale {sale_key}",
                amount(refund.get(refund_key)),
                -amount(sale.get(sale_key)),
            )
