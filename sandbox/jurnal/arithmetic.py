"""The Jurnal sandbox's own invoice and return arithmetic, written from `reference/jurnal-api.md`
§7 (invoices) and §8 (returns), independently of the mapping's `domain.jurnal_arithmetic`: if the
mapping guesses Jurnal's rounding wrong, the two disagree and the engine's post-check sees it.

What the reference states is computed as stated (line amounts from percent discounts, the invoice
discount as Percent or Value, tax after or before the discount, withholding without shipping or
tax, `remaining`, the return amount). What §13 leaves unknown is a switch (`Rules`), one value
per plausible reading, settable per company through `/_sandbox/companies`:

- `discount_spread` — how an invoice discount is shared among the lines (it changes each line's
  taxable amount and a return's `discount_whole`): shares rounded to the sen, with the remainder
  on the `last` line (default: the reference's sandbox decision), on the `first`, on the
  `largest`; or `exact` shares that are never rounded.
- `tax_rounding` — `line` (default): each line's tax to the sen, then summed; `invoice`: each
  tax's unrounded sum over the lines, rounded once.
- `tax_inclusive` — how `use_tax_inclusive` takes tax out of a price that includes it: `divide`
  (default) `tax = price × r / (100 + r)` rounded; `net_first`: the net `price × 100 / (100 + r)`
  is rounded and the tax is what is left.

Full precision is kept everywhere else, as Jurnal itself answers `"200000.00016"`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

ZERO = Decimal(0)
HUNDRED = Decimal(100)
SEN = Decimal("0.01")

SPREADS = ("last", "first", "largest", "exact")
TAX_ROUNDINGS = ("line", "invoice")
INCLUSIVE_FORMULAS = ("divide", "net_first")


class RulesInvalid(ValueError):
    """A switch set to a value it does not have."""


@dataclass(frozen=True)
class Rules:
    discount_spread: str = "last"
    tax_rounding: str = "line"
    tax_inclusive: str = "divide"

    def __post_init__(self) -> None:
        for name, allowed in _ALLOWED.items():
            if getattr(self, name) not in allowed:
                raise RulesInvalid(f"{name} must be one of {', '.join(allowed)}")

    def changed(self, settings: Mapping[str, Any]) -> Rules:
        unknown = set(settings) - set(_ALLOWED)
        if unknown:
            raise RulesInvalid(f"unknown arithmetic switch {sorted(unknown)[0]!r}")
        return replace(self, **{key: str(value) for key, value in settings.items()})

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_ALLOWED = {
    "discount_spread": SPREADS,
    "tax_rounding": TAX_ROUNDINGS,
    "tax_inclusive": INCLUSIVE_FORMULAS,
}


class Status(enum.Enum):
    """`transaction_status` of a sales invoice (§6.7): (id, name, name_bahasa)."""

    OPEN = (1, "Open", "Belum Dibayar")
    CLOSED = (2, "Closed", "Selesai")
    PAID = (3, "Paid", "Lunas")
    PARTIAL = (4, "Partial", "Terbayar Sebagian")
    OVERDUE = (5, "Overdue", "Lewat Jatuh Tempo")

    def as_object(self) -> dict[str, Any]:
        return {"id": self.value[0], "name": self.value[1], "name_bahasa": self.value[2]}

    @property
    def label(self) -> str:
        return self.value[1]


# -- reading requests ---------------------------------------------------------------------------


class NotANumber(ValueError):
    pass


def decimal_of(value: object) -> Decimal:
    """A number or numeric string as Decimal (§3.5); None and "" are zero."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise NotANumber(repr(value))
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise NotANumber(repr(value)) from None
    if not result.is_finite():
        raise NotANumber(repr(value))
    return result


def flag(value: object) -> bool:
    """Booleans arrive as JSON booleans or as "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def decimal_text(value: Decimal) -> str:
    """Jurnal's decimal string: at least one decimal, no exponent."""
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def to_sen(value: Decimal) -> Decimal:
    return value.quantize(SEN, rounding=ROUND_HALF_UP)


# -- invoices (§7) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    gross: Decimal
    line_discount: Decimal
    amount: Decimal
    share: Decimal  # of the invoice discount
    taxable: Decimal
    tax: Decimal  # as rounded under the rules (unrounded under invoice rounding)
    tax_name: str | None


