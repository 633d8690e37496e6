"""Other shapes of a stored v3 payment: the v4 payment (reference §8.6), the raw invoice row of
`/v3/outlets/{id}/reports/invoices` and the invoice detail (§8.5)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.moka_money import moka_decimal
from sandbox.moka.formats import iso_ms
from sandbox.moka.invoices import invoice_paid, invoice_status
from sandbox.moka.payments import PaymentContext

Json = dict[str, Any]


def as_served(payment: Json, settings: Any) -> Json:
    """The v3 payment as the API and webhooks show it: without the sandbox's invented invoice
    payment records unless the switch `invoice_payment_records` is on (§8.5)."""
    if settings.invoice_payment_records or not payment.get("invoice_payment_records"):
        return payment
    return {**payment, "invoice_payment_records": []}


def as_v4(payment: Json, outlet_name: str, loyalty: Json | None) -> Json:
    """v4 adds `outlet_name` after `outlet_id`, `loyalty` at the end, and `principal_id` and
    `principal_name` on every checkout, refunds' included."""
    shaped: Json = {}
    for key, value in payment.items():
        if key == "checkouts":
            value = [_v4_checkout(c) for c in value]
        elif key == "payment_refunds":
            value = [{**r, "checkouts": [_v4_checkout(c) for c in r["checkouts"]]} for r in value]
        shaped[key] = value
        if key == "outlet_id":
            shaped["outlet_name"] = outlet_name
    shaped["loyalty"] = loyalty
    return shaped


def _v4_checkout(checkout: Json) -> Json:
    shaped: Json = {}
    for key, value in checkout.items():
        shaped[key] = value
        if key == "note":
            shaped["principal_id"] = None
            shaped["principal_name"] = None
    return shaped


