"""What a setting may pick from the company's Jurnal: the accounts that suit each account field,
the company's default accounts, customers, and tags and warehouses when its package has them.

Kept in Redis for `JURNAL_CHOICES_TTL` seconds: every form view would otherwise spend five calls
of the credential's budget, which the workers share.
"""

from __future__ import annotations

import json
from typing import Any

from domain.chart import ACCOUNT_DEFAULTS, CASH_AND_BANK
from domain.settings import Company
from infra.bootstrap import Container
from services.companies import company_chart, jurnal_catalogs

# Jurnal's account categories (reference §6) that suit each account field; a field whose
# categories the chart lacks offers every account.
_SUITED_CATEGORIES: dict[str, frozenset[int]] = {
    "payment_accounts": frozenset({CASH_AND_BANK}),
    "sales_account": frozenset({13, 14}),
    "purchase_account": frozenset({15, 16, 17}),
    "sell_tax_account": frozenset({10}),
    "buy_tax_account": frozenset({2}),
    # Revenue and other income, where a summary's rounding belongs.
    "rounding_account": frozenset({13, 14}),
}

JURNAL_CHOICES_TTL = 300
_CHOICES_KEY = "sambung:jurnal-choices:"


def jurnal_choices(
    container: Container, company: Company, *, fresh: bool = False
) -> dict[str, Any]:
    """What a setting's pickers offer, from the company's Jurnal: for each account field the
    accounts that suit it (each as `{value, label}`, the value its number) and the company's
    default account that an empty field stands for; customers; and the tags and warehouses when
    the company's package allows them (it decides, and is returned too). `fresh` reads Jurnal
    again instead of the kept copy."""
    key = _CHOICES_KEY + str(company.id)
    cached = None if fresh else container.redis.get(key)
    if cached is not None:
        found: dict[str, Any] = json.loads(cached)
        return found
    choices = _read_jurnal_choices(container, company)
    container.redis.set(key, json.dumps(choices), ex=JURNAL_CHOICES_TTL)
    return choices


def _read_jurnal_choices(container: Container, company: Company) -> dict[str, Any]:
    company_id = company.id
    chart = company_chart(container, company_id)
    paths = ("customers",)
    paths += ("tags",) if company.package.has_tags else ()
    paths += ("warehouses",) if company.package.has_warehouses else ()
    lists = jurnal_catalogs(container, company_id, paths)
    every = [{"value": a.number or a.name, "label": a.label, "name": a.name,
              "category_id": a.category_id} for a in chart.accounts]  # fmt: skip

    def suited(categories: frozenset[int]) -> list[dict[str, Any]]:
        return [a for a in every if a["category_id"] in categories] or every

    def names(path: str, field: str = "name") -> list[str]:
        return sorted(str(row.get(field) or "") for row in lists.get(path, []))

    defaults = {}
    for field_name, key in ACCOUNT_DEFAULTS.items():
        account = chart.default(key)
        defaults[field_name] = account.label if account else ""
    return {
        "package": company.package.value,
        "has_tags": company.package.has_tags,
        "has_warehouses": company.package.has_warehouses,
        "accounts": {name: suited(categories) for name, categories in _SUITED_CATEGORIES.items()},
        "default_accounts": defaults,
        "tags": names("tags"),
        "warehouses": names("warehouses"),
        "customers": names("customers", "display_name"),
    }
