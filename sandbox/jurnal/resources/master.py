"""Master data a sync refers to: accounts, taxes, tags, warehouses, payment methods, terms,
product units and product categories (`reference/jurnal-api.md` §6.2–§6.4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import Invalid
from ..formats import money, number, rupiah
from ..store import Record
from .base import Context, Resource, stamps
from .references import Unresolved, account_ref, resolve

# Account categories: id → (English, Indonesian) (§6.2).
CATEGORIES: dict[int, tuple[str, str]] = {
    1: ("Accounts Receivable (A/R)", "Akun Piutang"),
    2: ("Other Current Assets", "Aktiva Lancar Lainnya"),
    3: ("Cash & Bank", "Kas & Bank"),
    4: ("Inventory", "Persediaan"),
    5: ("Fixed Assets", "Aktiva Tetap"),
    6: ("Other Assets", "Aktiva Lainnya"),
    7: ("Depreciation & Amortization", "Depresiasi & Amortisasi"),
    8: ("Accounts Payable (A/P)", "Akun Hutang"),
    9: ("Credit Card", "Kartu Kredit"),
    10: ("Other Current Liabilities", "Kewajiban Lancar Lainnya"),
    11: ("Long Term Liabilities", "Kewajiban Jangka Panjang"),
    12: ("Equity", "Ekuitas"),
    13: ("Income", "Pendapatan"),
    14: ("Other Income", "Pendapatan Lainnya"),
    15: ("Cost of Sales", "Harga Pokok Penjualan"),
    16: ("Expenses", "Beban"),
    17: ("Other Expense", "Beban Lainnya"),
}
ZERO = Decimal(0)
CASH_AND_BANK = 3
INVENTORY = 4


def required_text(source: dict[str, Any], key: str) -> str:
    value = source.get(key)
    if value is None or str(value).strip() == "":
        raise Invalid.field(key, "can't be blank")
    return str(value).strip()


def optional_text(source: dict[str, Any], key: str) -> str | None:
    value = source.get(key)
    return None if value is None or str(value) == "" else str(value)


def check_name_free(ctx: Context, resource: str, name: str, own: Record | None) -> None:
    """Only a strict company refuses a taken name: the reference documents unique names for
    none of the master data (only contacts' display names answer 409, §4.2)."""
    if not ctx.company.strict_names:
        return
    for other in ctx.collection(resource).find("name", name):
        if own is None or other["id"] != own["id"]:
            raise Invalid.field("name", "(has already been taken)")


def category_id_of(source: dict[str, Any]) -> int:
    if source.get("category_id") not in (None, ""):
        category = int(number(source["category_id"], "category_id"))
        if category in CATEGORIES:
            return category
    wanted = str(source.get("category_name") or "").casefold()
    for category, names in CATEGORIES.items():
        if wanted in (names[0].casefold(), names[1].casefold()):
            return category
    raise Invalid.field("category", "(Category not found)")


def account_by(ctx: Context, source: dict[str, Any], prefix: str, label: str) -> Record | None:
    """An account referred to as `<prefix>_id|_name|_number|_custom_id`."""
    try:
        return resolve(
            ctx,
            "accounts",
            by_id=source.get(f"{prefix}_id"),
            by_custom_id=source.get(f"{prefix}_custom_id"),
            by_name=source.get(f"{prefix}_name"),
            by_code=source.get(f"{prefix}_number"),
            code_field="number",
        )
    except Unresolved as missing:
        raise Invalid.field(prefix, f"({label} {missing.sent} not found)") from None


# -- accounts ---------------------------------------------------------------------------------


def build_account(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    name = required_text(source, "name")
    account_number = required_text(source, "number")
    for other in ctx.collection("accounts").find("number", account_number):
        if own is None or other["id"] != own["id"]:
            raise Invalid.field("number", "(has already been taken)")
    return {
        "name": name,
        "number": account_number,
        "description": optional_text(source, "description"),
        "category_id": category_id_of(source),
        "custom_id": optional_text(source, "custom_id"),
    }


def render_account(ctx: Context, record: Record) -> dict[str, Any]:
    return {
        "id": record["id"],
        "name": record["name"],
        "number": record["number"],
        "description": record["description"],
        "custom_id": record["custom_id"],
        "category": {"id": record["category_id"], "name": CATEGORIES[record["category_id"]][0]},
        "balance": money(ZERO),
        "balance_string": rupiah(ZERO),
        "currency_code": "IDR",
        **stamps(record),
    }


def render_account_row(ctx: Context, record: Record) -> dict[str, Any]:
    return {
        "id": record["id"],
        "name": record["name"],
        "number": record["number"],
        "description": record["description"],
        "lock": False,
        "is_parent": False,
        "indent": 0,
        "currency_code": "IDR",
        "category": CATEGORIES[record["category_id"]][0],
        "category_id": record["category_id"],
        "balance": rupiah(ZERO),
        "balance_amount": 0,
        "parent_id": None,
        "parent": [],
        "children": [],
        "custom_id": record["custom_id"],
    }


ACCOUNTS = Resource(
    name="accounts",
    singular="account",
    build=build_account,
    render=render_account,
    render_row=render_account_row,
    sort_keys={"name": lambda _, r: r["name"], "number": lambda _, r: r["number"]},
)


# -- taxes ------------------------------------------------------------------------------------


TAX_ACCOUNTS = (("sell_tax_account", "default_sale_tax_account"),
                ("buy_tax_account", "default_purchase_tax_account"))  # fmt: skip


def build_tax(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    name = required_text(source, "name")
    check_name_free(ctx, "taxes", name, own)
    rate = number(source.get("rate"), "rate")
    witholding = str(source.get("is_witholding", "")).lower() == "true"
    if rate < 0 and not witholding:
        raise Invalid.field("rate", "(Negative Tax Value Only Permitted For Witholding Tax)")
    accounts: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for prefix, default_key in TAX_ACCOUNTS:
        account = account_by(ctx, source, prefix, "Account")
        if account is None and ctx.company.tax_account_defaults:
            account = ctx.collection("accounts").get(ctx.company.default_accounts[default_key])
        if account is None:
            missing[prefix] = "can't be blank"
        accounts[prefix] = account_ref(account)
    if missing:
        raise Invalid(missing)
    return {
        "name": name,
        "rate": rate,
        "custom_id": optional_text(source, "custom_id"),
        "is_witholding": witholding,
        **accounts,
    }


ACCOUNT_FORMS = ("id", "name", "number", "custom_id")


def merge_tax(existing: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """An account sent in any form replaces the account the tax had in every form."""
    kept = {
        key: value
        for key, value in existing.items()
        if not any(
            key == f"{prefix}_{form}" and _sends(changes, prefix)
            for prefix, _ in TAX_ACCOUNTS
            for form in ACCOUNT_FORMS
        )
    }
    return {**kept, **changes}


def _sends(source: dict[str, Any], prefix: str) -> bool:
    return any(source.get(f"{prefix}_{form}") not in (None, "") for form in ACCOUNT_FORMS)


def check_tax_changes(ctx: Context, changes: dict[str, Any]) -> None:
    """A tax PATCH needs name, rate and both accounts (§6.3), whatever the tax already has."""
    missing = {key: "can't be blank" for key in ("name", "rate") if changes.get(key) in (None, "")}
    for prefix, _ in TAX_ACCOUNTS:
        if not _sends(changes, prefix):
            missing[prefix] = "can't be blank"
    if missing:
        raise Invalid(missing)


def render_tax(ctx: Context, record: Record) -> dict[str, Any]:
    return {
        "id": record["id"],
        "name": record["name"],
        "custom_id": record["custom_id"],
        "rate": money(record["rate"]),
        "is_compound": False,
        "use_witholding": record["is_witholding"],
        "buy_tax_account": {k: record["buy_tax_account"][k] for k in ("id", "name")},
        "sell_tax_account": {k: record["sell_tax_account"][k] for k in ("id", "name")},
    }


TAXES = Resource(
    name="taxes",
    singular="tax",
    answer_root="company_tax",
    list_root="company_taxes",
    create_status=200,
    build=build_tax,
    render=render_tax,
    check_changes=check_tax_changes,
    merge=merge_tax,
    sort_keys={"name": lambda _, r: r["name"]},
)


# -- simple named things ----------------------------------------------------------------------


def build_named(resource: str) -> Any:
    def build(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
        name = required_text(source, "name")
        check_name_free(ctx, resource, name, own)
        return {"name": name, "custom_id": optional_text(source, "custom_id")}

    return build


def render_named(ctx: Context, record: Record) -> dict[str, Any]:
    return {"id": record["id"], "name": record["name"], "custom_id": record["custom_id"]}


TAGS = Resource(
    name="tags",
    singular="tag",
    build=build_named("tags"),
    render=render_named,
    paged=False,
    required_plan="pro",
)

PRODUCT_UNITS = Resource(
    name="product_units",
    singular="product_unit",
    create_status=200,
    build=build_named("product_units"),
    render=render_named,
    paged=False,
    bare_create=True,
)

PRODUCT_CATEGORIES = Resource(
    name="product_categories",
    singular="product_category",
    build=build_named("product_categories"),
    render=render_named,
    paged=False,
)


def render_payment_method(ctx: Context, record: Record) -> dict[str, Any]:
    return {
        "id": record["id"],
        "name": record["name"],
        **stamps(record),
        "custom_id": record["custom_id"],
    }


PAYMENT_METHODS = Resource(
    name="payment_methods",
    singular="payment_method",
    create_status=200,
    build=build_named("payment_methods"),
    render=render_payment_method,
    paged=False,
    bare_get=True,
)


# -- warehouses -------------------------------------------------------------------------------


def build_warehouse(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    name = required_text(source, "name")
    check_name_free(ctx, "warehouses", name, own)
    return {
        "name": name,
        "code": optional_text(source, "code") or "",
        "address": optional_text(source, "address"),
        "description": optional_text(source, "description"),
        "custom_id": optional_text(source, "custom_id"),
    }


def render_warehouse(ctx: Context, record: Record) -> dict[str, Any]:
    fields = ("id", "name", "code", "address", "description", "custom_id")
    return {**{k: record[k] for k in fields}, "warehouse_inventory": [], **stamps(record)}


WAREHOUSES = Resource(
    name="warehouses",
    singular="warehouse",
    create_status=200,
    build=build_warehouse,
    render=render_warehouse,
    sort_keys={"name": lambda _, r: r["name"], "code": lambda _, r: r["code"]},
    required_plan="enterprise",
)


# -- terms ------------------------------------------------------------------------------------


def build_term(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    name = required_text(source, "name")
    check_name_free(ctx, "terms", name, own)
    days = number(source.get("longetivity"), "longetivity")
    if days < 0 or days != days.to_integral_value():
        raise Invalid.field("longetivity", "(Must be a whole number of days)")
    return {
        "name": name,
        "longetivity": int(days),
        "custom_id": optional_text(source, "custom_id"),
        "is_default": bool(own and own.get("is_default")) or source.get("is_default") is True,
    }


def render_term(ctx: Context, record: Record) -> dict[str, Any]:
    return {
        "id": record["id"],
        "name": record["name"],
        "longetivity": record["longetivity"],
        "is_used?": True,
        "is_default?": record["is_default"],
    }


TERMS = Resource(
    name="terms",
    singular="term",
    build=build_term,
    render=render_term,
    sort_keys={"name": lambda _, r: r["name"]},
)
