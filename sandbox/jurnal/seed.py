"""What a fresh Jurnal company holds (`reference/jurnal-api.md` §6.2–§6.4, §11): the default
Indonesian chart of accounts, PPN at today's 11% and PB1 10%, the five terms, four payment
methods, units Buah and Pcs, and one warehouse."""

from __future__ import annotations

from .resources.base import Context, insert
from .resources.master import (
    ACCOUNTS,
    PAYMENT_METHODS,
    PRODUCT_UNITS,
    TAXES,
    TERMS,
    WAREHOUSES,
)

# (number, Indonesian name, category id). Names marked * in the reference are inferred.
CHART = (
    ("1-10001", "Kas", 3),
    ("1-10002", "Rekening Bank", 3),
    ("1-10100", "Piutang Usaha", 1),
    ("1-10200", "Persediaan Barang", 4),
    ("1-10402", "Biaya Dibayar Di Muka", 2),
    ("1-10500", "PPN Masukan", 2),
    ("1-10705", "Aset Tetap - Perlengkapan Kantor", 5),
    ("2-20100", "Hutang Usaha", 8),
    ("2-20203", "Pendapatan Diterima Di Muka", 10),
    ("2-20500", "PPN Keluaran", 10),
    ("2-20501", "Hutang Pajak Daerah (PB1)", 10),
    ("3-30999", "Ekuitas Saldo Awal", 12),
    ("4-40000", "Pendapatan", 13),
    ("4-40100", "Diskon Penjualan", 13),
    ("4-40200", "Retur Penjualan", 13),
    ("5-50000", "Beban Pokok Pendapatan", 15),
    ("5-50300", "Pengiriman & Pengangkutan", 15),
    ("6-60216", "Beban Barang Rusak", 16),
    ("7-70099", "Pendapatan Lain - lain", 14),
    ("8-80100", "Penyesuaian Persediaan", 17),
)
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
UNITS = ("Buah", "Pcs")
WAREHOUSE = {"name": "Gudang Utama", "code": "GU-01"}


def seed_company(ctx: Context) -> None:
    """Runs through the resources' own validation, so the seed obeys the same rules."""
    for account_number, name, category in CHART:
        insert(ctx, ACCOUNTS, {"name": name, "number": account_number, "category_id": category})
    for name, rate, account in TAXES_SEEDED:
        insert(
            ctx,
            TAXES,
            {
                "name": name,
                "rate": rate,
                "sell_tax_account_number": account,
                "buy_tax_account_number": "1-10500",
            },
        )
    for name, days in TERMS_SEEDED:
        insert(ctx, TERMS, {"name": name, "longetivity": days, "is_default": name == DEFAULT_TERM})
    for name in PAYMENT_METHOD_NAMES:
        insert(ctx, PAYMENT_METHODS, {"name": name})
    for name in UNITS:
        insert(ctx, PRODUCT_UNITS, {"name": name})
    insert(ctx, WAREHOUSES, WAREHOUSE)
