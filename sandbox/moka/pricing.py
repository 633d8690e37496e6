"""Moka's arithmetic as the sandbox generates it (reference §9.3): from lines, discounts,
service charges, taxes and rounding to every header total and row, in `Decimal`.

The same code prices generated sales, payments inserted through the control API and (with
negative quantities) partial refunds, so that every payment satisfies the relations R1–R12 that
`sandbox.moka.arithmetic` checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MILLI = Decimal("0.001")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def cents(amount: Decimal) -> Decimal:
    """Rows are kept to the cent; half-up is symmetric around zero, so refunds mirror sales."""
    return amount.quantize(CENT, ROUND_HALF_UP)


def mills(amount: Decimal) -> Decimal:
    """Modifier breakdowns carry three decimals, like the example's 78.125."""
    return amount.quantize(MILLI, ROUND_HALF_UP)


def allocate(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `amount` by `weights`, each share to the cent, the last taking the remainder, so
    that the shares always sum to `amount` exactly."""
    if not weights:
        return []
    base = sum(weights, ZERO)
    if base == 0:
        return [ZERO] * (len(weights) - 1) + [amount]
    shares = [cents(amount * weight / base) for weight in weights[:-1]]
    shares.append(amount - sum(shares, ZERO))
    return shares


@dataclass(frozen=True)
class Discount:
    """A library discount: `kind` is `cash` (rupiah) or `percentage` (a percent)."""

    id: int
    name: str
    kind: str
    value: Decimal
    guid: str | None = None

    @property
    def rate(self) -> Decimal:
        return self.value if self.kind == "percentage" else ZERO

    @property
    def cash(self) -> Decimal:
        return self.value if self.kind == "cash" else ZERO


@dataclass(frozen=True)
class Charge:
    """A service charge (Moka "gratuity") or an exclusive tax, as a percent of its base."""

    id: int
    name: str
    rate: Decimal


@dataclass(frozen=True)
class Rounding:
    """Cash rounding of the amount due, on its magnitude so that a refund mirrors its sale."""

    increment: Decimal = HUNDRED
    mode: str = "down"

    def adjustment(self, amount: Decimal) -> Decimal:
        magnitude = abs(amount)
        how = {"down": ROUND_FLOOR, "up": ROUND_CEILING, "nearest": ROUND_HALF_UP}[self.mode]
        rounded = (magnitude / self.increment).to_integral_value(how) * self.increment
        return rounded - magnitude if amount >= 0 else magnitude - rounded


@dataclass(frozen=True)
class DiscountInput:
    """A discount on one line: a percentage is computed on the line's gross; a cash discount
    arrives as the line's fixed share (`amount`)."""

    discount: Discount
    bill_level: bool
    amount: Decimal | None = None


@dataclass(frozen=True)
class LineInput:
    price: Decimal
    quantity: int
    discounts: Sequence[DiscountInput] = ()


@dataclass(frozen=True)
class AppliedDiscount:
    discount: Discount
    bill_level: bool
    amount: Decimal


@dataclass(frozen=True)
class PricedLine:
    price: Decimal
    quantity: int
    gross: Decimal
    discounts: list[AppliedDiscount]
    discount_amount: Decimal
    net: Decimal
    gratuities: list[tuple[Charge, Decimal]]
    gratuity_amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class TaxRow:
    charge: Charge
    taxable: Decimal
    total: Decimal


@dataclass(frozen=True)
class Priced:
    lines: list[PricedLine]
    subtotal: Decimal
    discounts: Decimal
    gratuity_rows: list[tuple[Charge, Decimal]]
    gratuities: Decimal
    tax_rows: list[TaxRow]
    taxes: Decimal
    rounding: Decimal | None
    total_collected: Decimal

    @property
    def gross(self) -> Decimal:
        return sum((line.gross for line in self.lines), ZERO)

    def bill_discount_totals(self) -> list[tuple[Discount, Decimal]]:
        """Each whole-bill cash discount with the sum of its line shares (`payment_discounts[]`).
        A whole-bill percentage sits only on the lines, as in the official example (§9.2
        item 3: its rows list the cash discount, the lines both)."""
        totals: dict[int, tuple[Discount, Decimal]] = {}
        for line in self.lines:
            for applied in line.discounts:
                if applied.bill_level and applied.discount.kind == "cash":
                    known = totals.get(applied.discount.id, (applied.discount, ZERO))
                    totals[applied.discount.id] = (known[0], known[1] + applied.amount)
        return list(totals.values())


def spread_cash(discount: Discount, grosses: Sequence[Decimal]) -> list[Decimal]:
    """A whole-bill cash discount spread over the lines by gross share (reference §9.3)."""
    sign = -1 if sum(grosses, ZERO) < 0 else 1
    return allocate(discount.cash * sign, grosses)


def price(
    lines: Sequence[LineInput],
    *,
    gratuities: Sequence[Charge] = (),
    taxes: Sequence[Charge] = (),
    include_gratuity_tax: bool = False,
    rounding: Rounding | None = None,
) -> Priced:
    """Price a payment. Quantities are negative for a refund; every amount then is, too."""
    grosses = [line.price * line.quantity for line in lines]
    discounted = [_discount_line(line, gross) for line, gross in zip(lines, grosses, strict=True)]
    nets = [
        gross - sum((d.amount for d in ds), ZERO)
        for gross, ds in zip(grosses, discounted, strict=True)
    ]
    subtotal = sum(nets, ZERO)

    gratuity_rows = [(charge, cents(subtotal * charge.rate / HUNDRED)) for charge in gratuities]
    line_gratuities: list[list[tuple[Charge, Decimal]]] = [[] for _ in lines]
    for charge, row_total in gratuity_rows:
        for index, share in enumerate(allocate(row_total, nets)):
            line_gratuities[index].append((charge, share))
    line_gratuity_amounts = [sum((share for _, share in gs), ZERO) for gs in line_gratuities]
    gratuity_total = sum((row_total for _, row_total in gratuity_rows), ZERO)

    tax_bases = [
        net + (gratuity if include_gratuity_tax else ZERO)
        for net, gratuity in zip(nets, line_gratuity_amounts, strict=True)
    ]
    taxable = subtotal + (gratuity_total if include_gratuity_tax else ZERO)
    tax_rows = [TaxRow(c, taxable, cents(taxable * c.rate / HUNDRED)) for c in taxes]
    line_taxes = [ZERO] * len(lines)
    for row in tax_rows:
        for index, share in enumerate(allocate(row.total, tax_bases)):
            line_taxes[index] += share
    tax_total = sum((row.total for row in tax_rows), ZERO)

    due = subtotal + gratuity_total + tax_total
    adjustment = rounding.adjustment(due) if rounding else None
    priced_lines = [
        PricedLine(
            price=line.price,
            quantity=line.quantity,
            gross=grosses[i],
            discounts=discounted[i],
            discount_amount=grosses[i] - nets[i],
            net=nets[i],
            gratuities=line_gratuities[i],
            gratuity_amount=line_gratuity_amounts[i],
            tax_amount=line_taxes[i],
        )
        for i, line in enumerate(lines)
    ]
    return Priced(
        lines=priced_lines,
        subtotal=subtotal,
        discounts=sum((line.discount_amount for line in priced_lines), ZERO),
        gratuity_rows=gratuity_rows,
        gratuities=gratuity_total,
        tax_rows=tax_rows,
        taxes=tax_total,
        rounding=adjustment,
        total_collected=due + (adjustment or ZERO),
    )


def _discount_line(line: LineInput, gross: Decimal) -> list[AppliedDiscount]:
    """Each discount in turn, none taking the line below zero: discounts that add up to the
    whole line (two of 50 %) rounded each to the cent would otherwise take a cent too many of an
    odd-cent refund (-500.005 twice is -1,000.02 of -1,000.01)."""
    applied = []
    left = gross
    for given in line.discounts:
        if given.amount is not None:
            amount = given.amount
        else:
            amount = cents(gross * given.discount.rate / HUNDRED)
        if abs(amount) > abs(left):
            amount = left
        left -= amount
        applied.append(AppliedDiscount(given.discount, given.bill_level, amount))
    return applied
