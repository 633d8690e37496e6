"""Master data: Moka business customers, the outlet's library (variants, modifier options, service
charges) and taxes as Jurnal customer, product and tax request bodies.

- **Customers** keep their Moka name as Jurnal display name, which Jurnal requires to be unique:
  among Moka customers sharing a name (case-insensitively) the oldest — lowest Moka id — keeps it,
  and each later one gets its Moka id in brackets ("San (1950404)"). Names taken in Jurnal by
  something else (the setting's default customer, hand-made contacts) are never kept plain.
  Deleted customers still take part, because their Jurnal customer may exist.
- **Products**: one per variant and one per modifier option (Jurnal has neither concept), named
  "<item> - <variant>" and "<modifier> - <option>" with the setting's naming; the code is the
  variant's SKU, else `MOKA-<variant id>`, with the naming too; codes must be unique in Jurnal, so
  a repeated one gets the Moka id appended. `is_bought` is false; sales and purchase accounts come
  from the setting; with "track inventory" on, variants that Moka tracks (`track_stock`) are
  tracked products, on the company's default inventory account. Service charges and cash
  rounding get a product each, so invoices can carry them as lines. Deleted variants and options
  are skipped: their sales go by name when the setting syncs by product name (see `products`).
- **Taxes**: one per Moka tax, and one combined tax for every combination of two or more of the
  outlet's taxes (see `taxes`); with more than four taxes only the combination of all of them.
  Each carries both of its accounts, so that a changed rate or name is a complete update.
- **Accounts** are the setting's, else the company's own defaults (`domain.chart`), found in the
  company's chart; the unit is "Pcs", which the sync makes in Jurnal when the company lacks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import Any

from domain.chart import INVENTORY_DEFAULT, Chart
from domain.mapping.accounts import account_fields, by_text, chosen_account
from domain.mapping.document import JurnalDocument
from domain.mapping.errors import AccountNotInJurnal
from domain.mapping.moka import ZERO, money
from domain.mapping.naming import (
    apply_naming,
    combined_tax_label,
    custom_id,
    option_label,
    plain_text,
    product_label,
    unique_names,
)
from domain.mapping.products import (
    ROUNDING_LABEL,
    gratuity_custom_id,
    option_custom_id,
    rounding_custom_id,
    variant_custom_id,
)
from domain.mapping.setting import MappingSetting
from domain.mapping.taxes import tax_custom_id
from domain.mapping.wire import number

Json = Mapping[str, Any]

UNIT_NAME = "Pcs"


def unit_custom_id(name: str) -> str:
    """Units belong to the company, not to an outlet: every setting finds the same one."""
    return custom_id("unit", name)


MAX_COMBINED_TAXES = 4


# -- customers ----------------------------------------------------------------------------------


def customer_custom_id(customer_id: int) -> str:
    return custom_id("customer", customer_id)


def customer_display_names(customers: Iterable[Json], taken: Iterable[str] = ()) -> dict[int, str]:
    """Moka customer id → Jurnal display name, for every customer of the business."""
    ordered = sorted((int(c["id"]), str(c.get("name") or "")) for c in customers)
    names = unique_names(((str(i), name) for i, name in ordered), taken)
    return {moka_id: name for (moka_id, _), name in zip(ordered, names, strict=True)}


def customer_documents(
    customers: Sequence[Json], display_names: Mapping[int, str]
) -> list[JurnalDocument]:
    """A document for each live customer; `display_names` from `customer_display_names` over
    the whole business."""
    bodies = []
    for customer in sorted(customers, key=lambda c: int(c["id"])):
        if customer.get("is_deleted"):
            continue
        moka_id = int(customer["id"])
        body: dict[str, Any] = {
            "display_name": display_names[moka_id],
            "custom_id": customer_custom_id(moka_id),
            "source": "Moka",
        }
        if _looks_like_email(customer.get("email")):
            body["email"] = str(customer["email"]).strip()
        phone = plain_text(customer.get("phone"), 50)
        if phone:
            body["mobile"] = phone
        address = plain_text(
            ", ".join(
                str(customer[key]).strip()
                for key in ("address", "city", "state", "postal_code")
                if customer.get(key)
            ),
            250,
        )
        if address:
            body["address"] = body["billing_address"] = address
        bodies.append(JurnalDocument("customer", body["custom_id"], {"customer": body}))
    return bodies


def _looks_like_email(value: object) -> bool:
    # Jurnal refuses some valid but unusual addresses (reference §4.1); leave out any that is not
    # plainly name@domain.tld rather than fail the whole customer.
    text = str(value or "").strip()
    local, _, domain = text.partition("@")
    return bool(local) and "." in domain and " " not in text and "__" not in local


# -- products -----------------------------------------------------------------------------------


def product_documents(
    setting: MappingSetting,
    items: Sequence[Json],
    gratuities: Sequence[Json] = (),
    modifier_groups: Sequence[Json] = (),
    chart: Chart | None = None,
) -> list[JurnalDocument]:
    """A document for each product: live variants, then live modifier options (from the
    items' attached groups and from `modifier_groups`, the `/modifiers` list), then service
    charges, then cash rounding. With the company's `chart`, accounts go by number (the form
    Jurnal documents for products) and the inventory account by id."""
    accounts = _product_accounts(setting, chart)
    drafts = [
        *_variant_drafts(setting, items, _inventory_fields(chart)),
        *_option_drafts(setting, items, modifier_groups),
        *_charge_drafts(setting, gratuities),
        _Draft(rounding_custom_id(setting), "rounding", ROUNDING_LABEL, "MOKA-ROUNDING", ZERO),
    ]
    names = unique_names((d.moka_id, apply_naming(setting, d.label)) for d in drafts)
    codes = unique_names((d.moka_id, apply_naming(setting, d.code)) for d in drafts)
    return [
        JurnalDocument("product", draft.custom_id, {"product": draft.body(accounts, name, code)})
        for draft, name, code in zip(drafts, names, codes, strict=True)
    ]


def _product_accounts(setting: MappingSetting, chart: Chart | None) -> dict[str, object]:
    return {
        **account_fields(
            chart, "sell_account", setting.sales_account, "sales account",
            field_name="sales_account", form="number",
        ),
        **account_fields(
            chart, "buy_account", setting.purchase_account, "purchase account",
            field_name="purchase_account", form="number",
        ),
    }  # fmt: skip


def _inventory_fields(chart: Chart | None) -> dict[str, object]:
    """The company's default inventory account, for tracked products (by id, as documented)."""
    if chart is None:
        return {}
    account = chart.default(INVENTORY_DEFAULT)
    if account is None or account.id is None:
        raise AccountNotInJurnal("inventory account for tracked products", None)
    return {"inventory_asset_account_id": account.id}


