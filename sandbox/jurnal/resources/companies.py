"""`GET /companies/active` (`reference/jurnal-api.md` §6.1): the company behind the credential,
its package, and its default accounts and term, which a sync reads when a setting is made."""

from __future__ import annotations

from typing import Any

from ..store import Record
from .base import Context

DEFAULT_ACCOUNTS = {
    "default_sale_account": "4-40000",
    "sale_discount_account": "4-40100",
    "default_sales_return_account": "4-40200",
    "sale_shipping_account": "7-70099",
    "default_prepayment_account": "1-10402",
    "default_cost_of_good_sold": "5-50000",
    "purchase_shipping_account": "5-50300",
    "default_unearned_revenue_account": "2-20203",
    "default_account_receiveable": "1-10100",
    "default_account_payable": "2-20100",
    "default_inventory_account": "1-10200",
    "default_stock_adj_account_general": "8-80100",
    "default_stock_adj_account_waste": "6-60216",
    "default_opening_balance_equity": "3-30999",
    "default_sale_tax_account": "2-20500",
    "default_purchase_tax_account": "1-10500",
    "default_fixed_asset_account": "1-10705",
}


def render_active_company(ctx: Context) -> dict[str, Any]:
    company = ctx.company
    accounts = ctx.collection("accounts")
    default_term = next((t for t in ctx.collection("terms") if t["is_default"]), None)
    term = (
        {
            "id": default_term["id"],
            "name": default_term["name"],
            "longetivity": default_term["longetivity"],
        }
        if default_term
        else None
    )
    defaults = {
        key: _default_account(accounts.first("number", number))
        for key, number in DEFAULT_ACCOUNTS.items()
    }
    shipping = defaults["sale_shipping_account"]
    return {
        "company": {
            "id": company.id,
            "name": company.name,
            "language": {"id": 2, "name": "Bahasa Indonesia"},
            "company_billing_details": {
                "id": company.id,
                "name": company.name,
                "billing_package": company.package,
            },
        },
        "feature": {"warehouse": company.allows("enterprise"), "tag": company.allows("pro")},
        "company_package": company.package,
        "preferred_invoice_term": term,
        "preferred_purchase_term": term,
        "sale_shipping_account": (
            {k: shipping[k] for k in ("id", "name", "number")} if shipping else None
        ),
        "default_accounts": defaults,
    }


def _default_account(account: Record | None) -> dict[str, Any] | None:
    if account is None:
        return None
    return {
        "id": account["id"],
        "name": account["name"],
        "number": account["number"],
        "category_id": account["category_id"],
        "custom_id": account["custom_id"],
    }
