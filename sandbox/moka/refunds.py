"""Refunds of a Moka sale, as Moka nests them in the sale's `payment_refunds[]` (reference §8):
`refund_payment` builds a refund object for some units of some lines, or the whole sale, and
`apply_refund` records it on the sale (a mutation, as Moka moves the sale's `updated_at`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.moka_money import moka_decimal
from sandbox.moka.formats import display_date, display_time, iso_us, money, total
from sandbox.moka.payments import (
    Ids,
    PaymentContext,
    Staff,
    checkout,
    instant,
    modifier,
    move_updated_at,
    payment_discount,
    payment_gratuity,
    tender_rounding,
    without_idle_rounding,
)
from sandbox.moka.pricing import (
    ZERO,
    Charge,
    Discount,
    DiscountInput,
    LineInput,
    Priced,
    cents,
    price,
)

Json = dict[str, Any]


class RefundError(ValueError):
    """The refund asks for more than the sale has left, or names a line it does not have."""


def refund_payment(
    sale: Json,
    ctx: PaymentContext,
    ids: Ids,
    *,
    at: datetime,
    quantities: dict[str, int] | None = None,
    reason: str = "Cancelled Order",
    payment_type: str | None = None,
    refunded_by: Staff | None = None,
) -> Json:
    """The raw refund object for `sale` (reference §8.4): every remaining unit when
    `quantities` (checkout uuid → units) is omitted. Partial refunds scale cash-discount shares
    cumulatively (so that refunding every unit gives back exactly the sale's shares) and
    recompute percentages, service charges, taxes and rounding on what is returned."""
    lines = {c["uuid"]: c for c in sale["checkouts"]}
    if quantities is None:
        quantities = {u: c["quantity"] - c["refunded_quantity"] for u, c in lines.items()}
    quantities = {u: q for u, q in quantities.items() if q}
    if not quantities:
        raise RefundError(f"payment {sale['id']} has nothing left to refund")
    for checkout_id, units in quantities.items():
        line = lines.get(checkout_id)
        if line is None:
            raise RefundError(f"payment {sale['id']} has no checkout {checkout_id}")
        if units < 0 or units > line["quantity"] - line["refunded_quantity"]:
            raise RefundError(
                f"checkout {checkout_id} has only "
                f"{line['quantity'] - line['refunded_quantity']} units left"
            )
    bill_level = {row["discount_id"] for row in sale["payment_discounts"]}
    chosen = [lines[u] for u in lines if u in quantities]
    inputs = [_refund_line_input(line, quantities[line["uuid"]], bill_level) for line in chosen]
    # A refund is rounded the way its sale was (cash to the outlet's increment, other tenders to
    # the rupiah), or not at all if the sale was not rounded.
    rounding = None
    if sale["total_rounding_amount"] is not None:
        rounding = tender_rounding(sale["payment_type"], ctx, enable_rounding=True)
    priced = price(
        inputs,
        gratuities=[
            Charge(r["gratuity_id"], r["name"], moka_decimal(r["amount"]))
            for r in sale["payment_gratuities"]
        ],
        taxes=[
            Charge(r["tax_id"], r["name"], moka_decimal(r["amount"])) for r in sale["payment_taxes"]
        ],
        include_gratuity_tax=bool(sale["include_gratuity_tax"]),
        rounding=rounding,
    )
    priced = without_idle_rounding(priced, rounding)
    full = not sale["payment_refunds"] and all(
        quantities.get(u, 0) == c["quantity"] for u, c in lines.items()
    )
    return _refund_object(
        sale, ctx, ids, chosen, priced, at, reason, payment_type, refunded_by, full
    )


def _refund_line_input(line: Json, units: int, bill_level: set[int]) -> LineInput:
    ordered, before = line["quantity"], line["refunded_quantity"]
    given = []
    for row in line["discounts"]:
        discount = Discount(
            row["discount_id"],
            row["discount_name"],
            row["discount_type"],
            moka_decimal(
                row["discount_percentage"]
                if row["discount_type"] == "percentage"
                else row["discount_cash"]
            ),
        )
        amount = None
        if discount.kind == "cash":
            sold = moka_decimal(row["discount_amount"])
            amount = -(cents(sold * (before + units) / ordered) - cents(sold * before / ordered))
        given.append(DiscountInput(discount, discount.id in bill_level, amount))
    return LineInput(moka_decimal(line["item_price"]), -units, given)


def _refund_object(
    sale: Json,
    ctx: PaymentContext,
    ids: Ids,
    chosen: list[Json],
    priced: Priced,
    at: datetime,
    reason: str,
    payment_type: str | None,
    refunded_by: Staff | None,
    full: bool,
) -> Json:
    refund_id = ids.uuid()
    staff = refunded_by or ctx.staff_named(sale["collected_by"])
    synced = at + timedelta(microseconds=356000)
    checkouts = []
    for position, (line, priced_line) in enumerate(zip(chosen, priced.lines, strict=True)):
        checkout_id = ids.uuid()
        modifiers = [
            modifier(
                ctx,
                ids,
                refund_id,
                checkout_id,
                {"id": m["modifier_id"], "name": m["modifier_name"]},
                {
                    "id": m["modifier_option_id"],
                    "name": m["modifier_option_name"],
                    "price": m["price"],
                },
                priced_line,
                at,
                synced,
                refund=True,
            )
            for m in line["modifiers"]
        ]
        discounts = [
            {
                "created_at": None,
                "updated_at": None,
                "discount_id": applied.discount.id,
                "discount_amount": total(applied.amount),
                "discount_name": applied.discount.name,
                "discount_type": applied.discount.kind,
                "discount_percentage": money(applied.discount.rate),
                "discount_cash": total(applied.discount.cash),
                "discount_guid": None,
            }
            for applied in priced_line.discounts
        ]
        snapshot = {
            "item_id": line["item_id"],
            "item_name": line["item_name"],
            "item_variant_id": line["item_variant_id"],
            "item_variant_name": line["item_variant_name"],
            "sku": line["sku"],
            "category_id": line["category_id"],
            "category_name": line["category_name"],
            "sales_type_id": line["sales_type_id"],
            "sales_type_name": line["sales_type_name"],
            "track_stock": line["track_stock"],
            "unit_cogs": moka_decimal(line["cogs"]) / line["quantity"]
            if line["quantity"]
            else ZERO,
            "item_price_library": moka_decimal(line["item_price_library"]),
            "note": line["note"],
        }
        checkouts.append(
            checkout(
                ctx=ctx,
                ids=ids,
                checkout_id=checkout_id,
                payment_id=refund_id,
                parent_checkout=line["uuid"],
                position=position,
                snapshot=snapshot,
                priced=priced_line,
                at=at,
                synced=synced,
                discounts=discounts,
                modifiers=modifiers,
            )
        )
    paid_back = -priced.total_collected
    customer_name = sale["customer_name"] or ""
    return {
        "created_at": iso_us(at),
        "updated_at": iso_us(at),
        "transaction_reference": None,
        "amount_pay": 0,
        "business_id": ctx.business_id,
        "pii": None,
        "longitude": ctx.longitude,
        "include_gratuity_tax": sale["include_gratuity_tax"],
        "refunded_reason": reason,
        "total_discount_amount": total(priced.discounts),
        "collected_by": staff.name,
        "created_by": staff.id,
        "uuid": refund_id,
        "auth_code": None,
        "creator_name": staff.name,
        "is_sales_type": True,
        "refund_amount": total(paid_back),
        "pg_setting": None,
        "server_name": staff.name,
        "refund_uuid": refund_id,
        "total_collected_amount": total(priced.total_collected),
        "server_title": staff.title,
        "customer_name": customer_name,
        "invoice_due_date": None,
        "cashlezz_transaction_id": None,
        "latitude": ctx.latitude,
        "mpos_transaction_date": None,
        "is_refunded": True,
        "collector_id": None,
        "transaction_status_info": None,
        "guid": ids.uuid(),
        "note": "",
        "receipt_count": 0,
        "bill_id": None,
        "customer_email": sale["customer_email"] or "",
        "transaction_date": display_date(at),
        "total_redeem_amount": 0,
        "synchronized_at": iso_us(synced),
        "outlet_id": ctx.outlet_id,
        "invoice_deposit_amount": None,
        "cvm_result": None,
        "refunded_by": staff.name,
        "uniq_id": "0",
        "sms_id": None,
        "order_info": None,
        "subtotal": total(priced.subtotal),
        "table_name": sale["table_name"] or "",
        "total_custom_price_amount": 0,
        "total_item_price_amount": 0,
        "cc_name": None,
        "transaction_time": display_time(at),
        "server_id": staff.id,
        "pg_mid": None,
        "payment_type": payment_type or _refund_method(sale["payment_type"]),
        "is_offline": None,
        "discount_id": None,
        "card_type": None,
        "payment_no": sale["payment_no"],
        "merchant_id": None,
        "customer_phone": sale["customer_phone"] or "",
        "amount_change": 0,
        "shift_id": None,
        "card_no": None,
        "total_gross_sales": total(priced.gross),
        "total_rounding_amount": None if priced.rounding is None else total(priced.rounding),
        "total_net_sales": total(priced.subtotal),
        "status": "Done",
        "mpos_device_id": None,
        "transaction_certificate": None,
        "refunded_at": iso_us(at),
        "total_tax_amount": total(priced.taxes),
        "refunded_date": iso_us(synced),
        "total_gratuity_amount": total(priced.gratuities),
        "customer_id": sale["customer_id"],
        "transaction_number": None,
        "is_deleted": False,
        "tvr": None,
        "invoice_no": None,
        "is_refund_breakdown": True,
        "aid": None,
        "server_created_at": iso_us(synced),
        "refund_type": "full" if full else "partial",
        "parent_payment_uuid": sale["id"],
        "order_id": None,
        # No derivation of this field is known (§8.4); the sandbox writes the net sales.
        "total_checkouts_amount": total(priced.subtotal),
        "is_loyalty": False,
        "invoice_status": None,
        "checkouts": checkouts,
        "payment_gratuities": [
            payment_gratuity(ids, refund_id, charge, amount, at, synced)
            for charge, amount in priced.gratuity_rows
        ],
        "payment_taxes": [
            {
                "created_at": iso_us(at),
                "updated_at": iso_us(synced),
                "amount": money(row.charge.rate),
                "tax_id": row.charge.id,
                "payment_uuid": refund_id,
                "id": 0,
                "uuid": ids.uuid(),
                "taxable_amount": money(row.taxable),
                "total": money(row.total),
                "name": row.charge.name,
            }
            for row in priced.tax_rows
        ],
        "payment_discounts": [
            {
                "created_at": iso_us(at),
                "updated_at": None,
                "id": 0,
                **{
                    k: v
                    for k, v in payment_discount(ids, refund_id, d, amount, at, synced).items()
                    if k not in ("created_at", "updated_at")
                },
            }
            for d, amount in priced.bill_discount_totals()
        ],
        "tax_type": "AFTER_DISCOUNT",
        "gratuity_type": "AFTER_DISCOUNT",
    }


def _refund_method(sale_type: str) -> str:
    # An invoice is never refunded as "invoice": the money goes back in cash.
    return "cash" if sale_type == "invoice" else sale_type


def apply_refund(sale: Json, refund: Json, *, bump_updated_at: bool = False) -> None:
    """Nest `refund` in its sale: `payment_refunds`, `total_refund` and each line's
    `refunded_quantity`; `is_refunded` stays false, as in the example. The sale's `updated_at`
    moves only with `bump_updated_at` (the switch `refunds_bump_sale_updated_at`, §8.4)."""
    by_uuid = {c["uuid"]: c for c in sale["checkouts"]}
    for line in refund["checkouts"]:
        parent = by_uuid.get(line["parent_checkout_uuid"])
        if parent is not None:
            parent["refunded_quantity"] -= line["quantity"]
    sale["payment_refunds"].append(refund)
    sale["total_refund"] = total(
        moka_decimal(sale["total_refund"]) + moka_decimal(refund["refund_amount"])
    )
    if bump_updated_at:
        apply_refund_bump(sale, refund)
    move_updated_at(sale)


def apply_refund_bump(sale: Json, refund: Json) -> None:
    """Move the sale's `updated_at` up to its refund's, as if refunds touched their sale."""
    sale["updated_at"] = max(sale["updated_at"], refund["updated_at"], key=instant)
