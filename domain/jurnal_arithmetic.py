"""Jurnal's sales-invoice and sales-return arithmetic, as pure `Decimal` functions.

The mapping uses it to predict what Jurnal will compute before posting (and to refuse a sale that
Jurnal cannot total to Moka's rupiah). It is a prediction, not the truth: the Jurnal sandbox has
its own implementation (`sandbox/jurnal/arithmetic.py`, with a switch for each reading the
reference leaves open), and after every post the engine compares Jurnal's answer with Moka's
numbers, so a wrong guess here shows as an open error instead of passing unseen.

Formulas follow `reference/jurnal-api.md` §7 (invoices) and §8 (returns). Where the reference is
silent these are the readings the reference's sandbox decisions name:

- full precision is kept; nothing is rounded except as stated below;
- the invoice-level discount is spread over the lines pro rata by line amount, each share rounded
  to 2 decimals half-up, and the last line takes the remainder so the shares add up exactly;
- each line's tax is rounded to 2 decimals half-up before summing;
- `tax_after_discount` false taxes each line's amount before the invoice discount;
- `use_tax_inclusive` true means rates include tax: a line's tax is `taxable × r / (100 + r)`,
  `original_amount` does not add it again, and withholding is taken on the amount net of tax;
- a missing `tax_after_discount` or `use_tax_inclusive` is false; a discount with no type is a
  percentage;
- a return's share of a Value invoice discount is the returned fraction of each line's share, and
  of a Value withholding the returned fraction of the invoice's net amount (both rounded to 2
  decimals half-up).

Inputs are request bodies (the object inside the `sales_invoice` / `sales_return` root) as sent to
Jurnal; the answer shape of an invoice (lines with `id` and a nested `line_tax`, a nested
`discount_type`) is accepted as well, so a posted invoice can be read back for its returns.
Money may be str, int, float or Decimal; it is converted through `str`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

Body = Mapping[str, object]


class ArithmeticInputError(ValueError):
    """A body cannot be totalled: a malformed number, an unknown tax, an unknown discount type."""


@dataclass(frozen=True)
class Tax:
    """A company tax as Jurnal lists it (`GET /taxes`)."""

    id: int | str | None
    name: str
    rate: Decimal
    custom_id: str | None = None

    @property
    def detail_name(self) -> str:
        """The `tax_details[].name` Jurnal shows: name, space, rate with a decimal, `%`."""
        return f"{self.name} {decimal_string(self.rate)}%"


class DiscountType(enum.Enum):
    PERCENT = "Percent"
    VALUE = "Value"


class WitholdingType(enum.Enum):
    PERCENT = "percent"
    VALUE = "value"


class InvoiceStatus(enum.Enum):
    """`transaction_status` of a sales invoice: (id, name, name_bahasa)."""

    OPEN = (1, "Open", "Belum Dibayar")
    CLOSED = (2, "Closed", "Selesai")
    PAID = (3, "Paid", "Lunas")
    PARTIAL = (4, "Partial", "Terbayar Sebagian")
    OVERDUE = (5, "Overdue", "Lewat Jatuh Tempo")

    @property
    def id(self) -> int:
        return self.value[0]

    @property
    def label(self) -> str:
        return self.value[1]

    @property
    def label_bahasa(self) -> str:
        return self.value[2]


@dataclass(frozen=True)
class LineTotals:
    index: int
    quantity: Decimal
    rate: Decimal
    discount_percent: Decimal
    gross: Decimal  # quantity × rate
    line_discount: Decimal  # gross × discount / 100
    amount: Decimal  # gross − line discount: the line "amount"
    invoice_discount_share: Decimal  # this line's part of discount_price
    net: Decimal  # amount − its share of the invoice discount
    taxable: Decimal
    tax: Tax | None
    tax_amount: Decimal  # rounded to 2 decimals


@dataclass(frozen=True)
class TaxDetail:
    name: str  # "PPN 11.0%"
    tax_amount: Decimal


@dataclass(frozen=True)
class InvoiceTotals:
    lines: tuple[LineTotals, ...]
    subtotal: Decimal
    discount_per_lines: Decimal
    base: Decimal  # Σ line amounts
    discount_type: DiscountType | None
    discount_unit: Decimal
    discount_price: Decimal
    tax_after_discount: bool
    use_tax_inclusive: bool
    tax_amount: Decimal
    tax_details: tuple[TaxDetail, ...]
    shipping_price: Decimal
    original_amount: Decimal
    witholding_type: WitholdingType
    witholding_value: Decimal
    witholding_amount: Decimal
    deposit: Decimal
    payment_received_amount: Decimal
    amount_receive: Decimal
    return_amount: Decimal
    remaining: Decimal
    credit_memo_balance: Decimal  # what returns gave back beyond the unpaid balance

    def status(self, due_date: date | None, today: date) -> InvoiceStatus:
        return invoice_status(self.remaining, self.amount_receive, due_date, today)


@dataclass(frozen=True)
class ReturnLineTotals:
    transaction_line_id: str
    return_quantity: Decimal
    rate: Decimal
    discount_lines: Decimal  # the returned part of the line discount
    line_return_amount: Decimal
    discount_whole: Decimal  # the returned part of the invoice discount
    taxable: Decimal
    tax: Tax | None
    returned_tax: Decimal


@dataclass(frozen=True)
class ReturnTotals:
    lines: tuple[ReturnLineTotals, ...]
    discount_lines: Decimal
    line_return_total: Decimal  # R: Σ line_return_amount
    discount_whole: Decimal
    returned_tax: Decimal
    returned_witholding_amount: Decimal
    return_amount: Decimal


# -- conversions ------------------------------------------------------------------------------


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """Money or a quantity as Decimal; None and "" are zero; floats go through `str`."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ArithmeticInputError(f"{field} must be a number, not {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ArithmeticInputError(f"{field} must be a number, not {value!r}") from None
    if not number.is_finite():
        raise ArithmeticInputError(f"{field} must be a finite number, not {value!r}")
    return number


def to_flag(value: object) -> bool:
    """Jurnal takes booleans as JSON booleans or as the strings "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def decimal_string(value: Decimal) -> str:
    """Jurnal's decimal string: at least one decimal, no exponent (10692000 → "10692000.0")."""
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


# -- taxes ------------------------------------------------------------------------------------


def resolve_line_tax(line: Body, taxes: Sequence[Tax]) -> Tax | None:
    """The tax a line refers to: `line_tax_id` (id or custom id) wins over `line_tax_name`
    (case-insensitive); an answer-shaped nested `line_tax` with a rate stands for itself."""
    nested = line.get("line_tax")
    if isinstance(nested, Mapping):
        if nested.get("rate") not in (None, ""):
            name = str(nested.get("name") or "")
            tax_id = nested.get("id")
            return Tax(id=_id_or_none(tax_id), name=name, rate=to_decimal(nested["rate"], "rate"))
        if nested.get("id") is not None:
            return _tax_by_id(nested["id"], taxes)
        return None
    if line.get("line_tax_id") not in (None, ""):
        return _tax_by_id(line["line_tax_id"], taxes)
    by_name = line.get("line_tax_name")
    if by_name not in (None, ""):
        wanted = str(by_name).casefold()
        for tax in taxes:
            if tax.name.casefold() == wanted:
                return tax
        raise ArithmeticInputError(f"unknown tax {by_name!r}")
    return None


def _tax_by_id(reference: object, taxes: Sequence[Tax]) -> Tax:
    wanted = str(reference)
    for tax in taxes:
        if str(tax.id) == wanted or (tax.custom_id is not None and tax.custom_id == wanted):
            return tax
    raise ArithmeticInputError(f"unknown tax id {reference!r}")


def _id_or_none(value: object) -> int | str | None:
    if value is None or isinstance(value, (int, str)):
        return value
    return str(value)


def line_tax_amount(taxable: Decimal, tax: Tax | None, *, inclusive: bool) -> Decimal:
    if tax is None:
        return ZERO
    if inclusive:
        return round_money(taxable * tax.rate / (HUNDRED + tax.rate))
    return round_money(taxable * tax.rate / HUNDRED)


# -- invoice ----------------------------------------------------------------------------------


def discount_type_of(body: Body) -> DiscountType | None:
    """`discount_type_name` (any case) or an answer's nested `discount_type.name`."""
    raw = body.get("discount_type_name")
    nested = body.get("discount_type")
    if raw in (None, "") and isinstance(nested, Mapping):
        raw = nested.get("name")
    if raw in (None, ""):
        return None
    for kind in DiscountType:
        if str(raw).strip().casefold() == kind.value.casefold():
            return kind
    raise ArithmeticInputError(f"discount type must be Percent or Value, not {raw!r}")


def witholding_type_of(body: Body) -> WitholdingType:
    raw = body.get("witholding_type")
    if raw in (None, ""):
        return WitholdingType.PERCENT
    for kind in WitholdingType:
        if str(raw).strip().casefold() == kind.value:
            return kind
    raise ArithmeticInputError(f"witholding type must be percent or value, not {raw!r}")


def invoice_lines(body: Body) -> list[Body]:
    lines = body.get("transaction_lines_attributes")
    if not isinstance(lines, list) or not all(isinstance(line, Mapping) for line in lines):
        raise ArithmeticInputError("transaction_lines_attributes must be a list of lines")
    return list(lines)


def invoice_totals(
    body: Body,
    taxes: Iterable[Tax],
    *,
    payment_received_amount: object = ZERO,
    return_amount: object = ZERO,
) -> InvoiceTotals:
    """Jurnal's totals of a sales invoice body (§7), given the company's taxes, the payments
    applied since creation (receive payments) and the sales returns made against it."""
    tax_table = list(taxes)
    lines = invoice_lines(body)
    quantities = [to_decimal(line.get("quantity"), "quantity") for line in lines]
    rates = [to_decimal(line.get("rate"), "rate") for line in lines]
    percents = [to_decimal(line.get("discount"), "discount") for line in lines]
    grosses = [q * r for q, r in zip(quantities, rates, strict=True)]
    line_discounts = [g * d / HUNDRED for g, d in zip(grosses, percents, strict=True)]
    amounts = [g - d for g, d in zip(grosses, line_discounts, strict=True)]
    base = sum(amounts, ZERO)

    discount_type = discount_type_of(body)
    discount_unit = to_decimal(body.get("discount_unit"), "discount_unit")
    discount_price = invoice_discount(base, discount_type, discount_unit)
    shares = spread_pro_rata(discount_price, amounts)

    after_discount = to_flag(body.get("tax_after_discount"))
    inclusive = to_flag(body.get("use_tax_inclusive"))
    line_totals = []
    for index, line in enumerate(lines):
        net = amounts[index] - shares[index]
        taxable = net if after_discount else amounts[index]
        tax = resolve_line_tax(line, tax_table)
        line_totals.append(
            LineTotals(
                index=index,
                quantity=quantities[index],
                rate=rates[index],
                discount_percent=percents[index],
                gross=grosses[index],
                line_discount=line_discounts[index],
                amount=amounts[index],
                invoice_discount_share=shares[index],
                net=net,
                taxable=taxable,
                tax=tax,
                tax_amount=line_tax_amount(taxable, tax, inclusive=inclusive),
            )
        )
    tax_amount = sum((line.tax_amount for line in line_totals), ZERO)
    shipping = (
        to_decimal(body.get("shipping_price"), "shipping_price")
        if to_flag(body.get("is_shipped"))
        else ZERO
    )
    after_invoice_discount = base - discount_price
    if inclusive:
        original_amount = after_invoice_discount + shipping
        witholding_base = after_invoice_discount - tax_amount
    else:
        original_amount = after_invoice_discount + tax_amount + shipping
        witholding_base = after_invoice_discount
    witholding_type = witholding_type_of(body)
    witholding_value = to_decimal(body.get("witholding_value"), "witholding_value")
    witholding_amount = (
        witholding_base * witholding_value / HUNDRED
        if witholding_type is WitholdingType.PERCENT
        else witholding_value
    )
    deposit = to_decimal(body.get("deposit"), "deposit")
    received = to_decimal(payment_received_amount, "payment_received_amount")
    returned = to_decimal(return_amount, "return_amount")
    amount_receive = deposit + received
    unpaid = original_amount - witholding_amount - amount_receive
    return InvoiceTotals(
        lines=tuple(line_totals),
        subtotal=sum(grosses, ZERO),
        discount_per_lines=sum(line_discounts, ZERO),
        base=base,
        discount_type=discount_type,
        discount_unit=discount_unit,
        discount_price=discount_price,
        tax_after_discount=after_discount,
        use_tax_inclusive=inclusive,
        tax_amount=tax_amount,
        tax_details=group_tax_details(line_totals),
        shipping_price=shipping,
        original_amount=original_amount,
        witholding_type=witholding_type,
        witholding_value=witholding_value,
        witholding_amount=witholding_amount,
        deposit=deposit,
        payment_received_amount=received,
        amount_receive=amount_receive,
        return_amount=returned,
        remaining=max(unpaid - returned, ZERO),
        credit_memo_balance=max(returned - max(unpaid, ZERO), ZERO),
    )


def invoice_discount(base: Decimal, kind: DiscountType | None, unit: Decimal) -> Decimal:
    if kind is DiscountType.VALUE:
        return unit
    return base * unit / HUNDRED


def spread_pro_rata(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` by weight, each share rounded to 2 decimals, the last weighted line taking
    the remainder so the shares add up to `total` exactly."""
    weight_sum = sum(weights, ZERO)
    if total == ZERO or weight_sum == ZERO:
        return [ZERO] * len(weights)
    last = max(i for i, weight in enumerate(weights) if weight != ZERO)
    shares = [
        round_money(total * weight / weight_sum) if i < last else ZERO
        for i, weight in enumerate(weights)
    ]
    shares[last] = total - sum(shares, ZERO)
    return shares


def group_tax_details(lines: Iterable[LineTotals | ReturnLineTotals]) -> tuple[TaxDetail, ...]:
    """Tax per tax, in order of first appearance, named as Jurnal names them."""
    sums: dict[str, Decimal] = {}
    for line in lines:
        if line.tax is None:
            continue
        amount = line.tax_amount if isinstance(line, LineTotals) else line.returned_tax
        name = line.tax.detail_name
        sums[name] = sums.get(name, ZERO) + amount
    return tuple(TaxDetail(name=name, tax_amount=amount) for name, amount in sums.items())


def invoice_status(
    remaining: Decimal, amount_receive: Decimal, due_date: date | None, today: date
) -> InvoiceStatus:
    """Paid when nothing remains; Overdue (which wins over Partial) once the due date has passed;
    Partial when something was received; otherwise Open."""
    if remaining <= ZERO:
        return InvoiceStatus.PAID
    if due_date is not None and due_date < today:
        return InvoiceStatus.OVERDUE
    if amount_receive > ZERO:
        return InvoiceStatus.PARTIAL
    return InvoiceStatus.OPEN


# -- sales return -----------------------------------------------------------------------------


def sales_return_totals(
    return_body: Body, invoice_body: Body, taxes: Iterable[Tax]
) -> ReturnTotals:
    """Jurnal's totals of a sales return (§8) against its invoice.

    The invoice's lines must carry their Jurnal `id`; each return line names one by
    `transaction_line_id` with a `return_quantity`."""
    tax_table = list(taxes)
    invoice = invoice_totals(invoice_body, tax_table)
    lines_by_id = {
        str(line.get("id")): (line, totals)
        for line, totals in zip(invoice_lines(invoice_body), invoice.lines, strict=True)
    }
    return_lines = return_body.get("transaction_return_lines_attributes")
    if not isinstance(return_lines, list) or not all(isinstance(r, Mapping) for r in return_lines):
        raise ArithmeticInputError("transaction_return_lines_attributes must be a list of lines")

    totals = []
    for returned in return_lines:
        line_id = str(returned.get("transaction_line_id"))
        if line_id not in lines_by_id:
            raise ArithmeticInputError(f"invoice has no line {line_id}")
        _, invoice_line = lines_by_id[line_id]
        quantity = to_decimal(returned.get("return_quantity"), "return_quantity")
        totals.append(_return_line(line_id, quantity, invoice_line, invoice))

    line_return_total = sum((line.line_return_amount for line in totals), ZERO)
    discount_whole = sum((line.discount_whole for line in totals), ZERO)
    returned_tax = sum((line.returned_tax for line in totals), ZERO)
    after_discount = line_return_total - discount_whole
    net_of_tax = after_discount - returned_tax if invoice.use_tax_inclusive else after_discount
    witholding = _returned_witholding(net_of_tax, invoice)
    tax_added = ZERO if invoice.use_tax_inclusive else returned_tax
    return ReturnTotals(
        lines=tuple(totals),
        discount_lines=sum((line.discount_lines for line in totals), ZERO),
        line_return_total=line_return_total,
        discount_whole=discount_whole,
        returned_tax=returned_tax,
        returned_witholding_amount=witholding,
        return_amount=after_discount + tax_added - witholding,
    )


def _return_line(
    line_id: str, quantity: Decimal, line: LineTotals, invoice: InvoiceTotals
) -> ReturnLineTotals:
    gross = quantity * line.rate
    discount_lines = gross * line.discount_percent / HUNDRED
    amount = gross - discount_lines
    if invoice.discount_type is DiscountType.VALUE:
        share = (
            round_money(line.invoice_discount_share * quantity / line.quantity)
            if line.quantity != ZERO
            else ZERO
        )
    else:
        share = amount * invoice.discount_unit / HUNDRED
    taxable = amount - share if invoice.tax_after_discount else amount
    return ReturnLineTotals(
        transaction_line_id=line_id,
        return_quantity=quantity,
        rate=line.rate,
        discount_lines=discount_lines,
        line_return_amount=amount,
        discount_whole=share,
        taxable=taxable,
        tax=line.tax,
        returned_tax=line_tax_amount(taxable, line.tax, inclusive=invoice.use_tax_inclusive),
    )


def _returned_witholding(net_of_tax: Decimal, invoice: InvoiceTotals) -> Decimal:
    if invoice.witholding_type is WitholdingType.PERCENT:
        return net_of_tax * invoice.witholding_value / HUNDRED
    invoice_net = invoice.base - invoice.discount_price
    if invoice.use_tax_inclusive:
        invoice_net -= invoice.tax_amount
    if invoice_net == ZERO:
        return ZERO
    return round_money(invoice.witholding_value * net_of_tax / invoice_net)