def loyalty_of(payment: Json, customer: Json | None) -> Json | None:
    """A member's points on a v4 payment: one point per Rp 10.000 collected."""
    if not customer or not customer.get("loyalty"):
        return None
    balance = int(customer["loyalty"].get("point_balance") or 0)
    earned = int(moka_decimal(payment["total_collected"]) // 10000)
    return {
        "payment_uuid": payment["id"],
        "parent_payment_uuid": None,
        "type": "EARNING",
        "current_balance": balance,
        "new_member_points": 0,
        "new_earned_points": earned,
        "point_correction": 0,
        "closing_balance": balance + earned,
        "member_id": customer["id"],
        "earning_rule": {"id": 0, "type": "SPENDING", "point": 1, "amount": 10000.0},
        "redemption": [],
    }


def _ms(text: str) -> str:
    return iso_ms(datetime.fromisoformat(text))


def invoice_row(payment: Json, ctx: PaymentContext) -> Json:
    """The raw row (88 keys, in the example's order). As in the example, the amount still owed
    sits in `total_rounding_amount` (negative), so that `total_collected_amount` (= `amount_pay`)
    is what has been paid: read the amount due as subtotal + gratuities + taxes (§9.2 item 6)."""
    staff = ctx.staff_named(payment["collected_by"])
    paid = invoice_paid(payment)
    due = (
        moka_decimal(payment["subtotal"])
        + moka_decimal(payment["gratuities"])
        + moka_decimal(payment["taxes"])
    )
    gross = sum((moka_decimal(c["gross_sales"]) for c in payment["checkouts"]), Decimal(0))
    return {
        "id": payment["id"],
        "status": "Done",
        "payment_no": payment["payment_no"],
        "payment_type": "invoice",
        "amount_pay": float(paid),
        "amount_change": 0.0,
        "total_discount_amount": float(moka_decimal(payment["discounts"])),
        "total_gratuity_amount": float(moka_decimal(payment["gratuities"])),
        "total_item_price_amount": 0.0,
        "total_tax_amount": float(moka_decimal(payment["taxes"])),
        # No derivation of this field is known (§8.4); the sandbox writes the net sales.
        "total_checkouts_amount": float(moka_decimal(payment["subtotal"])),
        "is_refunded": False,
        "refunded_reason": None,
        "refunded_date": None,
        "business_id": ctx.business_id,
        "customer_id": payment["customer_id"],
        "discount_id": None,
        "is_deleted": None,
        "created_at": _ms(payment["created_at"]),
        "updated_at": _ms(payment["updated_at"]),
        "total_custom_price_amount": 0.0,
        "include_gratuity_tax": payment["include_gratuity_tax"],
        "refund_amount": None,
        "refund_type": None,
        "card_no": None,
        "created_by": staff.id,
        "note": "",
        "total_collected_amount": float(paid),
        "server_id": staff.id,
        "server_name": staff.name,
        "server_title": staff.title,
        "auth_code": None,
        "cc_name": None,
        "card_type": None,
        "transaction_number": None,
        "transaction_reference": None,
        "outlet_id": ctx.outlet_id,
        "guid": payment["guid"],
        "synchronized_at": _ms(payment["synchronized_at"]),
        "uniq_id": payment["uniq_id"],
        "transaction_certificate": None,
        "transaction_status_info": None,
        "merchant_id": None,
        "mpos_device_id": None,
        "pg_mid": None,
        "pg_setting": None,
        "order_info": None,
        "tvr": None,
        "cvm_result": None,
        "aid": None,
        "transaction_date": None,
        "pii": None,
        "collected_by": staff.name,
        "shift_id": None,
        "invoice_no": payment["invoice_no"],
        "invoice_deposit_amount": payment["invoice_deposit_amount"],
        "invoice_due_date": payment["invoice_due_date"],
        "invoice_status": invoice_status(payment),
        "latitude": ctx.latitude,
        "longitude": ctx.longitude,
        "refund_ids": [r["uuid"] for r in payment["payment_refunds"]],
        "total_gross_sales": float(gross),
        "total_net_sales": float(moka_decimal(payment["subtotal"])),
        "is_refund_breakdown": True,
        "customer_name": payment["customer_name"],
        "customer_email": payment["customer_email"],
        "customer_phone": payment["customer_phone"],
        "subtotal": float(moka_decimal(payment["subtotal"])),
        "creator_name": staff.name,
        "table_name": payment["table_name"],
        "collector_id": staff.id,
        "cashlezz_transaction_id": None,
        "sms_id": None,
        "receipt_count": None,
        "order_id": payment["order_id"],
        "is_loyalty": False,
        "total_redeem_amount": 0.0,
        "is_offline": False,
        "is_sales_type": True,
        "server_created_at": _ms(payment["synchronized_at"]),
        "total_rounding_amount": float(paid - due),
        "bill_id": None,
        "tax_type": "AFTER_DISCOUNT",
        "gratuity_type": "AFTER_DISCOUNT",
        "uuid": payment["id"],
        "parent_payment_uuid": None,
        "source_type": None,
        "original_client_created_at": _ms(payment["created_at"]),
    }


def invoice_detail(payment: Json, ctx: PaymentContext, outlet: Json, customer: Json | None) -> Json:
    """`GET /v3/outlets/{id}/invoices/{uuid}`: the raw row plus its children (§8.5), with the
    sandbox's `payment_records` (one per part paid)."""
    detail = invoice_row(payment, ctx)
    detail["outlet"] = dict(outlet)
    detail["customer"] = {**customer, "guid": None, "sex": None} if customer is not None else None
    detail["payment_gratuities"] = payment["payment_gratuities"]
    detail["payment_taxes"] = payment["payment_taxes"]
    detail["payment_discounts"] = payment["payment_discounts"]
    detail["payment_refunds"] = payment["payment_refunds"]
    detail["payment_records"] = payment["invoice_payment_records"]
    detail["checkouts"] = [_raw_checkout(c) for c in payment["checkouts"]]
    return detail


def _raw_checkout(checkout: Json) -> Json:
    raw = {k: v for k, v in checkout.items() if k not in ("modifiers", "discounts")}
    raw["checkout_modifiers"] = [{**m, "discount_hash": "--- []\n"} for m in checkout["modifiers"]]
    raw["checkout_discounts"] = checkout["discounts"]
    return raw
