"""Master data: Moka customers, library and taxes as Jurnal customers, products and taxes."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from domain.chart import Account, chart_from_jurnal
from domain.mapping import (
    customer_display_names,
    customer_documents,
    product_documents,
    tax_documents,
)
from domain.mapping.errors import AccountNotInJurnal
from domain.mapping.setting import default_setting

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "moka_examples"
SETTING = default_setting("2624")
# The documented English example company (reference §6.1), its default accounts as its chart.
ACTIVE = json.loads(
    (
        Path(__file__).parents[1] / "fixtures" / "jurnal_examples" / "get_companies_active.200.json"
    ).read_text()
)
CHART = chart_from_jurnal([a for a in ACTIVE["default_accounts"].values() if a is not None], ACTIVE)
NAMED = replace(SETTING, name_prefix="Outlet Jakarta Selatan", name_suffix="JKS")
SAFE = re.compile(r"[A-Za-z0-9_-]+")


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())["data"]


def customer(moka_id: int, name: str, **fields: object) -> dict:
    return {
        "id": moka_id,
        "name": name,
        "email": None,
        "phone": None,
        "is_deleted": False,
        **fields,
    }


def test_customers_sharing_a_name_keep_it_for_the_oldest_and_add_the_moka_id_for_the_others():
    names = customer_display_names(
        [customer(30, "San"), customer(12, "san "), customer(44, "Budi"), customer(50, "")]
    )
    assert names == {12: "san", 30: "San (30)", 44: "Budi", 50: "(50)"}


def test_a_new_namesake_never_renames_an_existing_customer():
    before = customer_display_names([customer(12, "San")])
    after = customer_display_names([customer(12, "San"), customer(99, "San")])
    assert after[12] == before[12] == "San"
    assert after[99] == "San (99)"


def test_names_already_taken_in_jurnal_are_never_given_to_a_moka_customer():
    names = customer_display_names([customer(5, "Pelanggan Umum")], taken=["pelanggan umum"])
    assert names == {5: "Pelanggan Umum (5)"}


def test_customer_documents_from_the_official_example():
    rows = example("get_v1_businesses_customers.200.json")["customers"]
    [document] = customer_documents(rows, customer_display_names(rows))

    assert document.kind == "customer" and document.resource == "customers"
    assert document.custom_id == "moka-customer-1950404"
    assert document.body == {
        "customer": {
            "display_name": "San",
            "custom_id": "moka-customer-1950404",
            "source": "Moka",
            "email": "sdf@mail.com",
            "mobile": "6281288",
        }
    }


def test_deleted_customers_are_not_created_but_still_hold_their_name():
    rows = [customer(1, "San", is_deleted=True), customer(2, "San", city="Bogor")]
    names = customer_display_names(rows)
    [document] = customer_documents(rows, names)
    assert document.body["customer"]["display_name"] == "San (2)"
    assert document.body["customer"]["address"] == "Bogor"


def test_an_unusual_email_is_left_out_rather_than_failing_the_customer():
    rows = [customer(1, "Fitri", email="fitriana__adhisti@yahoo.com")]
    [document] = customer_documents(rows, customer_display_names(rows))
    assert "email" not in document.body["customer"]


def test_each_variant_and_modifier_option_is_a_product_named_and_coded_with_the_naming():
    data = example("get_v1_outlets_items.200.json")
    documents = product_documents(
        NAMED, data["items"], example("get_v1_outlets_gratuities.200.json")["gratuity"], chart=CHART
    )
    by_id = {d.custom_id: d.body["product"] for d in documents}

    americano = by_id["moka-2624-variant-1130275"]
    assert americano["name"] == "Outlet Jakarta Selatan | Americano | JKS"
    assert americano["product_code"] == "Outlet Jakarta Selatan | MOKA-1130275 | JKS"
    # Priced by sales type: the default sales type's price is the list price.
    assert americano["sell_price_per_unit"] == "4000"
    assert americano["is_bought"] is False and americano["is_sold"] is True
    # The company's own defaults, "Service Revenue" and "Cost of Sales", by number.
    assert americano["sell_account_number"] == "4-40000"
    assert americano["buy_account_number"] == "5-50000"
    assert americano["track_inventory"] is False

    mozzarella = by_id["moka-2624-option-2473420"]
    assert mozzarella["name"] == "Outlet Jakarta Selatan | Cheese Topping - Mozzarella | JKS"
    assert mozzarella["sell_price_per_unit"] == "1500"
    assert by_id["moka-2624-gratuity-951"]["name"].endswith("| Service Charge | JKS")
    assert by_id["moka-2624-rounding"]["name"] == "Outlet Jakarta Selatan | Pembulatan | JKS"
    assert all(SAFE.fullmatch(d.custom_id) for d in documents)


def test_with_track_inventory_only_variants_moka_tracks_become_tracked_products():
    items = [
        {
            "id": 1,
            "name": "Kopi",
            "item_variants": [
                {"id": 11, "name": "Hot", "sku": "K-H", "price": 20000, "track_stock": True},
                {"id": 12, "name": "Ice", "sku": "", "price": 22000, "track_stock": False},
            ],
        }
    ]
    tracking = replace(SETTING, track_inventory=True)
    hot, ice, _rounding = (
        d.body["product"] for d in product_documents(tracking, items, chart=CHART)
    )
    assert (hot["name"], hot["product_code"]) == ("Kopi - Hot", "K-H")
    assert hot["track_inventory"] is True
    assert hot["inventory_asset_account_id"] == 7315  # the company's default "Inventory"
    assert ice["track_inventory"] is False and "inventory_asset_account_id" not in ice
    assert ice["product_code"] == "MOKA-12"
    untracked = [d.body["product"]["track_inventory"] for d in product_documents(SETTING, items)]
    assert untracked == [False, False, False]


def test_deleted_variants_are_skipped_and_repeated_names_and_codes_made_unique():
    items = [
        {"id": 1, "name": "Es Teh", "item_variants": [{"id": 11, "sku": "T1", "price": 5000}]},
        {"id": 2, "name": "es teh", "item_variants": [{"id": 21, "sku": "T1", "price": 6000}]},
        {
            "id": 3,
            "name": "Es Jeruk",
            "item_variants": [{"id": 31, "sku": "J", "price": 7000, "is_deleted": True}],
        },
    ]
    products = [d.body["product"] for d in product_documents(SETTING, items)]
    assert [(p["name"], p["product_code"]) for p in products[:2]] == [
        ("Es Teh", "T1"),
        ("es teh (21)", "T1 (21)"),
    ]
    assert "Es Jeruk" not in {p["name"] for p in products}


def test_taxes_are_named_with_the_naming_and_combined_for_sales_that_carry_several():
    taxes = [
        {"id": 8, "name": "PB1", "amount": 10.0},
        {"id": 9, "name": "Retribusi", "amount": 2.5},
        {"id": 7, "name": "Old", "amount": 5.0, "is_deleted": True},
    ]
    documents = tax_documents(NAMED, taxes)
    assert [(d.custom_id, d.body["tax"]["name"], d.body["tax"]["rate"]) for d in documents] == [
        ("moka-2624-tax-8", "Outlet Jakarta Selatan | PB1 | JKS", "10"),
        ("moka-2624-tax-9", "Outlet Jakarta Selatan | Retribusi | JKS", "2.5"),
        ("moka-2624-tax-8-9", "Outlet Jakarta Selatan | PB1 + Retribusi | JKS", "12.5"),
    ]
    assert all(d.resource == "taxes" for d in documents)


def test_many_taxes_get_only_the_combination_of_all_of_them():
    taxes = [{"id": i, "name": f"T{i}", "amount": 1.0} for i in range(1, 7)]
    documents = tax_documents(SETTING, taxes)
    assert len(documents) == 7
    assert documents[-1].body["tax"] == {
        "name": "T1 + T2 + T3 + T4 + T5 + T6",
        "rate": "6",
        "is_witholding": False,
        "custom_id": "moka-2624-tax-1-2-3-4-5-6",
    }


def test_two_moka_taxes_of_one_name_are_two_jurnal_taxes_told_apart_by_custom_id():
    taxes = [{"id": 1, "name": "PB1", "amount": 10.0}, {"id": 2, "name": "pb1", "amount": 11.0}]
    first, second, _combined = (d.body["tax"] for d in tax_documents(SETTING, taxes))
    assert (first["name"], first["rate"]) == ("PB1", "10")
    assert (second["name"], second["rate"]) == ("pb1", "11")
    assert first["custom_id"] != second["custom_id"]


def test_products_take_the_accounts_the_setting_names_from_the_chart():
    chart = replace(CHART, accounts=(*CHART.accounts, Account(9001, "Penjualan Kopi", "4-40010")))
    chosen = replace(SETTING, sales_account="penjualan kopi")
    (rounding,) = (d.body["product"] for d in product_documents(chosen, [], chart=chart))
    assert rounding["sell_account_number"] == "4-40010"


def test_a_product_account_missing_from_the_chart_fails_with_its_name():
    chosen = replace(SETTING, purchase_account="Beban Pokok Pendapatan")
    with pytest.raises(AccountNotInJurnal, match="Beban Pokok Pendapatan"):
        product_documents(chosen, [], chart=CHART)


def test_taxes_carry_both_accounts_by_id_and_name_the_companys_defaults_unless_chosen():
    taxes = [{"id": 1, "name": "PB1", "amount": 10.0}]
    (default,) = (d.body["tax"] for d in tax_documents(SETTING, taxes, CHART))
    assert (default["sell_tax_account_id"], default["sell_tax_account_name"]) == (7237, "VAT Out")
    assert (default["buy_tax_account_id"], default["buy_tax_account_name"]) == (7234, "VAT In")
    chosen = replace(SETTING, sell_tax_account="2-20203")
    (tax,) = (d.body["tax"] for d in tax_documents(chosen, taxes, CHART))
    assert (tax["sell_tax_account_id"], tax["sell_tax_account_name"]) == (7236, "Unearned Revenue")
