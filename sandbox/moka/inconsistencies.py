"""The inconsistency switch: break a share of an outlet's payments the way Moka's official example
is broken (reference §9.2 items 1–5), so that the client's mismatch paths get exercised.

The header totals stay true (R1–R12 still hold); only the breakdowns disagree, as in the
example:

1. `taxes`: the tax rows tax subtotal plus service charge although `include_gratuity_tax` is
   false (the header keeps the true tax);
2. `gratuities`: the lines lose their `gratuities[]` rows, so no single object lists the whole
   service charge;
3. `discounts`: percentage discounts vanish from the lines' `discounts[]` (the header and the
   lines' `discount_amount` keep them);
4. `modifiers`: a line with modifiers shows `price` = `item_price_library`, as if the options
   were free;
5. `refund_fields`: a refund's `total_checkouts_amount` matches nothing, and the sale keeps
   `is_refunded: false` and `refund_amount: 0`.

Each kind is applied to each payment it can apply to with probability `rate`, from a seeded
RNG, so the same seed breaks the same payments.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from domain.moka_money import moka_decimal
from sandbox.moka.pricing import cents

Json = dict[str, Any]
KINDS = ("taxes", "gratuities", "discounts", "modifiers", "refund_fields")


def break_payments(payments: Iterable[Json], rng: random.Random, rate: float) -> dict[str, int]:
    """Break payments in place; returns how many payments got each kind."""
    counts = dict.fromkeys(KINDS, 0)
    if rate <= 0:
        return counts
    for payment in payments:
        for kind in KINDS:
            if BREAKERS[kind](payment, dry_run=True) and rng.random() < rate:
                BREAKERS[kind](payment, dry_run=False)
                counts[kind] += 1
    return counts


def _taxes(payment: Json, *, dry_run: bool) -> bool:
    applies = bool(
        payment["payment_taxes"]
        and payment["payment_gratuities"]
        and not payment["include_gratuity_tax"]
    )
    if applies and not dry_run:
        base = moka_decimal(payment["subtotal"]) + moka_decimal(payment["gratuities"])
        for row in payment["payment_taxes"]:
            row["taxable_amount"] = float(base)
            row["total"] = float(cents(base * moka_decimal(row["amount"]) / 100))
    return applies


def _gratuities(payment: Json, *, dry_run: bool) -> bool:
    lines = [c for c in payment["checkouts"] if c.get("gratuities")]
    if lines and not dry_run:
        for line in lines:
            line["gratuities"] = []
    return bool(lines)


def _discounts(payment: Json, *, dry_run: bool) -> bool:
    def percentage(row: Json) -> bool:
        return row.get("discount_type") == "percentage"

    lines = [c for c in payment["checkouts"] if any(percentage(d) for d in c["discounts"])]
    if lines and not dry_run:
        for line in lines:
            line["discounts"] = [d for d in line["discounts"] if not percentage(d)]
    return bool(lines)


def _modifiers(payment: Json, *, dry_run: bool) -> bool:
    lines = [c for c in payment["checkouts"] if c.get("modifiers")]
    if lines and not dry_run:
        for line in lines:
            line["price"] = line["item_price_library"]
    return bool(lines)


def _refund_fields(payment: Json, *, dry_run: bool) -> bool:
    refunds = payment["payment_refunds"]
    if refunds and not dry_run:
        for refund in refunds:
            # No derivation of this field is known (§8.4): any number will do, as in the example.
            refund["total_checkouts_amount"] = float(
                moka_decimal(refund["total_collected_amount"]) * 7 / 16
            )
        payment["is_refunded"], payment["refund_amount"] = False, 0
    return bool(refunds)


BREAKERS = {
    "taxes": _taxes,
    "gratuities": _gratuities,
    "discounts": _discounts,
    "modifiers": _modifiers,
    "refund_fields": _refund_fields,
}
