"""What a fresh Jurnal company holds (`reference/jurnal-api.md` §6.2–§6.4, §11): the default chart
of accounts in Indonesian (`"id"`) or English (`"en"`, like the documented example company:
"Cash", "Service Revenue", "VAT Out"), the company's default accounts, PPN at today's 11% and PB1
10%, the five terms, four payment methods, two units and one warehouse.

Both charts have the same numbers; only the names differ. The English company has units Buah and
Unit (the documented examples show both) but no "Pcs": a sync must look its unit up and create it
through `POST /product_units`, as on a real company that never used it.
"""

from __future__ import annotations

from .errors import Invalid
from .resources.base import Context, insert
from .resources.master import (
    ACCOUNTS,
    PAYMENT_METHODS,
    PRODUCT_UNITS,
    TAXES,
    TERMS,
    WAREHOUSES,
)

# (number, Indonesian name, English name, category id). Indonesian names marked * in the
# reference, and the PB1 account, are inferred.
ACCOUNT_ROWS = (
    ("1-10001", "Kas", "Cash", 3),
    ("1-10002", "Rekening Bank", "Bank Account", 3),
    ("1-10100", "Piutang Usaha", "Account Receivable", 1),
    ("1-10200", "Persediaan Barang", "Inventory", 4),
    ("1-10402", "Biaya Dibayar Di Muka", "Prepaid expenses", 2),
    ("1-10500", "PPN Masukan", "VAT In", 2),
    ("1-10705", "Aset Tetap - Perlengkapan Kantor", "Fixed Assets - Office Equipment", 5),
    ("2-20100", "Hutang Usaha", "Trade Payable", 8),
    ("2-20203", "Pendapatan Diterima Di Muka", "Unearned Revenue", 10),
    ("2-20500", "PPN Keluaran", "VAT Out", 10),
    ("2-20501", "Hutang Pajak Daerah (PB1)", "Local Tax Payable (PB1)", 10),
    ("3-30999", "Ekuitas Saldo Awal", "Opening Balance Equity", 12),
    ("4-40000", "Pendapatan", "Service Revenue", 13),
    ("4-40100", "Diskon Penjualan", "Sales Discount", 13),
    ("4-40200", "Retur Penjualan", "Sales Return", 13),
    ("5-50000", "Beban Pokok Pendapatan", "Cost of Sales", 15),
    ("5-50300", "Pengiriman & Pengangkutan", "Shipping/Freight & Delivery", 15),
    ("6-60216", "Beban Barang Rusak", "Waste Goods Expense", 16),
    ("7-70099", "Pendapatan Lain - lain", "Other Income", 14),
    ("8-80100", "Penyesuaian Persediaan", "Inventory Adjustments", 17),
)
CHARTS = ("id", "en")
LANGUAGES = {"id": {"id": 2, "name": "Bahasa Indonesia"}, "en": {"id": 1, "name": "English"}}

# `companies/active` → `default_accounts` (§6.1), by the number of the seeded account. The
# company keeps them by id, so renaming or renumbering an account keeps it the default.
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
TAXES_SEEDED = (
    ("PPN", "11", "2-20500"),
    ("PB1", "10", "2-20501"),
)
TERMS_SEEDED = (
    ("Cash on Delivery", 0),
    ("Net 15", 15),
    ("Net 30", 30),
    ("Net 60", 60),
    ("Custom", 0),
)
DEFAULT_TERM = "Net 30"
PAYMENT_METHOD_NAMES = ("Cash", "Check", "Bank Transfer", "Credit Card")
UNITS = {"id": ("Buah", "Pcs"), "en": ("Buah", "Unit")}
WAREHOUSES_SEEDED = {
    "id": {"name": "Gudang Utama", "code": "GU-01"},
    "en": {"name": "Main Warehouse", "code": "WH-01"},
}


def check_chart(chart: str) -> str:
    if chart not in CHARTS:
        raise Invalid.field("chart", f"(Must be one of {', '.join(CHARTS)})")
    return chart


def seed_company(ctx: Context) -> None:
    """Runs through the resources' own validation, so the seed obeys the same rules."""
    chart = check_chart(ctx.company.chart)
    by_number = {}
    for account_number, name_id, name_en, category in ACCOUNT_ROWS:
        name = name_en if chart == "en" else name_id
        by_number[account_number] = insert(
            ctx, ACCOUNTS, {"name": name, "number": account_number, "category_id": category}
        )
    ctx.company.default_accounts = {
        key: by_number[number]["id"] for key, number in DEFAULT_ACCOUNTS.items()
    }
    purchase_tax = by_number[DEFAULT_ACCOUNTS["default_purchase_tax_account"]]["id"]
    for name, rate, account in TAXES_SEEDED:
        insert(
            ctx,
            TAXES,
            {
                "name": name,
                "rate": rate,
                "sell_tax_account_id": by_number[account]["id"],
                "buy_tax_account_id": purchase_tax,
            },
        )
    for name, days in TERMS_SEEDED:
        insert(ctx, TERMS, {"name": name, "longetivity": days, "is_default": name == DEFAULT_TERM})
    for name in PAYMENT_METHOD_NAMES:
        insert(ctx, PAYMENT_METHODS, {"name": name})
    for name in UNITS[chart]:
        insert(ctx, PRODUCT_UNITS, {"name": name})
    insert(ctx, WAREHOUSES, WAREHOUSES_SEEDED[chart])
