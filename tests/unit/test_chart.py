"""A company's own chart: finding the accounts a setting names, the company's defaults, and the
422 that names a missing account with the closest existing ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.chart import Account, Chart, chart_from_jurnal, check_setting_accounts
from domain.errors import SettingInvalid

ACTIVE = json.loads(
    (
        Path(__file__).parents[1] / "fixtures" / "jurnal_examples" / "get_companies_active.200.json"
    ).read_text()
)
ROWS = [
    {"id": 1, "name": "Cash", "number": "1-10001", "category": "Cash & Bank", "category_id": 3},
    {"id": 2, "name": "Bank Account", "number": "1-10002", "category_id": 3},
    {"id": 7316, "name": "Service Revenue", "number": "4-40000", "category_id": 13},
    {"id": 7239, "name": "Sales Return", "number": "4-40200", "category_id": 13},
]
CHART = chart_from_jurnal(ROWS, ACTIVE)


def test_an_account_is_found_by_number_or_by_name_in_any_case():
    assert CHART.find("4-40000") == Account(7316, "Service Revenue", "4-40000", 13)
    assert CHART.find(" service revenue ") == CHART.find("4-40000")
    assert CHART.find("Pendapatan") is None


def test_an_empty_field_is_the_companys_own_default_from_companies_active():
    assert CHART.account_for("sales_account", None) == CHART.find("Service Revenue")
    tax = CHART.account_for("sell_tax_account", None)
    assert tax is not None and (tax.id, tax.name, tax.number) == (7237, "VAT Out", "2-20500")
    assert CHART.account_for("sales_account", "Sales Return") == CHART.find("4-40200")


def test_a_missing_account_is_refused_naming_it_and_the_closest_accounts():
    with pytest.raises(SettingInvalid) as refused:
        check_setting_accounts(
            {"sales_account": "Sales Revenue", "payment_accounts": {"cash": {"account": "Kas"}}},
            CHART,
        )
    fields = refused.value.fields
    assert fields["sales_account"] == (
        "names 'Sales Revenue', which is not an account of this Jurnal company; closest: "
        "Sales Return (4-40200), Service Revenue (4-40000)"
    )
    assert fields["payment_accounts.cash.account"].startswith("names 'Kas', which is not")


def test_money_is_deposited_only_into_cash_and_bank_accounts():
    check_setting_accounts({"payment_accounts": {"edc": {"account": "bank account"}}}, CHART)
    with pytest.raises(SettingInvalid) as refused:
        check_setting_accounts({"payment_accounts": {"edc": {"account": "4-40000"}}}, CHART)
    assert "not a Cash & Bank account" in refused.value.fields["payment_accounts.edc.account"]


def test_accounts_left_empty_are_not_checked():
    check_setting_accounts({"sales_account": None, "payment_accounts": {}}, Chart(()))
