"""Builds v3 payment objects exactly in the shape of `data.payments[]` in Moka's example
(reference §8): sales and invoices from a cart. Money is computed by `pricing` and written as
floats.

Payments are plain dicts because that is what the API serves and what webhooks carry; the
functions that change a payment (`refunds.apply_refund`, `invoices.record_invoice_payment`)
mutate it. Refunds and invoice payments have their own rooms (`refunds`, `invoices`); this one
builds sales and the rows they share.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from domain.moka_money import moka_decimal as to_decimal
from domain.moka_payment_types import label_for
from sandbox.moka.formats import (
    display_date,
    display_time,
    iso_us,
    money,
    total,
)
from sandbox.moka.pricing import (
    ZERO,
    Charge,
    Discount,
    DiscountInput,
    LineInput,
    Priced,
    PricedLine,
    Rounding,
    mills,
    price,
    spread_cash,
)

Json = dict[str, Any]
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# A card, e-wallet or transfer moves whole rupiah, so a non-cash sale's amount due is rounded
# down to the rupiah (in the customer's favour, like the cash rounding of the example), the
# difference shown in `total_rounding_amount` (null when nothing was rounded). Inferred: Moka
# does not say how it gets there (§15 item 7).
WHOLE_RUPIAH = Rounding(Decimal(1), "down")


class Ids:
    """UUIDs from a seeded RNG, so that the same seed gives the same ids."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def guid(self) -> str:
        return self.uuid().upper()


@dataclass(frozen=True)
class Staff:
    id: int
    name: str
    title: str


@dataclass
class PaymentContext:
    """What a payment needs to know about its outlet, plus the receipt counters."""

    business_id: int
    outlet_id: int
    outlet_name: str
    device_uniq_id: str
    staff: Sequence[Staff]
    latitude: float
    longitude: float
    rounding: Rounding = field(default_factory=Rounding)
    receipt_counter: int = 0
    order_counter: int = 0

    def next_payment_no(self) -> str:
        self.receipt_counter += 1
        number, digits = self.receipt_counter, []
        for _ in range(7):
            number, digit = divmod(number, 36)
            digits.append(BASE36[digit])
        return "".join(reversed(digits))

    def next_order_id(self) -> str:
        self.order_counter += 1
        return f"{self.device_uniq_id}TH{self.order_counter % 10000:04d}"

    def staff_named(self, name: str | None) -> Staff:
        return next((s for s in self.staff if s.name == name), self.staff[0])


@dataclass
class CartLine:
    item: Json
    variant: Json
    quantity: int
    options: list[tuple[Json, Json]] = field(default_factory=list)
    discounts: list[Discount] = field(default_factory=list)
    note: str | None = None


@dataclass
class Cart:
    """One sale as the cashier rang it up; `price_cart` turns it into a v3 payment."""

    created_at: datetime
    sales_type: Json
    lines: list[CartLine]
    payment_type: str = "cash"
    bill_discounts: list[Discount] = field(default_factory=list)
    customer: Json | None = None
    gratuities: list[Charge] = field(default_factory=list)
    taxes: list[Charge] = field(default_factory=list)
    include_gratuity_tax: bool = False
    enable_rounding: bool = True
    # The outlet's checkout settings, which every payment repeats (§7), whether or not this
    # sale carries a tax or a service charge.
    enable_tax: bool = True
    enable_gratuity: bool = True
    tendered: Decimal | None = None
    cash_note: Decimal | None = None
    payment_note: str | None = None
    card_type: str | None = None
    card_no: str | None = None
    served_by: Staff | None = None
    table_name: str = ""
    invoice_days: int = 7
    payment_id: str | None = None
    synchronized_after: timedelta = timedelta(seconds=5, microseconds=129000)


def unit_price(
    item: Json, variant: Json, sales_type: Json, options: Sequence[tuple[Json, Json]]
) -> tuple[Decimal, Decimal]:
    """(library price, line unit price): the variant's (or sales-type) price plus its options,
    which keeps modifier revenue inside the line (reference §9.3, line 2)."""
    library = to_decimal(variant.get("price"))
    if item.get("is_sales_type_price"):
        for entry in variant.get("sales_type_items") or []:
            if entry.get("sales_type_id") == sales_type["id"]:
                library = to_decimal(entry.get("sales_type_price"))
    return library, library + sum((to_decimal(option["price"]) for _, option in options), ZERO)


