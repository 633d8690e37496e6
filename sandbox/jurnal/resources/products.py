"""Products (`reference/jurnal-api.md` §6.5). Jurnal has no variants or modifiers; the sync makes
one product per sellable variant or priced modifier."""

from __future__ import annotations

from typing import Any

from domain.jurnal_arithmetic import to_flag

from ..errors import Invalid
from ..formats import money, number, rupiah
from ..store import Record
from .base import Context, Resource, stamps
from .master import INVENTORY, account_by, optional_text, required_text
from .references import Unresolved, account_ref, resolve


def build_product(ctx: Context, source: dict[str, Any], own: Record | None) -> Record:
    name = required_text(source, "name")
    code = optional_text(source, "product_code")
    if code is not None:
        for other in ctx.collection("products").find("product_code", code):
            if own is None or other["id"] != own["id"]:
                raise Invalid.field("product_code", "(has already been taken)")
    accounts = ctx.collection("accounts")
    track = to_flag(source.get("track_inventory"))
    inventory = account_by(ctx, source, "inventory_asset_account", "Account")
    if track and (inventory is None or inventory["category_id"] != INVENTORY):
        raise Invalid.field(
            "inventory_asset_account", "(An Inventory account is needed to track inventory)"
        )
    categories = _categories(ctx, source.get("product_category_ids"))
    sell_tax = _tax(ctx, source.get("sell_tax_id"), "sell_tax_id")
    buy_tax = _tax(ctx, source.get("buy_tax_id"), "buy_tax_id")
    return {
        "name": name,
        "product_code": code,
        "custom_id": optional_text(source, "custom_id"),
        "description": optional_text(source, "description"),
        "is_sold": to_flag(source.get("is_sold", True)),
        "sell_price_per_unit": number(source.get("sell_price_per_unit"), "sell_price_per_unit"),
        "sell_account": account_ref(
            account_by(ctx, source, "sell_account", "Account")
            or accounts.get(ctx.company.default_accounts["default_sale_account"])
        ),
        "sell_tax": sell_tax,
        "taxable_sell": to_flag(source.get("taxable_sell")),
        "is_bought": to_flag(source.get("is_bought", True)),
        "buy_price_per_unit": number(source.get("buy_price_per_unit"), "buy_price_per_unit"),
        "buy_account": account_ref(
            account_by(ctx, source, "buy_account", "Account")
            or accounts.get(ctx.company.default_accounts["default_cost_of_good_sold"])
        ),
        "buy_tax": buy_tax,
        "taxable_buy": to_flag(source.get("taxable_buy")),
        "track_inventory": track,
        "inventory_asset_account": account_ref(inventory) if track else None,
        "product_categories": categories,
        "unit": _unit(ctx, source),
        "archive": own["archive"] if own else False,
        # kept up to date by the invoices that sell this product
        "transaction_count": own["transaction_count"] if own else 0,
    }


def _unit(ctx: Context, source: dict[str, Any]) -> dict[str, Any]:
    """Jurnal marks `unit_name` required but live integrations omit it; default to Buah. A unit
    the company does not have is refused: units are made through `POST /product_units`."""
    try:
        unit = resolve(
            ctx,
            "product_units",
            by_id=source.get("unit_id"),
            by_name=source.get("unit_name") or "Buah",
        )
    except Unresolved as missing:
        raise Invalid.field("unit", f"(Unit {missing.sent} not found)") from None
    if unit is None:
        raise Invalid.field("unit", "(Unit not found)")
    return {"id": unit["id"], "name": unit["name"]}


def _tax(ctx: Context, tax_id: object, field: str) -> dict[str, Any] | None:
    try:
        tax = resolve(ctx, "taxes", by_id=tax_id)
    except Unresolved:
        raise Invalid.field(field, "(Tax not found)") from None
    if tax is None:
        return None
    return {"id": tax["id"], "name": tax["name"], "rate": tax["rate"]}


def _categories(ctx: Context, ids: object) -> list[dict[str, Any]]:
    if ids in (None, ""):
        return []
    if not isinstance(ids, list):
        raise Invalid.field("product_category_ids", "(Must be a list)")
    categories = []
    for category_id in ids:
        try:
            category = resolve(ctx, "product_categories", by_id=category_id)
        except Unresolved:
            raise Invalid.field("product_category_ids", "(Product category not found)") from None
        if category is not None:
            categories.append({"id": category["id"], "name": category["name"]})
    return categories


def render_product(ctx: Context, record: Record) -> dict[str, Any]:
    sell_tax = record["sell_tax"]
    buy_tax = record["buy_tax"]
    return {
        "id": record["id"],
        "name": record["name"],
        "product_code": record["product_code"],
        "source": "apikey",
        "description": record["description"],
        "active": not record["archive"],
        "is_bought": record["is_bought"],
        "is_sold": record["is_sold"],
        **stamps(record),
        "custom_id": record["custom_id"],
        "archive": record["archive"],
        "track_inventory": record["track_inventory"],
        "taxable_buy": record["taxable_buy"],
        "taxable_sell": record["taxable_sell"],
        "deletable": record["transaction_count"] == 0,
        "editable": True,
        "unit": record["unit"],
        "product_categories": record["product_categories"] or None,
        "product_categories_string": ", ".join(c["name"] for c in record["product_categories"]),
        "is_bundle": False,
        "quantity": "0",
        "buy_price_per_unit": money(record["buy_price_per_unit"]),
        "buy_price_per_unit_currency_format": rupiah(record["buy_price_per_unit"]),
        "sell_price_per_unit": money(record["sell_price_per_unit"]),
        "sell_price_per_unit_currency_format": rupiah(record["sell_price_per_unit"]),
        "sell_account": record["sell_account"],
        "buy_account": record["buy_account"],
        "inventory_asset_account": record["inventory_asset_account"],
        "sell_tax_id": sell_tax["id"] if sell_tax else None,
        "sell_tax": _render_tax(sell_tax),
        "buy_tax_id": buy_tax["id"] if buy_tax else None,
        "buy_tax": _render_tax(buy_tax),
        "company_currency": {"code": "IDR", "symbol": "Rp."},
    }


def _render_tax(tax: dict[str, Any] | None) -> dict[str, Any]:
    if tax is None:
        return {"id": None, "name": None, "rate": None, "is_compound": None, "is_witholding": None}
    return {
        "id": tax["id"],
        "name": tax["name"],
        "rate": money(tax["rate"]),
        "is_compound": False,
        "is_witholding": False,
    }


def check_product_delete(ctx: Context, record: Record) -> None:
    if record["transaction_count"]:
        raise Invalid.message("Product has transactions and cannot be deleted")


PRODUCTS = Resource(
    name="products",
    singular="product",
    build=build_product,
    render=render_product,
    sort_keys={
        "product_code": lambda _, r: r["product_code"],
        "name": lambda _, r: r["name"],
        "sell_price_per_unit": lambda _, r: r["sell_price_per_unit"],
        "buy_price_per_unit": lambda _, r: r["buy_price_per_unit"],
        "quantity_inventory": lambda _, r: 0,
        "last_avg_price": lambda _, r: 0,
        "last_buy_price": lambda _, r: r["buy_price_per_unit"],
        "product_categories_name": lambda _, r: ", ".join(
            c["name"] for c in r["product_categories"]
        ),
    },
    check_delete=check_product_delete,
    batch_status=200,
)