@dataclass(frozen=True)
class Invoice:
    lines: tuple[Line, ...]
    subtotal: Decimal
    discount_per_lines: Decimal
    discount_price: Decimal
    tax_amount: Decimal
    tax_details: tuple[tuple[str, Decimal], ...]
    shipping_price: Decimal
    original_amount: Decimal
    witholding_amount: Decimal
    deposit: Decimal
    payment_received_amount: Decimal
    amount_receive: Decimal
    return_amount: Decimal
    remaining: Decimal
    unpaid_before_returns: Decimal

    def status(self, due: date | None, today: date) -> Status:
        """Paid when nothing remains; Overdue (over Partial) past the due date; Partial when
        something was received; otherwise Open."""
        if self.remaining <= ZERO:
            return Status.PAID
        if due is not None and due < today:
            return Status.OVERDUE
        if self.amount_receive > ZERO:
            return Status.PARTIAL
        return Status.OPEN


def invoice(
    record: Mapping[str, Any],
    rules: Rules,
    *,
    received: Decimal = ZERO,
    returned: Decimal = ZERO,
) -> Invoice:
    """The totals of a stored invoice: lines with `quantity`, `rate`, `discount` (percent) and
    `line_tax` (`{name, rate}` or None); `discount_type` "Percent" | "Value" | None."""
    rows = list(record["lines"])
    grosses = [row["quantity"] * row["rate"] for row in rows]
    line_discounts = [g * row["discount"] / HUNDRED for g, row in zip(grosses, rows, strict=True)]
    amounts = [g - d for g, d in zip(grosses, line_discounts, strict=True)]
    base = sum(amounts, ZERO)
    unit = record["discount_unit"]
    discount_price = unit if record["discount_type"] == "Value" else base * unit / HUNDRED
    shares = spread(discount_price, amounts, rules.discount_spread)
    after = record["tax_after_discount"]
    inclusive = record["use_tax_inclusive"]
    taxables = [a - s if after else a for a, s in zip(amounts, shares, strict=True)]
    taxes = [row["line_tax"] for row in rows]
    line_taxes, details = _taxes(taxables, taxes, rules, inclusive=inclusive)
    tax_amount = sum((amount for _, amount in details), ZERO)
    shipping = record["shipping_price"] if record["is_shipped"] else ZERO
    net = base - discount_price
    original = net + shipping + (ZERO if inclusive else tax_amount)
    witholding_base = net - tax_amount if inclusive else net
    value = record["witholding_value"]
    witholding = (
        witholding_base * value / HUNDRED if record["witholding_type"] == "percent" else value
    )
    amount_receive = record["deposit"] + received
    unpaid = original - witholding - amount_receive
    lines = tuple(
        Line(
            gross=g,
            line_discount=d,
            amount=a,
            share=s,
            taxable=t,
            tax=x,
            tax_name=tax["name"] if tax else None,
        )
        for g, d, a, s, t, x, tax in zip(
            grosses, line_discounts, amounts, shares, taxables, line_taxes, taxes, strict=True
        )
    )
    return Invoice(
        lines=lines,
        subtotal=sum(grosses, ZERO),
        discount_per_lines=sum(line_discounts, ZERO),
        discount_price=discount_price,
        tax_amount=tax_amount,
        tax_details=details,
        shipping_price=shipping,
        original_amount=original,
        witholding_amount=witholding,
        deposit=record["deposit"],
        payment_received_amount=received,
        amount_receive=amount_receive,
        return_amount=returned,
        remaining=max(unpaid - returned, ZERO),
        unpaid_before_returns=max(unpaid, ZERO),
    )


def spread(total: Decimal, weights: Sequence[Decimal], how: str) -> list[Decimal]:
    """`total` shared by weight; rounded shares leave their remainder on one line."""
    weight_sum = sum(weights, ZERO)
    if total == ZERO or weight_sum == ZERO:
        return [ZERO] * len(weights)
    if how == "exact":
        return [total * w / weight_sum for w in weights]
    weighted = [i for i, w in enumerate(weights) if w != ZERO]
    if how == "first":
        takes = weighted[0]
    elif how == "largest":
        takes = max(weighted, key=lambda i: (weights[i], -i))
    else:
        takes = weighted[-1]
    shares = [to_sen(total * w / weight_sum) if i != takes else ZERO for i, w in enumerate(weights)]
    shares[takes] = total - sum(shares, ZERO)
    return shares