@dataclass(frozen=True)
class _Draft:
    custom_id: str
    moka_id: str  # what tells apart two products of one name or code
    label: str
    code: str
    price: Decimal
    description: str = ""
    tracked: Mapping[str, Any] | None = None

    def body(self, accounts: Mapping[str, object], name: str, code: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name,
            "product_code": code,
            "custom_id": self.custom_id,
            "unit_name": UNIT_NAME,
            "is_sold": True,
            "sell_price_per_unit": number(self.price),
            "is_bought": False,
            **accounts,
            "track_inventory": self.tracked is not None,
        }
        if self.tracked is not None:
            body.update(self.tracked)
        if self.description:
            body["description"] = self.description
        return body


def _variant_drafts(
    setting: MappingSetting, items: Sequence[Json], inventory: Mapping[str, object]
) -> list[_Draft]:
    drafts = []
    for item in sorted(items, key=lambda i: int(i["id"])):
        if item.get("is_deleted"):
            continue
        for variant in sorted(item.get("item_variants") or [], key=lambda v: int(v["id"])):
            if variant.get("is_deleted"):
                continue
            variant_id = int(variant["id"])
            sku = str(variant.get("sku") or "").strip()
            tracked = setting.track_inventory and bool(variant.get("track_stock"))
            drafts.append(
                _Draft(
                    variant_custom_id(setting, variant_id),
                    str(variant_id),
                    product_label(str(item.get("name") or ""), variant.get("name")),
                    sku or f"MOKA-{variant_id}",
                    _variant_price(item, variant),
                    plain_text(item.get("description"), 250),
                    inventory if tracked else None,
                )
            )
    return drafts


