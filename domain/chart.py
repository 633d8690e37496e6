"""A Jurnal company's own chart of accounts and its default accounts, and the accounts a setting
chooses from it (reference jurnal-api §6.1, §6.2).

Companies rename and renumber their accounts, and an English company has "Cash" and "Service
Revenue" where an Indonesian one has "Kas" and "Pendapatan", so nothing here knows an account by
name. A setting names an account by its name or its number; an account field left empty means
the company's own default, read from `companies/active`:

| setting field      | default (`default_accounts` key) |
|--------------------|----------------------------------|
| `sales_account`    | `default_sale_account`           |
| `purchase_account` | `default_cost_of_good_sold`      |
| `sell_tax_account` | `default_sale_tax_account`       |
| `buy_tax_account`  | `default_purchase_tax_account`   |

Tracked products go on `default_inventory_account`. `check_setting_accounts` refuses a setting
whose accounts the chart lacks, naming each and the closest existing accounts.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.errors import SettingInvalid

ACCOUNT_DEFAULTS: Mapping[str, str] = {
    "sales_account": "default_sale_account",
    "purchase_account": "default_cost_of_good_sold",
    "sell_tax_account": "default_sale_tax_account",
    "buy_tax_account": "default_purchase_tax_account",
    # The daily summary's balancing entry: where the company books its sales by default.
    "rounding_account": "default_sale_account",
}
INVENTORY_DEFAULT = "default_inventory_account"
CASH_AND_BANK = 3
CLOSEST = 3


@dataclass(frozen=True)
class Account:
    id: int | None
    name: str
    number: str
    category_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.number})" if self.number else self.name


@dataclass(frozen=True)
class Chart:
    """The accounts of one company (`GET /accounts`) and its defaults (`companies/active`)."""

    accounts: tuple[Account, ...]
    defaults: Mapping[str, Account] = field(default_factory=dict)

    def find(self, reference: str) -> Account | None:
        """The account a setting names: by number exactly, else by name case-insensitively."""
        wanted = reference.strip()
        for account in self.accounts:
            if account.number and account.number == wanted:
                return account
        folded = wanted.casefold()
        return next((a for a in self.accounts if a.name.casefold() == folded), None)

    def closest(self, reference: str, count: int = CLOSEST) -> list[Account]:
        """The accounts whose name or number looks most like `reference`, best first."""
        by_key: dict[str, Account] = {}
        for account in self.accounts:
            by_key.setdefault(account.name.casefold(), account)
            if account.number:
                by_key.setdefault(account.number, account)
        wanted = reference.strip().casefold()
        keys = difflib.get_close_matches(wanted, by_key, n=count * 2, cutoff=0.4)
        found: list[Account] = []
        for key in keys:
            if by_key[key] not in found:
                found.append(by_key[key])
        return found[:count]

    def default(self, key: str) -> Account | None:
        return self.defaults.get(key)

    def account_for(self, field_name: str, chosen: str | None) -> Account | None:
        """The account a setting field stands for: the one it names, else the company's
        default for it; None when neither is in the chart."""
        if chosen:
            return self.find(chosen)
        return self.default(ACCOUNT_DEFAULTS[field_name])


def chart_from_jurnal(rows: Iterable[Mapping[str, Any]], active: Mapping[str, Any]) -> Chart:
    """The chart from `GET /accounts` rows and the `companies/active` answer."""
    accounts = tuple(_account(row) for row in rows)
    by_id = {a.id: a for a in accounts}
    defaults: dict[str, Account] = {}
    for key, raw in (active.get("default_accounts") or {}).items():
        if isinstance(raw, Mapping) and raw.get("id") is not None:
            defaults[key] = by_id.get(_int(raw.get("id"))) or _account(raw)
    return Chart(accounts, defaults)


def _account(row: Mapping[str, Any]) -> Account:
    category = row.get("category_id")
    if category is None and isinstance(row.get("category"), Mapping):
        category = row["category"].get("id")
    return Account(
        id=_int(row.get("id")),
        name=str(row.get("name") or ""),
        number=str(row.get("number") or ""),
        category_id=_int(category),
    )


def _int(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def chosen_accounts(values: Mapping[str, Any]) -> dict[str, str]:
    """Setting field (`payment_accounts.cash.account` for a bucket) → the account it names,
    for the fields among `values` that name one."""
    chosen: dict[str, str] = {}
    for name in ACCOUNT_DEFAULTS:
        if values.get(name):
            chosen[name] = str(values[name])
    for bucket, entry in (values.get("payment_accounts") or {}).items():
        if isinstance(entry, Mapping):
            account = entry.get("account")
        else:
            account = getattr(entry, "account", None)
        if account:
            chosen[f"payment_accounts.{bucket}.account"] = str(account)
    return chosen


def check_setting_accounts(values: Mapping[str, Any], chart: Chart) -> None:
    """Refuse (`SettingInvalid`, 422) a setting naming accounts the company's chart lacks, each
    with the closest existing accounts; and a deposit account that is not Cash & Bank."""
    errors: dict[str, str] = {}
    for field_name, reference in chosen_accounts(values).items():
        account = chart.find(reference)
        if account is None:
            errors[field_name] = _missing(reference, chart)
        elif field_name.startswith("payment_accounts.") and account.category_id not in (
            None,
            CASH_AND_BANK,
        ):
            errors[field_name] = (
                f"names {account.label}, which is not a Cash & Bank account; Jurnal deposits "
                "money only into Cash & Bank accounts"
            )
    if errors:
        raise SettingInvalid(errors)


def _missing(reference: str, chart: Chart) -> str:
    message = f"names {reference!r}, which is not an account of this Jurnal company"
    close = chart.closest(reference)
    if close:
        message += "; closest: " + ", ".join(a.label for a in close)
    return message