def _taxes(
    taxables: Sequence[Decimal],
    taxes: Sequence[Mapping[str, Any] | None],
    rules: Rules,
    *,
    inclusive: bool,
) -> tuple[list[Decimal], tuple[tuple[str, Decimal], ...]]:
    """Each line's tax and the per-tax details (`"<name> <rate>%"`, §6.3), rounded as the rules
    say: per line, or once per tax over the unrounded line amounts."""
    per_line: list[Decimal] = []
    raw_sums: dict[str, Decimal] = {}
    base_sums: dict[str, Decimal] = {}
    rates: dict[str, Decimal] = {}
    rounded_sums: dict[str, Decimal] = {}
    for taxable, tax in zip(taxables, taxes, strict=True):
        if not tax:
            per_line.append(ZERO)
            continue
        rate = Decimal(tax["rate"])
        key = f"{tax['name']} {decimal_text(rate)}%"
        raw = _raw_tax(taxable, rate, inclusive)
        rounded = _rounded_tax(taxable, rate, rules, inclusive=inclusive)
        per_line.append(rounded if rules.tax_rounding == "line" else raw)
        raw_sums[key] = raw_sums.get(key, ZERO) + raw
        base_sums[key] = base_sums.get(key, ZERO) + taxable
        rates[key] = rate
        rounded_sums[key] = rounded_sums.get(key, ZERO) + rounded
    if rules.tax_rounding == "line":
        return per_line, tuple(rounded_sums.items())
    details = tuple(
        (key, _rounded_tax(base_sums[key], rates[key], rules, inclusive=inclusive))
        for key in raw_sums
    )
    return per_line, details


def _raw_tax(taxable: Decimal, rate: Decimal, inclusive: bool) -> Decimal:
    if inclusive:
        return taxable * rate / (HUNDRED + rate)
    return taxable * rate / HUNDRED


def _rounded_tax(taxable: Decimal, rate: Decimal, rules: Rules, *, inclusive: bool) -> Decimal:
    if inclusive and rules.tax_inclusive == "net_first":
        return taxable - to_sen(taxable * HUNDRED / (HUNDRED + rate))
    return to_sen(_raw_tax(taxable, rate, inclusive))


# -- returns (§8) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Return:
    line_amounts: tuple[Decimal, ...]  # line_return_amount, per returned line
    discount_lines: Decimal
    discount_whole: Decimal
    returned_tax: Decimal
    returned_witholding_amount: Decimal
    return_amount: Decimal


def sales_return(
    record: Mapping[str, Any], returned: Iterable[tuple[int, Decimal]], rules: Rules
) -> Return:
    """What returning (`invoice line id`, quantity) pairs of a stored invoice gives back: each
    line at its amount less its share of the invoice discount (a Percent discount's percentage;
    a Value discount's share of that line, in proportion to the quantity returned, to the sen),
    plus its tax on the same basis, less withholding."""
    totals = invoice(record, rules)
    by_id = {
        row["id"]: (row, line) for row, line in zip(record["lines"], totals.lines, strict=True)
    }
    percent = record["discount_type"] != "Value"
    amounts: list[Decimal] = []
    discounts: list[Decimal] = []
    wholes: list[Decimal] = []
    taxables: list[Decimal] = []
    taxes: list[Mapping[str, Any] | None] = []
    for line_id, quantity in returned:
        row, line = by_id[line_id]
        gross = quantity * row["rate"]
        discount = gross * row["discount"] / HUNDRED
        amount = gross - discount
        if percent:
            whole = amount * record["discount_unit"] / HUNDRED
        else:
            whole = to_sen(line.share * quantity / row["quantity"]) if row["quantity"] else ZERO
        amounts.append(amount)
        discounts.append(discount)
        wholes.append(whole)
        taxables.append(amount - whole if record["tax_after_discount"] else amount)
        taxes.append(row["line_tax"])
    inclusive = record["use_tax_inclusive"]
    _, details = _taxes(taxables, taxes, rules, inclusive=inclusive)
    returned_tax = sum((amount for _, amount in details), ZERO)
    after = sum(amounts, ZERO) - sum(wholes, ZERO)
    net_of_tax = after - returned_tax if inclusive else after
    value = record["witholding_value"]
    if record["witholding_type"] == "percent":
        witholding = net_of_tax * value / HUNDRED
    else:
        invoice_net = totals.original_amount - totals.shipping_price
        invoice_net -= ZERO if inclusive else totals.tax_amount
        invoice_net -= totals.tax_amount if inclusive else ZERO
        witholding = to_sen(value * net_of_tax / invoice_net) if invoice_net else ZERO
    return Return(
        line_amounts=tuple(amounts),
        discount_lines=sum(discounts, ZERO),
        discount_whole=sum(wholes, ZERO),
        returned_tax=returned_tax,
        returned_witholding_amount=witholding,
        return_amount=after + (ZERO if inclusive else returned_tax) - witholding,
    )