def price_cart(cart: Cart, ctx: PaymentContext, ids: Ids) -> Json:
    """A sale (or an unpaid invoice) as a v3 payment, with every total and row consistent."""
    prices = [
        unit_price(line.item, line.variant, cart.sales_type, line.options) for line in cart.lines
    ]
    grosses = [unit * line.quantity for (_, unit), line in zip(prices, cart.lines, strict=True)]
    bill_shares = {d.id: spread_cash(d, grosses) for d in cart.bill_discounts if d.kind == "cash"}
    inputs = []
    for index, line in enumerate(cart.lines):
        # An item-level cash discount takes its nominal off the line, never more than the line.
        given = [
            DiscountInput(d, False, min(d.cash, grosses[index]) if d.kind == "cash" else None)
            for d in line.discounts
        ]
        given += [
            DiscountInput(d, True, bill_shares[d.id][index] if d.kind == "cash" else None)
            for d in cart.bill_discounts
        ]
        inputs.append(LineInput(prices[index][1], line.quantity, given))
    is_invoice = cart.payment_type == "invoice"
    rounding = tender_rounding(cart.payment_type, ctx, enable_rounding=cart.enable_rounding)
    priced = price(
        inputs,
        gratuities=cart.gratuities if cart.enable_gratuity else [],
        taxes=cart.taxes if cart.enable_tax else [],
        include_gratuity_tax=cart.include_gratuity_tax,
        rounding=rounding,
    )
    priced = without_idle_rounding(priced, rounding)
    staff = cart.served_by or ctx.staff[0]
    payment_id = cart.payment_id or ids.uuid()
    created = cart.created_at
    synced = created + cart.synchronized_after
    checkouts = [
        _sale_checkout(
            ctx,
            ids,
            payment_id,
            index,
            line,
            prices[index][0],
            priced.lines[index],
            cart.sales_type,
            created,
            synced,
        )
        for index, line in enumerate(cart.lines)
    ]
    due = priced.total_collected
    if cart.payment_type == "cash":
        tendered = _cash_tendered(cart, due)
    else:
        tendered = ZERO if is_invoice else due
    payment_no = ctx.next_payment_no()
    customer = cart.customer
    return {
        "id": payment_id,
        "payment_no": payment_no,
        "created_at": iso_us(created),
        "updated_at": iso_us(created),
        "parent_payment_created_at": iso_us(created),
        "total_collected": total(due),
        "total_item_price_amount": 0,
        "name": cart.lines[0].item["name"],
        "parent_payment_id": payment_id,
        "payment_type": cart.payment_type,
        "payment_type_label": label_for(cart.payment_type),
        "customer_id": customer["id"] if customer else None,
        "payment_note": cart.payment_note,
        "discounts": total(priced.discounts),
        "subtotal": total(priced.subtotal),
        "gratuities": total(priced.gratuities),
        "taxes": total(priced.taxes),
        "tendered": total(tendered),
        "change": total(tendered - due) if cart.payment_type == "cash" else 0,
        "include_gratuity_tax": cart.include_gratuity_tax,
        "enable_tax": cart.enable_tax,
        "enable_gratuity": cart.enable_gratuity,
        "card_type": cart.card_type,
        "card_no": cart.card_no,
        "transaction_date": display_date(created),
        "transaction_time": display_time(created),
        "collected_by": staff.name,
        "served_by": staff.name,
        "synchronized_at": iso_us(synced),
        "outlet_id": ctx.outlet_id,
        "pg_mid": None,
        "mpos_device_id": None,
        "transaction_certificate": None,
        "transaction_status_info": None,
        "mpos_transaction_date": None,
        "merchant_id": None,
        "transaction_reference": None,
        "transaction_number": None,
        "order_info": None,
        "cc_name": cart.card_type and (customer or {}).get("name"),
        "pii": None,
        "guid": ids.guid(),
        "uniq_id": ctx.device_uniq_id,
        "invoice_due_date": (
            (created + timedelta(days=cart.invoice_days)).date().isoformat() if is_invoice else None
        ),
        "invoice_no": f"INV{payment_no}" if is_invoice else None,
        "invoice_deposit_amount": 0 if is_invoice else None,
        "invoice_payment_records": [] if is_invoice else None,
        "payment_discounts": [
            payment_discount(ids, payment_id, discount, amount, created, synced)
            for discount, amount in priced.bill_discount_totals()
        ],
        "payment_taxes": [
            {
                "created_at": iso_us(created),
                "updated_at": iso_us(synced),
                "amount": money(row.charge.rate),
                "tax_id": row.charge.id,
                "payment_uuid": payment_id,
                "uuid": ids.uuid(),
                "taxable_amount": money(row.taxable),
                "total": money(row.total),
                "name": row.charge.name,
            }
            for row in priced.tax_rows
        ],
        "payment_gratuities": [
            payment_gratuity(ids, payment_id, charge, amount, created, synced)
            for charge, amount in priced.gratuity_rows
        ],
        "checkouts": checkouts,
        "payment_refunds": [],
        "is_refund_breakdown": True,
        "total_refund": 0,
        "is_refunded": False,
        "refund_amount": 0,
        "customer_name": customer["name"] if customer else None,
        "customer_phone": (customer or {}).get("phone") or "",
        "customer_email": (customer or {}).get("email") or "",
        "table_name": cart.table_name,
        "total_rounding_amount": None if priced.rounding is None else total(priced.rounding),
        "order_id": ctx.next_order_id(),
    }


