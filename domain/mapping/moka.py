"""A Moka v3 payment (a sale, an unpaid invoice, and the refunds nested in it) read into typed
`Decimal` values, with the consistency checks the mapping relies on.

Moka sends floats; every number goes through `str` into `Decimal`. Refunds are negative in Moka
(reference §8.4); here they are turned into positive magnitudes in this one place, so that the rest
of the mapping never handles a sign. The header totals are the truth (reference §9.2); the rows are
a breakdown the mapping uses (rates, names, per-line amounts), so they are checked against the
headers, to the sen (`ROW_TOLERANCE`), before anything is built on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.mapping.errors import InconsistentPayment, UnsupportedPayment
from domain.moka_money import NotANumber, moka_decimal

Json = Mapping[str, Any]

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# Moka rows carry up to 3 decimals and are rounded one by one; their sums may differ from the
# header by rounding noise, never by a sen or more.
ROW_TOLERANCE = Decimal("0.01")


def money(value: Any, field: str = "amount") -> Decimal:
    """A Moka number as an exact Decimal: floats through `str`; `null` and `""` are zero."""
    try:
        return moka_decimal(value, field)
    except NotANumber as error:
        raise UnsupportedPayment(str(error)) from None


@dataclass(frozen=True)
class Modifier:
    """A modifier option on a line: a breakdown of the line's money, per the line's quantity."""

    uuid: str
    group_id: int | None
    group_name: str
    option_id: int | None
    option_name: str
    gross: Decimal
    net: Decimal


@dataclass(frozen=True)
class Line:
    """A checkout. On a refund, `quantity` and money are the refunded magnitudes (positive)."""

    uuid: str
    parent_uuid: str | None
    item_id: int | None
    item_name: str
    variant_id: int | None
    variant_name: str
    sku: str
    quantity: int
    gross: Decimal
    discount: Decimal
    net: Decimal
    modifiers: tuple[Modifier, ...]
    note: str | None


@dataclass(frozen=True)
class Charge:
    """A payment-level tax or service-charge row: `rate` is a percent, `total` its amount."""

    id: int | None
    name: str
    rate: Decimal
    total: Decimal


@dataclass(frozen=True)
class Totals:
    """The money of a sale or of one refund, positive, with its lines and rows."""

    lines: tuple[Line, ...]
    subtotal: Decimal
    discounts: Decimal
    gratuities: Decimal
    taxes: Decimal
    rounding: Decimal  # signed as in a sale: negative when Moka rounded the amount down
    collected: Decimal  # what changed hands: the sale's total_collected, a refund's refund_amount
    tax_rows: tuple[Charge, ...]
    gratuity_rows: tuple[Charge, ...]
    include_gratuity_tax: bool


@dataclass(frozen=True)
class InvoiceRecord:
    """A later payment of an unpaid invoice (the sandbox's `invoice_payment_records`)."""

    uuid: str
    payment_type: str
    payment_type_label: str
    amount: Decimal
    created_at: datetime


@dataclass(frozen=True)
class Refund:
    uuid: str
    created_at: datetime
    refund_type: str
    reason: str
    payment_type: str
    totals: Totals


@dataclass(frozen=True)
class Payment:
    id: str
    payment_no: str
    outlet_id: str
    created_at: datetime
    payment_type: str
    payment_type_label: str
    customer_id: int | None
    customer_name: str
    totals: Totals
    refunds: tuple[Refund, ...]
    invoice_no: str | None
    invoice_due_date: date | None
    invoice_deposit: Decimal
    invoice_records: tuple[InvoiceRecord, ...]

    @property
    def is_invoice(self) -> bool:
        return self.payment_type == "invoice"

    @property
    def business_date(self) -> date:
        """The sale's date where it happened: `created_at` in its own offset (the outlet's)."""
        return self.created_at.date()


# -- reading ------------------------------------------------------------------------------------


def read_payment(raw: Json) -> Payment:
    """A v3 payment (an element of `data.payments`) with its nested refunds, checked."""
    receipt = _text(raw.get("payment_no")) or _text(raw.get("id"))
    if not raw.get("id"):
        raise UnsupportedPayment(f"Moka payment {receipt!r} has no id")
    sale_lines = tuple(_line(row, refund=False) for row in _rows(raw, "checkouts"))
    uuids = [line.uuid for line in sale_lines] + [
        modifier.uuid for line in sale_lines for modifier in line.modifiers
    ]
    if not all(uuids) or len(set(uuids)) != len(uuids):
        # Lines are told apart by their UUIDs, which Moka has given them since November 2022.
        raise UnsupportedPayment(
            f"Moka receipt {receipt} has lines without their own UUID (a sale from before "
            "November 2022?); such sales are not synced."
        )
    for line in sale_lines:
        if line.quantity <= 0:
            raise UnsupportedPayment(
                f"Moka receipt {receipt} has a line {line.item_name!r} with quantity "
                f"{line.quantity}; only refunds may return goods, so this sale is not posted."
            )
    payment_type = _text(raw.get("payment_type")).lower() or "other"
    totals = _totals(
        raw,
        sale_lines,
        collected=_sale_due(raw, payment_type),
        sign=1,
        names=_SALE_NAMES,
    )
    _check(receipt, totals, raw, _SALE_NAMES, sign=1)
    refunds = tuple(_refund(row, receipt, sale_lines) for row in _rows(raw, "payment_refunds"))
    return Payment(
        id=str(raw["id"]),
        payment_no=receipt,
        outlet_id=_text(raw.get("outlet_id")),
        created_at=_instant(raw.get("created_at"), "created_at"),
        payment_type=payment_type,
        payment_type_label=_text(raw.get("payment_type_label")) or payment_type,
        customer_id=_optional_int(raw.get("customer_id")),
        customer_name=_text(raw.get("customer_name")),
        totals=totals,
        refunds=tuple(sorted(refunds, key=lambda r: (r.created_at, r.uuid))),
        invoice_no=_text(raw.get("invoice_no")) or None,
        invoice_due_date=_optional_date(raw.get("invoice_due_date")),
        invoice_deposit=money(raw.get("invoice_deposit_amount"), "invoice_deposit_amount"),
        invoice_records=tuple(_record(row) for row in raw.get("invoice_payment_records") or []),
    )


@dataclass(frozen=True)
class _Names:
    where: str
    discounts: str
    gratuities: str
    taxes: str
    collected: str


_SALE_NAMES = _Names("sale", "discounts", "gratuities", "taxes", "total_collected")
_REFUND_NAMES = _Names(
    "refund",
    "total_discount_amount",
    "total_gratuity_amount",
    "total_tax_amount",
    "total_collected_amount",
)


def _sale_due(raw: Json, payment_type: str) -> Decimal:
    # An invoice's amount due is subtotal + gratuities + taxes (reference §9.2 item 6: the
    # official invoice rounds its whole amount away); a sale's is what Moka collected.
    if payment_type == "invoice":
        return sum((money(raw.get(key), key) for key in ("subtotal", "gratuities", "taxes")), ZERO)
    return money(raw.get("total_collected"), "total_collected")


def _refund(raw: Json, receipt: str, sale_lines: Sequence[Line]) -> Refund:
    uuid = _text(raw.get("uuid")) or _text(raw.get("refund_uuid"))
    if not uuid:
        raise UnsupportedPayment(f"a refund of Moka receipt {receipt} has no uuid")
    lines = tuple(_line(row, refund=True) for row in _rows(raw, "checkouts"))
    sold = {line.uuid for line in sale_lines}
    for line in lines:
        if line.quantity <= 0:
            raise UnsupportedPayment(
                f"refund {uuid} of Moka receipt {receipt} returns {line.item_name!r} with "
                f"quantity {-line.quantity}; a refund line must return at least one unit."
            )
        if line.parent_uuid not in sold:
            raise InconsistentPayment(
                receipt,
                [f"refund {uuid} returns {line.item_name!r}, which is not a line of the sale"],
            )
    totals = _totals(
        raw,
        lines,
        collected=-money(raw.get("total_collected_amount"), "total_collected_amount"),
        sign=-1,
        names=_REFUND_NAMES,
    )
    _check(receipt, totals, raw, _REFUND_NAMES, sign=-1)
    return Refund(
        uuid=uuid,
        created_at=_instant(raw.get("created_at"), "refund created_at"),
        refund_type=_text(raw.get("refund_type")) or "partial",
        reason=_text(raw.get("refunded_reason")),
        payment_type=_text(raw.get("payment_type")).lower() or "cash",
        totals=totals,
    )


def _totals(
    raw: Json, lines: tuple[Line, ...], *, collected: Decimal, sign: int, names: _Names
) -> Totals:
    return Totals(
        lines=lines,
        subtotal=sign * money(raw.get("subtotal"), "subtotal"),
        discounts=sign * money(raw.get(names.discounts), names.discounts),
        gratuities=sign * money(raw.get(names.gratuities), names.gratuities),
        taxes=sign * money(raw.get(names.taxes), names.taxes),
        rounding=sign * money(raw.get("total_rounding_amount"), "total_rounding_amount"),
        collected=collected,
        tax_rows=tuple(_charge(row, "tax_id", "name", sign) for row in _rows(raw, "payment_taxes")),
        gratuity_rows=tuple(
            _charge(row, "gratuity_id", "name", sign) for row in _rows(raw, "payment_gratuities")
        ),
        include_gratuity_tax=bool(raw.get("include_gratuity_tax")),
    )


def _line(raw: Json, *, refund: bool) -> Line:
    sign = -1 if refund else 1
    quantity = sign * int(money(raw.get("quantity"), "quantity"))
    return Line(
        uuid=_text(raw.get("uuid")),
        parent_uuid=_text(raw.get("parent_checkout_uuid")) or None,
        item_id=_optional_int(raw.get("item_id")),
        item_name=_text(raw.get("item_name")),
        variant_id=_optional_int(raw.get("item_variant_id")),
        variant_name=_text(raw.get("item_variant_name")),
        sku=_text(raw.get("sku")),
        quantity=quantity,
        gross=sign * money(raw.get("gross_sales"), "gross_sales"),
        discount=sign * money(raw.get("discount_amount"), "discount_amount"),
        net=sign * money(raw.get("net_sales"), "net_sales"),
        # Modifier rows are positive even inside refund lines (reference §8.4).
        modifiers=tuple(
            Modifier(
                uuid=_text(row.get("uuid")),
                group_id=_optional_int(row.get("modifier_id")),
                group_name=_text(row.get("modifier_name")),
                option_id=_optional_int(row.get("modifier_option_id")),
                option_name=_text(row.get("modifier_option_name")),
                gross=abs(money(row.get("gross_sales"), "modifier gross_sales")),
                net=abs(money(row.get("net_sales"), "modifier net_sales")),
            )
            for row in raw.get("modifiers") or []
        ),
        note=_text(raw.get("note")) or None,
    )


def _charge(raw: Json, id_key: str, name_key: str, sign: int) -> Charge:
    return Charge(
        id=_optional_int(raw.get(id_key)),
        name=_text(raw.get(name_key)),
        rate=money(raw.get("amount"), "rate"),
        total=sign * money(raw.get("total"), "total"),
    )


def _record(raw: Json) -> InvoiceRecord:
    code = _text(raw.get("payment_type")).lower() or "other"
    return InvoiceRecord(
        uuid=_text(raw.get("uuid")),
        payment_type=code,
        payment_type_label=_text(raw.get("payment_type_label")) or code,
        amount=money(raw.get("amount"), "invoice payment amount"),
        created_at=_instant(raw.get("created_at"), "invoice payment created_at"),
    )


# -- checks -------------------------------------------------------------------------------------


def _check(receipt: str, totals: Totals, raw: Json, names: _Names, *, sign: int) -> None:
    """The relations the mapping builds on (R2–R4, R8 and the tax and service-charge rows)."""
    problems: list[str] = []
    where = names.where

    def near(what: str, left: Decimal, right: Decimal) -> None:
        if abs(left - right) >= ROW_TOLERANCE:
            problems.append(f"{where} {what}: {_fmt(left)} vs {_fmt(right)}")

    for line in totals.lines:
        near(f"line {line.item_name!r} net", line.net, line.gross - line.discount)
        if line.net < ZERO:
            problems.append(
                f"{where} line {line.item_name!r} is discounted below zero ({_fmt(line.net)})"
            )
        modifier_gross = sum((m.gross for m in line.modifiers), ZERO)
        if modifier_gross > line.gross:
            problems.append(
                f"{where} line {line.item_name!r}: its modifiers ({_fmt(modifier_gross)}) "
                f"exceed the line ({_fmt(line.gross)})"
            )
    near("subtotal vs the lines' net sales", totals.subtotal, sum_of(totals.lines, "net"))
    near("discounts vs the lines' discounts", totals.discounts, sum_of(totals.lines, "discount"))
    near("taxes vs the tax rows", totals.taxes, sum((r.total for r in totals.tax_rows), ZERO))
    near(
        "service charges vs the service-charge rows",
        totals.gratuities,
        sum((r.total for r in totals.gratuity_rows), ZERO),
    )
    base = totals.subtotal + (totals.gratuities if totals.include_gratuity_tax else ZERO)
    for row in totals.tax_rows:
        near(f"tax {row.name!r} vs its rate × base", row.total, base * row.rate / HUNDRED)
    for row in totals.gratuity_rows:
        near(
            f"service charge {row.name!r} vs its rate × subtotal",
            row.total,
            totals.subtotal * row.rate / HUNDRED,
        )
    near(
        f"{names.collected} vs subtotal + service charges + taxes + rounding",
        sign * money(raw.get(names.collected), names.collected),
        totals.subtotal + totals.gratuities + totals.taxes + totals.rounding,
    )
    if problems:
        raise InconsistentPayment(receipt, problems)


def sum_of(lines: Sequence[Line], field: str) -> Decimal:
    return sum((getattr(line, field) for line in lines), ZERO)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


# -- small readers ------------------------------------------------------------------------------


def _rows(raw: Json, key: str) -> list[Json]:
    rows = raw.get(key) or []
    if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
        raise UnsupportedPayment(f"Moka field {key!r} is not a list of objects")
    return rows


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _optional_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _instant(value: Any, field: str) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise UnsupportedPayment(f"Moka field {field!r} is not a timestamp: {value!r}") from None


def _optional_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise UnsupportedPayment(f"invoice_due_date is not a date: {value!r}") from None