def _variant_price(item: Json, variant: Json) -> Decimal:
    """The list price: the variant's, or its default sales-type price when the item prices by
    sales type (its `price` may then be null)."""
    if item.get("is_sales_type_price"):
        for entry in variant.get("sales_type_items") or []:
            if entry.get("is_default"):
                return money(entry.get("sales_type_price"), "sales_type_price")
    return money(variant.get("price"), "price")


def _option_drafts(
    setting: MappingSetting, items: Sequence[Json], groups: Sequence[Json]
) -> list[_Draft]:
    options: dict[int, _Draft] = {}
    attached = [group for item in items for group in item.get("active_modifiers") or []]
    for group in [*groups, *attached]:
        if group.get("is_deleted"):
            continue
        for option in group.get("active_options") or group.get("modifier_options") or []:
            if option.get("is_deleted") or int(option["id"]) in options:
                continue
            option_id = int(option["id"])
            options[option_id] = _Draft(
                option_custom_id(setting, option_id),
                f"opt{option_id}",
                option_label(str(group.get("name") or ""), str(option.get("name") or "")),
                f"MOKA-OPT-{option_id}",
                money(option.get("price"), "option price"),
            )
    return [draft for _, draft in sorted(options.items())]


def _charge_drafts(setting: MappingSetting, gratuities: Sequence[Json]) -> list[_Draft]:
    return [
        _Draft(
            gratuity_custom_id(setting, int(row["id"])),
            f"sc{int(row['id'])}",
            str(row.get("name") or "Service Charge"),
            f"MOKA-SC-{int(row['id'])}",
            ZERO,
        )
        for row in sorted(gratuities, key=lambda r: int(r["id"]))
        if not row.get("is_deleted")
    ]


# -- taxes --------------------------------------------------------------------------------------


def tax_documents(
    setting: MappingSetting, taxes: Sequence[Json], chart: Chart | None = None
) -> list[JurnalDocument]:
    """A document for each Jurnal tax: the outlet's live taxes, then their combinations. Each
    carries its sales and purchase accounts (the setting's, else the company's defaults), by id
    and by name: Jurnal needs both accounts on every tax update (reference §6.3), and an id,
    once sent, decides (§3.3)."""
    accounts = _tax_accounts(setting, chart)
    live = sorted(
        (
            (int(row["id"]), str(row.get("name") or ""), money(row.get("amount"), "tax rate"))
            for row in taxes
            if not row.get("is_deleted")
        ),
        key=lambda row: row[0],
    )
    groups: list[tuple[tuple[int, str, Decimal], ...]] = [(row,) for row in live]
    charged = [row for row in live if row[2] != ZERO]
    if len(charged) > MAX_COMBINED_TAXES:
        groups.append(tuple(charged))
    else:
        for size in range(2, len(charged) + 1):
            groups.extend(combinations(charged, size))
    bodies = []
    for group in groups:
        tax_id = tax_custom_id(setting, [row[0] for row in group])
        body = {
            "name": apply_naming(setting, combined_tax_label(row[1] for row in group)),
            "rate": number(sum((row[2] for row in group), ZERO)),
            "is_witholding": False,
            **accounts,
            "custom_id": tax_id,
        }
        bodies.append(JurnalDocument("tax", tax_id, {"tax": body}))
    return bodies


def _tax_accounts(setting: MappingSetting, chart: Chart | None) -> dict[str, object]:
    fields: dict[str, object] = {}
    for prefix, field_name, what in (
        ("sell_tax_account", "sell_tax_account", "taxes' sales account"),
        ("buy_tax_account", "buy_tax_account", "taxes' purchase account"),
    ):
        chosen = getattr(setting, field_name)
        account = chosen_account(chart, field_name, chosen, what)
        if account is not None:
            fields[f"{prefix}_id"] = account.id
            fields[f"{prefix}_name"] = account.name
        elif chosen:
            fields.update(by_text(prefix, chosen))
    return fields
