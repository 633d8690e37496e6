"""`GET /companies/active` (`reference/jurnal-api.md` §6.1): the company behind the credential,
its package, and its default accounts and term, which a sync reads when a setting is made."""

from __future__ import annotations

from typing import Any

from ..seed import LANGUAGES
from ..store import Record
from .base import Context


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
        key: _default_account(accounts.get(account_id))
        for key, account_id in company.default_accounts.items()
    }
    shipping = defaults.get("sale_shipping_account")
    return {
        "company": {
            "id": company.id,
            "name": company.name,
            "language": LANGUAGES[company.chart],
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