def tender_rounding(
    payment_type: str, ctx: PaymentContext, *, enable_rounding: bool
) -> Rounding | None:
    """How the amount due is rounded for a tender: cash by the outlet's cash rounding (when on),
    other tenders to the whole rupiah. An invoice keeps its exact amount due (§9.2 item 6); its
    later payments are whole rupiah or cash."""
    if payment_type == "cash":
        return ctx.rounding if enable_rounding else None
    if payment_type == "invoice":
        return None
    return WHOLE_RUPIAH


def without_idle_rounding(priced: Priced, rounding: Rounding | None) -> Priced:
    """A non-cash amount already whole was not rounded: its `total_rounding_amount` is null."""
    if rounding is WHOLE_RUPIAH and priced.rounding == 0:
        return replace(priced, rounding=None)
    return priced


def _cash_tendered(cart: Cart, due: Decimal) -> Decimal:
    """What the customer handed over: as given, else the smallest multiple of the note that
    covers the bill, else the exact amount."""
    if cart.tendered is not None:
        return cart.tendered
    if cart.cash_note:
        return (due / cart.cash_note).to_integral_value(ROUND_CEILING) * cart.cash_note
    return due


def payment_discount(
    ids: Ids, payment_id: str, discount: Discount, amount: Decimal, at: datetime, synced: datetime
) -> Json:
    return {
        "created_at": iso_us(at),
        "updated_at": iso_us(synced),
        "uuid": ids.uuid(),
        "discount_percentage": money(discount.rate) if discount.rate else 0,
        "payment_uuid": payment_id,
        "discount_id": discount.id,
        "discount_name": discount.name,
        "discount_amount": money(amount),
        "discount_type": discount.kind,
        "discount_cash": money(discount.cash),
        "is_deleted": None,
    }


def payment_gratuity(
    ids: Ids, payment_id: str, charge: Charge, amount: Decimal, at: datetime, synced: datetime
) -> Json:
    return {
        "created_at": iso_us(at),
        "updated_at": iso_us(synced),
        "uuid": ids.uuid(),
        "name": charge.name,
        "amount": money(charge.rate),
        "total": money(amount),
        "payment_uuid": payment_id,
        "gratuity_id": charge.id,
    }


def _sale_checkout(
    ctx: PaymentContext,
    ids: Ids,
    payment_id: str,
    position: int,
    line: CartLine,
    library: Decimal,
    priced: PricedLine,
    sales_type: Json,
    at: datetime,
    synced: datetime,
) -> Json:
    checkout_id = ids.uuid()
    modifiers = [
        modifier(ctx, ids, payment_id, checkout_id, group, option, priced, at, synced, refund=False)
        for group, option in line.options
    ]
    discounts = [
        {
            "discount_id": applied.discount.id,
            "discount_type": applied.discount.kind,
            "discount_name": applied.discount.name,
            "discount_percentage": money(applied.discount.rate),
            "discount_cash": total(applied.discount.cash),
            "discount_amount": total(applied.amount),
        }
        for applied in priced.discounts
    ]
    return checkout(
        ctx=ctx,
        ids=ids,
        checkout_id=checkout_id,
        payment_id=payment_id,
        parent_checkout=None,
        position=position,
        snapshot=_snapshot_of(line, sales_type, library),
        priced=priced,
        at=at,
        synced=synced,
        discounts=discounts,
        modifiers=modifiers,
    )


def _snapshot_of(line: CartLine, sales_type: Json, library: Decimal) -> Json:
    """The names and ids a checkout copies from the library at sale time."""
    variant, item = line.variant, line.item
    category = item.get("category") or {}
    return {
        "item_id": item["id"],
        "item_name": item["name"],
        "item_variant_id": variant["id"],
        "item_variant_name": variant.get("name") or "",
        "sku": variant.get("sku") or "",
        "category_id": item.get("category_id"),
        "category_name": category.get("name"),
        "sales_type_id": sales_type["id"],
        "sales_type_name": sales_type["name"],
        "track_stock": bool(variant.get("track_stock")),
        "unit_cogs": to_decimal(variant.get("cogs")) if variant.get("track_cogs") else ZERO,
        "item_price_library": library,
        "note": line.note,
    }


