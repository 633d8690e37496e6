"""The v2 reports (`payment_methods`, `sales_summary`) computed from the stored payments over
local `DD/MM/YYYY` windows (reference §6, §9.1, §10), so that reconciliation can be tested.

Refunds count on the day they were made, sales on the day they were rung up."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.moka_money import moka_decimal
from domain.moka_payment_types import label_for
from sandbox.moka.formats import WIB

Json = dict[str, Any]
ZERO = Decimal(0)
CASH_OR_CARD = ("Cash", "Credit / Debit")


def _day(text: str) -> date:
    return datetime.fromisoformat(text).astimezone(WIB).date()


def _in_window(payments: Iterable[Json], start: date, end: date) -> tuple[list[Json], list[Json]]:
    sales, refunds = [], []
    for payment in payments:
        if start <= _day(payment["created_at"]) <= end:
            sales.append(payment)
        refunds += [r for r in payment["payment_refunds"] if start <= _day(r["created_at"]) <= end]
    return sales, refunds


def _sum(rows: Iterable[Json], key: str) -> Decimal:
    return sum((moka_decimal(row.get(key)) for row in rows), ZERO)


def sales_summary(payments: Iterable[Json], start: date, end: date) -> Json:
    """`net_sales = gross_sales − discounts − refunds` and `total_collected = net_sales +
    gratuities + taxes`, which leaves out the rounding, as Moka's report does (§9.1)."""
    sales, refunds = _in_window(payments, start, end)
    gross = sum((_sum(p["checkouts"], "gross_sales") for p in sales), ZERO)
    discounts = _sum(sales, "discounts")
    refunded = -_sum(refunds, "subtotal")
    net = gross - discounts - refunded
    gratuities = _sum(sales, "gratuities") + _sum(refunds, "total_gratuity_amount")
    taxes = _sum(sales, "taxes") + _sum(refunds, "total_tax_amount")
    rounding = _sum(sales, "total_rounding_amount") + _sum(refunds, "total_rounding_amount")
    return {
        "gross_sales": float(gross),
        "discounts": float(discounts),
        "refunds": float(refunded),
        "net_sales": float(net),
        "gratuities": float(gratuities),
        "taxes": float(taxes),
        "total_collected": float(net + gratuities + taxes),
        "number_of_transactions": len(sales),
        "rounding_amount": float(rounding),
        "redemption": 0.0,
    }


def payment_methods(payments: Iterable[Json], start: date, end: date) -> Json:
    """Collected per payment-type label, net of refunds paid back that way, grouped as Moka
    groups them: cash or card, invoice, other."""
    sales, refunds = _in_window(payments, start, end)
    counts: dict[str, int] = {}
    collected: dict[str, Decimal] = {}
    for sale in sales:
        label = sale["payment_type_label"]
        counts[label] = counts.get(label, 0) + 1
        collected[label] = collected.get(label, ZERO) + moka_decimal(sale["total_collected"])
    for refund in refunds:
        label = label_for(refund["payment_type"])
        counts.setdefault(label, 0)
        collected[label] = collected.get(label, ZERO) - moka_decimal(refund["refund_amount"])
    groups: dict[str, list[Json]] = {"cash_or_card": [], "invoice": [], "other": []}
    for label in sorted(collected):
        group = (
            "cash_or_card"
            if label in CASH_OR_CARD
            else "invoice"
            if label == "Invoice"
            else "other"
        )
        groups[group].append(
            {
                "payment_type": label,
                "number_of_transactions": counts[label],
                "collected": float(collected[label]),
            }
        )
    return {
        "reports": groups,
        "total_number_of_transactions": len(sales),
        "total_collected": float(sum(collected.values(), ZERO)),
    }