def checkout(
    *,
    ctx: PaymentContext,
    ids: Ids,
    checkout_id: str,
    payment_id: str,
    parent_checkout: str | None,
    position: int,
    snapshot: Json,
    priced: PricedLine,
    at: datetime,
    synced: datetime,
    discounts: list[Json],
    modifiers: list[Json],
) -> Json:
    refund = parent_checkout is not None
    gratuity_rows = [
        {
            "created_at": iso_us(at),
            "updated_at": iso_us(synced),
            "uuid": ids.uuid(),
            "gratuity_name": charge.name,
            "amount": money(charge.rate),
            "total": money(share),
            "checkout_uuid": checkout_id,
            "gratuity_id": charge.id,
            "sales_type_id": snapshot["sales_type_id"],
            "sales_type_name": snapshot["sales_type_name"],
        }
        for charge, share in priced.gratuities
    ]
    # On a refund line `price` takes the refund's sign while `item_price` stays positive (§8.4).
    signed_price = -priced.price if refund else priced.price
    return {
        "created_at": iso_us(at),
        "updated_at": iso_us(synced),
        "item_discount": 0,
        "parent_checkout_uuid": parent_checkout,
        "uuid": checkout_id,
        "gross_sales": money(priced.gross),
        "item_name": snapshot["item_name"],
        "refunded_quantity": 0,
        "item_id": snapshot["item_id"],
        "sales_type_name": snapshot["sales_type_name"],
        "tax_amount": money(priced.tax_amount),
        "item_variant_name": snapshot["item_variant_name"],
        "is_deleted": False,
        "track_stock": snapshot["track_stock"],
        "payment_uuid": payment_id,
        "is_program_item": False,
        "sales_type_id": snapshot["sales_type_id"],
        "item_variant_id": snapshot["item_variant_id"],
        "item_price_library": money(snapshot["item_price_library"]),
        "category_name": snapshot["category_name"],
        "position": position,
        "net_sales": money(priced.net),
        "cogs": money(snapshot["unit_cogs"] * priced.quantity),
        "sku": snapshot["sku"],
        "is_recipe": False,
        "redeem_amount": 0.0,
        "quantity": priced.quantity,
        "price": money(signed_price),
        "item_price_discount": money(priced.net),
        "item_price_discount_gratuity": 0,
        "custom_amount": 0.0,
        "business_id": ctx.business_id,
        "item_price": money(priced.price),
        "total_price": money(priced.net),
        "outlet_id": ctx.outlet_id,
        "item_image": "",
        "category_id": snapshot["category_id"],
        "item_price_quantity": money(priced.gross),
        "discount_amount": money(priced.discount_amount),
        "gratuity_amount": money(priced.gratuity_amount),
        "note": snapshot["note"],
        "gratuities": gratuity_rows,
        "discounts": discounts,
        "modifiers": modifiers,
        "bundle_id": None,
        "item_type": None,
    }


def modifier(
    ctx: PaymentContext,
    ids: Ids,
    payment_id: str,
    checkout_id: str,
    group: Json,
    option: Json,
    line: PricedLine,
    at: datetime,
    synced: datetime,
    *,
    refund: bool,
) -> Json:
    """A modifier row: a breakdown of its line (R6, R7), never an addition to it. Refund lines
    carry these rows positive, as in the official example."""
    option_price = to_decimal(option["price"])
    gross = option_price * abs(line.quantity)
    share = gross / abs(line.gross) if line.gross else ZERO
    discount = mills(abs(line.discount_amount) * share)
    row: Json = {"created_at": iso_us(at), "updated_at": iso_us(synced)}
    if refund:
        row["id"] = 0
    row |= {
        "uuid": ids.uuid(),
        "gross_sales": money(gross),
        "net_sales": money(gross - discount),
        "modifier_id": group["id"],
        "payment_uuid": payment_id,
        "discount_amount": money(discount),
        "modifier_option_name": option["name"],
        "price": total(option_price),
        "modifier_name": group["name"],
        "modifier_option_id": option["id"],
        "cogs": None,
        "checkout_uuid": checkout_id,
        "outlet_id": ctx.outlet_id,
        "redeem_amount": 0.0,
        "discounts": [
            {
                "created_at": iso_us(at),
                "updated_at": iso_us(at),
                "discount_id": applied.discount.id,
                "discount_amount": money(mills(abs(applied.amount) * share)),
                "discount_name": applied.discount.name,
                "discount_type": applied.discount.kind,
                "discount_percentage": money(applied.discount.rate),
                "discount_cash": total(applied.discount.cash),
                "discount_guid": applied.discount.guid,
            }
            for applied in line.discounts
        ],
    }
    return row


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def move_updated_at(sale: Json) -> None:
    """Keep `updated_at` no earlier than `created_at` after any change."""
    if instant(sale["updated_at"]) < instant(sale["created_at"]):
        sale["updated_at"] = sale["created_at"]
